/**
 * Streamed tool calls of the OpenAI protocol: each chunk's `delta.tool_calls` carries fragments
 * keyed by `index` (the id, type and name usually in the first, the arguments split over many), and
 * several parallel calls may interleave. This accumulates them with every length and count bounded
 * (tools/bounds.ts) and turns contradictions (a call whose id or name changes) into a ProviderError.
 * A fragment without `index` (servers that send one whole call per chunk) continues the call with
 * its id, or starts a new one when the id is new, or continues the last call when it has no id.
 */
import { argumentsText } from "./openai-wire.js";
import { badCall, checkedCall, MAX_ARGUMENT_CHARS, MAX_NAME_CHARS, MAX_TOOL_CALLS, uniqueIds } from "./tools/bounds.js";
import type { ToolCall } from "./types.js";

interface Partial {
  id?: string;
  name?: string;
  args: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export class ToolCallDeltas {
  private readonly calls = new Map<number, Partial>();
  private last = -1;

  get size(): number {
    return this.calls.size;
  }

  /** One chunk's `delta.tool_calls` (absent/null: nothing to do). */
  push(v: unknown): void {
    if (v === undefined || v === null) return;
    if (!Array.isArray(v)) throw badCall("streamed tool_calls is not a list");
    for (const d of v) this.pushOne(d);
  }

  /** The calls in index order, each checked; the accumulated state is kept (finish may be called again). */
  finish(): ToolCall[] {
    return uniqueIds([...this.calls.entries()].sort(([a], [b]) => a - b).map(([i, c]) => checkedCall(`tool call at index ${i}`, c.id, c.name, c.args)));
  }

  private slotOf(d: Record<string, unknown>): number {
    if (d.index !== undefined && d.index !== null) {
      const i = d.index;
      if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= MAX_TOOL_CALLS)
        throw badCall(`streamed tool call index ${JSON.stringify(i).slice(0, 40)} (an integer from 0 to ${MAX_TOOL_CALLS - 1} expected)`);
      return i;
    }
    if (typeof d.id === "string" && d.id) {
      for (const [i, c] of this.calls) if (c.id === d.id) return i;
      return this.calls.size === 0 ? 0 : Math.max(...this.calls.keys()) + 1;
    }
    return Math.max(this.last, 0);
  }

  private pushOne(d: unknown): void {
    if (!isRecord(d)) throw badCall("a streamed tool call fragment is not an object");
    const slot = this.slotOf(d);
    if (!this.calls.has(slot) && this.calls.size >= MAX_TOOL_CALLS) throw badCall(`more than ${MAX_TOOL_CALLS} calls in one answer`);
    const c = this.calls.get(slot) ?? { args: "" };
    this.calls.set(slot, c);
    this.last = slot;
    const where = `tool call at index ${slot}`;
    if (d.id !== undefined && d.id !== null && d.id !== "") {
      if (typeof d.id !== "string" || d.id.length > MAX_NAME_CHARS) throw badCall(`${where}: id is not a short string`);
      if (c.id !== undefined && c.id !== d.id) throw badCall(`${where}: id changed from ${c.id} to ${d.id}`);
      c.id = d.id;
    }
    const f = d.function;
    if (f === undefined || f === null) return;
    if (!isRecord(f)) throw badCall(`${where}: function is not an object`);
    if (f.name !== undefined && f.name !== null && f.name !== "") {
      if (typeof f.name !== "string" || f.name.length > MAX_NAME_CHARS) throw badCall(`${where}: name is not a short string`);
      if (c.name !== undefined && c.name !== f.name) throw badCall(`${where}: name changed from ${c.name} to ${f.name.slice(0, 80)}`);
      c.name = f.name;
    }
    const piece = argumentsText(where, f.arguments);
    if (c.args.length + piece.length > MAX_ARGUMENT_CHARS) throw badCall(`${where}: arguments longer than ${MAX_ARGUMENT_CHARS} characters`);
    c.args += piece;
  }
}
