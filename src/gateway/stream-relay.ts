/**
 * Re-emits an upstream's server-sent events with every string scanned. The texts a model writes
 * piece by piece — a choice's content, reasoning and refusal, each tool call's arguments, a
 * completion's text — go through a ResponseScanner each (hold-back window), so a value split
 * across chunks is seen whole; every other string of an event (ids, names, error messages) is
 * scanned as it comes, and data that is not JSON is scanned as text. What is still held is flushed
 * as one more event shaped like the upstream's before finish_reason or the end. `[DONE]` is not
 * passed on: the caller writes it once the audit row is committed, so a client that saw `[DONE]`
 * has an audit row.
 */
import { SseDecoder } from "../providers/index.js";
import type { Usage } from "./answer-scan.js";
import { replaceSlots, walkJson } from "./json-walk.js";
import { ResponseScanner, type ResponseScanOptions, scanAnswer } from "./response-scan.js";

export type Kind = "chat" | "completions" | "embeddings";
export type { Usage } from "./answer-scan.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** The longest event relayed (characters); a longer one ends the stream as failed. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * String fields of a chat delta that are names, not streamed text; every other string field of a
 * delta (`content`, `reasoning_content`, `reasoning`, `refusal`, and any a server adds, such as
 * `text`) is streamed text with its own hold-back window: scanned per event, a value split across
 * two events of such a field went out unseen.
 */
const DELTA_NAMES = new Set(["role", "name", "type", "id", "tool_call_id"]);
const heldField = (delta: Obj, k: string) => typeof delta[k] === "string" && !DELTA_NAMES.has(k);

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [c, n] of Object.entries(from)) into[c] = (into[c] ?? 0) + n;
}

export class StreamRelay {
  private readonly sse = new SseDecoder();
  /** One scanner per choice and streamed field ("content", "tool:2", …). */
  private readonly scanners = new Map<number, Map<string, ResponseScanner>>();
  private readonly counts: Record<string, number> = {};
  private template: Obj | undefined;
  usage: Usage | undefined;
  /** The upstream sent `[DONE]`. */
  done = false;

  constructor(
    private readonly kind: Kind,
    private readonly opts: ResponseScanOptions,
    private readonly write: (data: string) => void,
  ) {}

  /** Characters received since the last complete event. */
  private sinceEvent = 0;
  /** A CR that ended the last piece: it may be the first half of a CRLF. */
  private pendingCr = false;

  /**
   * Decoded upstream text, as it arrives. CR, LF and CRLF all end a line in SSE (a client reads them
   * so); the decoder splits on LF only, so the others become LF first. Otherwise `\r\r` between two
   * events made them one non-JSON event, scanned with JSON syntax between the halves of a value.
   */
  push(text: string): void {
    let t = this.pendingCr ? `\r${text}` : text;
    this.pendingCr = t.endsWith("\r");
    if (this.pendingCr) t = t.slice(0, -1);
    const events = this.sse.push(t.replace(/\r\n?/g, "\n"));
    // An event that never ends would be held (and re-searched for its end on every piece) without bound.
    this.sinceEvent = events.length > 0 ? 0 : this.sinceEvent + t.length;
    if (this.sinceEvent > MAX_EVENT_CHARS) throw new Error(`the upstream sent an event of more than ${MAX_EVENT_CHARS / 1024 / 1024} MiB`);
    for (const ev of events) if (!this.done) this.onEvent(ev.data);
  }

  /** The upstream ended: flush what is held; the classes found in the answer. */
  finish(): Record<string, number> {
    if (this.pendingCr) this.push("\n");
    for (const ev of this.sse.end()) if (!this.done) this.onEvent(ev.data);
    for (const i of this.scanners.keys()) this.flushChoice(i);
    const counts: Record<string, number> = { ...this.counts };
    for (const byField of this.scanners.values()) for (const sc of byField.values()) addCounts(counts, sc.counts);
    return counts;
  }

  private scanner(i: number, field: string): ResponseScanner {
    let byField = this.scanners.get(i);
    if (!byField) {
      byField = new Map();
      this.scanners.set(i, byField);
    }
    let sc = byField.get(field);
    if (!sc) {
      sc = new ResponseScanner(this.opts);
      byField.set(field, sc);
    }
    return sc;
  }

  private send(data: string): void {
    this.write(`data: ${data}\n\n`);
  }

  /** Everything still held for choice i, as one event shaped like the upstream's. */
  private flushChoice(i: number): void {
    const choice = this.heldOf(i);
    if (choice) this.send(JSON.stringify({ ...(this.template ?? {}), choices: [choice], usage: null }));
  }

  /** A choice object carrying what is still held for choice i, or undefined when nothing is. */
  private heldOf(i: number): Obj | undefined {
    const byField = this.scanners.get(i);
    if (!byField) return undefined;
    const delta: Obj = {};
    const calls: Obj[] = [];
    for (const [field, sc] of byField) {
      const rest = sc.flush();
      if (!rest) continue;
      if (field.startsWith("tool:")) calls.push({ index: Number(field.slice(5)), function: { arguments: rest } });
      else delta[field] = rest;
    }
    if (calls.length) delta.tool_calls = calls;
    if (Object.keys(delta).length === 0) return undefined;
    return this.kind === "completions" ? { index: i, text: delta.text ?? "" } : { index: i, delta };
  }

  private onEvent(data: string): void {
    if (data === "[DONE]") {
      this.done = true;
      return;
    }
    let j: unknown;
    try {
      j = JSON.parse(data);
    } catch {
      const r = scanAnswer(data, this.opts);
      addCounts(this.counts, r.counts);
      // One data line per line: a raw line break would end the field, and `\n\ndata: [DONE]` a whole event.
      this.write(
        `${r.text
          .split(/\r\n|\r|\n/)
          .map((l) => `data: ${l}`)
          .join("\n")}\n\n`,
      );
      return;
    }
    if (!isObj(j)) {
      this.sendScanned(j, new Set());
      return;
    }
    if (isObj(j.usage)) this.usage = j.usage as Usage;
    const held = new Set<string>();
    let keep = !Array.isArray(j.choices) || j.choices.length === 0;
    if (Array.isArray(j.choices)) {
      this.template ??= Object.fromEntries(Object.entries(j).filter(([k]) => k !== "choices" && k !== "usage"));
      j.choices.forEach((c, n) => {
        if (isObj(c) && this.relayChoice(c, n, held)) keep = true;
      });
    }
    if (keep) this.sendScanned(j, held);
  }

  /** Pass a choice's streamed texts through their scanners; whether the event still says something. */
  private relayChoice(c: Obj, n: number, held: Set<string>): boolean {
    const i = typeof c.index === "number" ? c.index : 0;
    // Log probabilities spell the text out token by token, outside the hold-back window: not relayed when answers are redacted.
    if (this.opts.redact && c.logprobs != null) c.logprobs = null;
    let says = Boolean(c.finish_reason);
    const through = (holder: Obj, field: string, scannerField: string, path: string) => {
      if (typeof holder[field] !== "string") return;
      holder[field] = this.scanner(i, scannerField).push(holder[field] as string);
      held.add(path);
      if (holder[field]) says = true;
    };
    if (this.kind === "completions") through(c, "text", "text", `choices.${n}.text`);
    const delta = c.delta;
    if (isObj(delta)) {
      for (const f of Object.keys(delta)) if (heldField(delta, f)) through(delta, f, f, `choices.${n}.delta.${f}`);
      if (Array.isArray(delta.tool_calls)) {
        delta.tool_calls.forEach((tc, k) => {
          if (!isObj(tc)) return;
          const fn = tc.function;
          if (isObj(fn))
            through(fn, "arguments", `tool:${typeof tc.index === "number" ? tc.index : k}`, `choices.${n}.delta.tool_calls.${k}.function.arguments`);
          says = true; // a call's id and name are news even when its arguments are held
        });
      }
      if (Object.keys(delta).some((k) => !heldField(delta, k) && k !== "tool_calls" && delta[k] != null)) says = true;
    }
    if (c.finish_reason) this.mergeHeld(c, i, `choices.${n}`, held);
    return says;
  }

  /** Before a finish_reason: put what choice i still holds into this choice. */
  private mergeHeld(c: Obj, i: number, at: string, held: Set<string>): void {
    const rest = this.heldOf(i);
    if (!rest) return;
    if (this.kind === "completions") {
      c.text = `${typeof c.text === "string" ? c.text : ""}${rest.text as string}`;
      held.add(`${at}.text`);
      return;
    }
    if (!isObj(c.delta)) c.delta = {};
    const delta = c.delta as Obj;
    for (const [k, v] of Object.entries(rest.delta as Obj)) {
      if (k !== "tool_calls") {
        delta[k] = `${typeof delta[k] === "string" ? delta[k] : ""}${v as string}`;
        held.add(`${at}.delta.${k}`);
        continue;
      }
      const calls = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
      for (const call of v as Obj[]) held.add(`${at}.delta.tool_calls.${calls.push(call) - 1}.function.arguments`);
      delta.tool_calls = calls;
    }
  }

  /** Send an event with every string not already held scanned now. */
  private sendScanned(j: unknown, held: ReadonlySet<string>): void {
    const slots = walkJson(j, { numbers: false, maxDepth: 256 }).filter((s) => !(s.at === "value" && held.has(s.path.join("."))));
    let changed = false;
    const texts = slots.map((s) => {
      const r = scanAnswer(s.text, this.opts);
      addCounts(this.counts, r.counts);
      if (r.text !== s.text) changed = true;
      return r.text;
    });
    this.send(JSON.stringify(changed ? replaceSlots(j, slots, texts) : j));
  }
}
