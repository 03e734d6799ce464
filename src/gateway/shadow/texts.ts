/**
 * What shadow pairs and captured traffic store, and in what form: the answer's text (a chat
 * message's content, a completion's text, tool calls as JSON) and the request's messages, both with
 * every detected value replaced by its placeholder, so values never reach the store. Pure apart
 * from the detection it is given.
 */
import { type Detector, detect, redact } from "../../detect/index.js";
import { type Inspection, redactBody } from "../inspect.js";
import type { ApiBody } from "../pipeline.js";
import type { Kind } from "../request-shape.js";

/** The text of a whole chat or completion answer (first choice), or undefined when it has none. */
export function answerText(json: string): string | undefined {
  let j: unknown;
  try {
    j = JSON.parse(json);
  } catch {
    return undefined;
  }
  const choice = (j as { choices?: unknown[] } | null)?.choices?.[0] as { message?: { content?: unknown; tool_calls?: unknown }; text?: unknown } | undefined;
  if (!choice) return undefined;
  if (typeof choice.text === "string") return choice.text;
  const m = choice.message;
  if (typeof m?.content === "string" && m.content !== "") return m.content;
  if (m?.tool_calls !== undefined) return JSON.stringify(m.tool_calls);
  return typeof m?.content === "string" ? m.content : undefined;
}

/** The token usage of a whole answer, if it states one. */
export function usageOf(json: string): { prompt_tokens?: number; completion_tokens?: number } | undefined {
  try {
    const u = (JSON.parse(json) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
    if (!u) return undefined;
    return {
      ...(typeof u.prompt_tokens === "number" ? { prompt_tokens: u.prompt_tokens } : {}),
      ...(typeof u.completion_tokens === "number" ? { completion_tokens: u.completion_tokens } : {}),
    };
  } catch {
    return undefined;
  }
}

/** A text with every detected value replaced by [CLASS_N]. */
export function redactAll(text: string, detectors: readonly Detector[]): string {
  return redact(text, detect(text, detectors)).redacted;
}

/** redactAll, with the entities found counted by class (one detection for both). */
export function redactCounting(text: string, detectors: readonly Detector[]): { redacted: string; counts: Record<string, number> } {
  const entities = detect(text, detectors);
  const counts: Record<string, number> = {};
  for (const e of entities) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return { redacted: redact(text, entities).redacted, counts };
}

/** The request as messages, every detected value (of any class) replaced; a completion's prompt becomes one user message. */
export function redactedMessages(kind: Kind, body: ApiBody, ins: Inspection): unknown[] {
  const red = redactBody(body, ins, Object.keys(ins.counts)).body as ApiBody;
  if (kind === "chat" && Array.isArray(red.messages)) return red.messages;
  const prompt = red.prompt;
  return [{ role: "user", content: typeof prompt === "string" ? prompt : JSON.stringify(prompt ?? null) }];
}
