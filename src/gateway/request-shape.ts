/**
 * The request shapes the gateway understands, per endpoint. Every string of a request is scanned
 * wherever it sits (json-walk.ts), so this is not what keeps data in: it is what keeps the gateway
 * from forwarding something it cannot reason about (a message content that is an object, a part of
 * an unknown type, a field no API defines). A request that does not fit is refused (400, audited)
 * unless the route says `onUnknownShape: pass`. Pure.
 */
import { z } from "zod";

export type Kind = "chat" | "completions" | "embeddings";

const text = z.string();
const strings = z.union([text, z.array(text)]);
const tokenIds = z.array(z.number().int());

const part = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text"), text }),
  z.looseObject({ type: z.literal("image_url"), image_url: z.union([text, z.looseObject({ url: text })]) }),
  z.looseObject({ type: z.literal("input_audio"), input_audio: z.looseObject({ data: text }) }),
  z.looseObject({ type: z.literal("file"), file: z.looseObject({}) }),
  z.looseObject({ type: z.literal("refusal"), refusal: text }),
]);
const content = z.union([text, z.null(), z.array(part)]);
const toolCall = z.looseObject({ id: text.optional(), type: z.literal("function").optional(), function: z.looseObject({ name: text, arguments: text }) });
const message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: content.optional(),
  name: text.optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: text.optional(),
  function_call: z.looseObject({ name: text, arguments: text }).optional(),
});

/** Sampling and serving options that carry no text of their own (OpenAI's and vLLM/SGLang's). */
const options = {
  model: text,
  stream: z.boolean().optional(),
  stream_options: z.looseObject({}).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().optional(),
  min_p: z.number().optional(),
  n: z.number().optional(),
  max_tokens: z.number().optional(),
  max_completion_tokens: z.number().optional(),
  min_tokens: z.number().optional(),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
  repetition_penalty: z.number().optional(),
  logit_bias: z.record(z.string(), z.number()).optional(),
  logprobs: z.union([z.boolean(), z.number()]).optional(),
  top_logprobs: z.number().optional(),
  seed: z.number().optional(),
  stop: z.union([strings, z.null()]).optional(),
  user: text.optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  service_tier: text.optional(),
  store: z.boolean().optional(),
  ignore_eos: z.boolean().optional(),
  skip_special_tokens: z.boolean().optional(),
};

const tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({ name: text, description: text.optional(), parameters: z.looseObject({}).optional() }),
});

const shapes: Record<Kind, z.ZodType> = {
  chat: z.strictObject({
    ...options,
    messages: z.array(message).min(1),
    tools: z.array(tool).optional(),
    tool_choice: z.union([text, z.looseObject({})]).optional(),
    parallel_tool_calls: z.boolean().optional(),
    functions: z.array(z.looseObject({ name: text })).optional(),
    function_call: z.union([text, z.looseObject({ name: text })]).optional(),
    response_format: z.looseObject({ type: text }).optional(),
    reasoning_effort: text.optional(),
    modalities: z.array(text).optional(),
    chat_template_kwargs: z.record(z.string(), z.unknown()).optional(),
    guided_json: z.unknown().optional(),
    guided_regex: text.optional(),
    guided_choice: z.array(text).optional(),
  }),
  completions: z.strictObject({
    ...options,
    prompt: z.union([text, z.array(text), tokenIds, z.array(tokenIds)]),
    suffix: z.union([text, z.null()]).optional(),
    echo: z.boolean().optional(),
    best_of: z.number().optional(),
  }),
  embeddings: z.strictObject({
    model: text,
    input: z.union([text, z.array(text), tokenIds, z.array(tokenIds)]),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().optional(),
    user: text.optional(),
    truncate_prompt_tokens: z.number().optional(),
  }),
};

/** Why `body` is not a request the gateway understands for `kind`, or undefined when it is. */
export function shapeProblem(kind: Kind, body: unknown): string | undefined {
  return kind === "chat" && isPlainChat(body) ? undefined : schemaProblem(kind, body);
}

/** Fields of `options` whose values are one finite number, one boolean or one string. */
const PLAIN_FIELDS: Record<string, "number" | "boolean" | "string"> = {
  model: "string",
  user: "string",
  stream: "boolean",
  temperature: "number",
  top_p: "number",
  top_k: "number",
  n: "number",
  max_tokens: "number",
  max_completion_tokens: "number",
  presence_penalty: "number",
  frequency_penalty: "number",
  seed: "number",
};
const ROLES: ReadonlySet<unknown> = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

/**
 * The plainest chat request (model, messages of role + text content + name, a few sampling
 * options): a subset of what the chat schema accepts, checked in one pass without the schema (whose
 * parse cost ~12 µs a request, most of the shape step). True only where the schema agrees
 * (test/gateway/request-shape.test.ts); anything else is left to the schema.
 */
export function isPlainChat(body: unknown): boolean {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  if (typeof b.model !== "string" || !Array.isArray(b.messages) || b.messages.length === 0) return false;
  for (const k of Object.keys(b)) {
    if (k === "messages") continue;
    const want = PLAIN_FIELDS[k];
    const v = b[k];
    if (!Object.hasOwn(PLAIN_FIELDS, k) || typeof v !== want || (want === "number" && !Number.isFinite(v))) return false;
  }
  for (const m of b.messages as unknown[]) {
    if (m === null || typeof m !== "object" || Array.isArray(m) || !ROLES.has((m as { role?: unknown }).role)) return false;
    for (const k of Object.keys(m))
      if (k !== "role" && ((k !== "content" && k !== "name") || typeof (m as Record<string, unknown>)[k] !== "string")) return false;
  }
  return true;
}

/** shapeProblem by the schema alone. */
export function schemaProblem(kind: Kind, body: unknown): string | undefined {
  const r = shapes[kind].safeParse(body);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  if (!issue) return "the request does not have a known shape";
  const where = issue.path.length ? issue.path.map(String).join(".") : "the body";
  if (issue.code === "unrecognized_keys") return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return `${where}: ${issue.message}`;
}

/**
 * Why a completions request cannot be scanned although its shape is known: its prompt is given as
 * token ids, and the gateway has no tokenizer for the deployment's model to turn them back into the
 * text the model reads. Refused unless the route passes what it cannot scan (onUnknownShape: pass).
 * Embeddings inputs of token ids are forwarded (docs/gateway.md, "known not to be caught"): the
 * model returns vectors, not text.
 */
export function unscannableTokenIds(kind: Kind, body: Record<string, unknown>): string | undefined {
  if (kind !== "completions" || !Array.isArray(body.prompt)) return undefined;
  const ids = body.prompt.some((p) => typeof p === "number" || (Array.isArray(p) && p.some((x) => typeof x === "number")));
  return ids ? "the prompt is given as token ids, which the gateway cannot read back into text to scan" : undefined;
}

/**
 * Fields whose values are names from a fixed vocabulary (a role, a part type, the route's model) and
 * not text a person typed: they are still scanned, one by one, but not joined with their
 * neighbours when looking for values split across the texts of a request.
 */
export const STRUCTURAL_FIELDS: ReadonlySet<string | number | undefined> = new Set([
  "role",
  "type",
  "model",
  "id",
  "tool_call_id",
  "detail",
  "format",
  "encoding_format",
  "object",
  "service_tier",
  "reasoning_effort",
  "tool_choice",
]);
