/**
 * Streamed `tool_use` blocks of Anthropic's Messages API: `content_block_start` names the call (id,
 * name, an input object, usually empty), `input_json_delta` events carry the input's JSON in
 * fragments, keyed by the block's `index`. Accumulated here with the shared bounds (tools/bounds.ts);
 * the input's text is kept as streamed (never parsed), and a call that streamed no fragment gets its
 * start input serialised ("{}" for a call without arguments, as a non-streamed answer would give).
 */
import { badCall, checkedCall, MAX_ARGUMENT_CHARS, MAX_TOOL_CALLS, uniqueIds } from "./tools/bounds.js";
import type { ToolCall } from "./types.js";

interface Partial {
  id?: string;
  name?: string;
  start: unknown;
  json: string;
}

/** Content blocks in one answer (text and calls together); far above what a real answer has. */
const MAX_BLOCKS = 4 * MAX_TOOL_CALLS;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function blockIndex(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= MAX_BLOCKS)
    throw badCall(`content block index ${JSON.stringify(v)?.slice(0, 40)} (an integer from 0 to ${MAX_BLOCKS - 1} expected)`);
  return v;
}

export class ToolUseBlocks {
  private readonly calls = new Map<number, Partial>();

  /** A `content_block_start`; blocks other than tool_use are not ours. */
  start(index: unknown, block: unknown): void {
    if (!isRecord(block) || block.type !== "tool_use") return;
    const i = blockIndex(index);
    if (this.calls.has(i)) throw badCall(`content block ${i} started twice`);
    if (this.calls.size >= MAX_TOOL_CALLS) throw badCall(`more than ${MAX_TOOL_CALLS} calls in one answer`);
    if (typeof block.name !== "string" || (block.id !== undefined && typeof block.id !== "string"))
      throw badCall(`content block ${i}: tool_use without a string name and id`);
    if (block.input !== undefined && block.input !== null && !isRecord(block.input))
      throw badCall(`content block ${i}: tool_use input is not an object (${Array.isArray(block.input) ? "a list" : typeof block.input})`);
    this.calls.set(i, { name: block.name, ...(typeof block.id === "string" ? { id: block.id } : {}), start: block.input, json: "" });
  }

  /** An `input_json_delta` for block `index`. */
  delta(index: unknown, partialJson: unknown): void {
    const i = blockIndex(index);
    const c = this.calls.get(i);
    if (!c) throw badCall(`input_json_delta for content block ${i}, which is not a tool_use block`);
    if (typeof partialJson !== "string") throw badCall(`content block ${i}: partial_json is not a string`);
    if (c.json.length + partialJson.length > MAX_ARGUMENT_CHARS) throw badCall(`content block ${i}: arguments longer than ${MAX_ARGUMENT_CHARS} characters`);
    c.json += partialJson;
  }

  get size(): number {
    return this.calls.size;
  }

  finish(): ToolCall[] {
    return uniqueIds(
      [...this.calls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([i, c]) => checkedCall(`tool_use block ${i}`, c.id, c.name, c.json !== "" ? c.json : startInput(c.start))),
    );
  }
}

function startInput(v: unknown): string {
  if (v === undefined || v === null) return "{}";
  return JSON.stringify(v);
}
