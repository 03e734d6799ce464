/**
 * Bounds on the tool calls a provider accepts from an answer. A model (or a server pretending to
 * be one) controls these bytes: the number of calls, the length of a name and of an argument string
 * are capped here, once, for every provider kind, and anything beyond is a non-retryable
 * ProviderError (a retry would get the same nonsense and pay again).
 */
import { randomUUID } from "node:crypto";
import { ProviderError, type ToolCall } from "../types.js";

/** Parallel calls in one answer; real agents make a handful, servers cap far lower. */
export const MAX_TOOL_CALLS = 128;
/** Characters of one call's arguments (about 1 MiB of JSON). */
export const MAX_ARGUMENT_CHARS = 1 << 20;
/** Characters of a tool name or call id (OpenAI allows 64 for names; ids are opaque but short). */
export const MAX_NAME_CHARS = 256;

export function badCall(message: string): ProviderError {
  return new ProviderError(`malformed tool call: ${message}`, { retryable: false });
}

/** An id for a call the server sent without one: unique, so results cannot be confused across turns. */
export function madeUpCallId(): string {
  return `call_wb_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/** A finished call, checked against the bounds; `where` names it in the error (e.g. "tool call 2"). */
export function checkedCall(where: string, id: string | undefined, name: string | undefined, args: string): ToolCall {
  if (!name) throw badCall(`${where} has no function name`);
  if (name.length > MAX_NAME_CHARS) throw badCall(`${where}: name longer than ${MAX_NAME_CHARS} characters`);
  if (id !== undefined && id.length > MAX_NAME_CHARS) throw badCall(`${where}: id longer than ${MAX_NAME_CHARS} characters`);
  if (args.length > MAX_ARGUMENT_CHARS) throw badCall(`${where}: arguments longer than ${MAX_ARGUMENT_CHARS} characters`);
  return { id: id || madeUpCallId(), name, arguments: args };
}

/** The answer's calls as a list, refused when there are more than MAX_TOOL_CALLS. */
export function checkedCount(n: number): void {
  if (n > MAX_TOOL_CALLS) throw badCall(`${n} calls in one answer (at most ${MAX_TOOL_CALLS})`);
}

/**
 * An answer's finished calls, refused when two share an id: the runner answers each call by its id,
 * and two results for one id would be confused (Anthropic refuses such a conversation outright).
 */
export function uniqueIds(calls: ToolCall[]): ToolCall[] {
  const seen = new Set<string>();
  for (const c of calls) {
    if (seen.has(c.id)) throw badCall(`two calls share the id ${c.id.slice(0, 80)}`);
    seen.add(c.id);
  }
  return calls;
}
