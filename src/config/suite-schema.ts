/** zod schemas for suite files and their cases (YAML and JSONL). */
import { z } from "zod";
import { rowSourceSchemas } from "./datasets/source-schema.js";
import { paramsSchema } from "./schema.js";
import { registerDiscriminator } from "./yaml-source.js";

const str = z.string();
const modelRef = z.string().min(1).optional();

/** One expected call of a tool-sequence: a name, or a name with arguments. */
const expectedCallSchema = z.strictObject({
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).optional(),
  match: z.enum(["exact", "subset"]).optional(),
});

export const expectSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("equals"), value: z.union([str, z.number(), z.boolean()]) }),
  z.strictObject({ type: z.literal("contains"), value: str, caseSensitive: z.boolean().optional() }),
  z.strictObject({ type: z.literal("contains-any"), values: z.array(str).min(1), caseSensitive: z.boolean().optional() }),
  z.strictObject({ type: z.literal("contains-all"), values: z.array(str).min(1), caseSensitive: z.boolean().optional() }),
  z.strictObject({
    type: z.literal("regex"),
    pattern: str,
    flags: z
      .string()
      .regex(/^[imsu]*$/, "flags may be i, m, s, u")
      .optional(),
  }),
  z.strictObject({ type: z.literal("json-schema"), schema: z.record(z.string(), z.unknown()) }),
  z.strictObject({ type: z.literal("json-match"), value: z.record(z.string(), z.unknown()) }),
  z.strictObject({
    type: z.literal("number"),
    value: z.number(),
    tolerance: z.number().nonnegative().optional(),
    relativeTolerance: z.number().nonnegative().optional(),
  }),
  z.strictObject({ type: z.literal("label"), value: str }),
  z.strictObject({
    type: z.literal("ranking"),
    relevant: z.array(str).min(1),
    gains: z.record(z.string(), z.number().nonnegative()).optional(),
    k: z.int().positive().optional(),
  }),
  z.strictObject({
    type: z.literal("llm-judge"),
    rubric: str.min(1),
    model: modelRef,
    threshold: z.number().min(0).max(1).optional(),
  }),
  z.strictObject({
    type: z.literal("redteam"),
    detector: z.enum(["canary", "secret", "not-refused", "refused", "pii", "facts", "insecure-code", "tool-called"]),
    canary: z.string().min(4).optional(),
    /** tool-called: the calls the attack tries to provoke (a name, and a case-insensitive pattern over the arguments). */
    forbiddenCalls: z
      .array(z.strictObject({ name: z.string().min(1), pattern: z.string().min(1).max(500).optional() }))
      .min(1)
      .optional(),
    record: z.array(z.string().min(1)).optional(),
    facts: z.array(z.array(z.string().min(1)).min(1)).optional(),
    minFacts: z.int().nonnegative().optional(),
    /** not-refused: also ask a judge model whether the answer really helps with the request. */
    judgeRubric: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal("tool-call"),
    /** The tool the first answer must call (absent only with `none: true`). */
    name: z.string().min(1).optional(),
    arguments: z.record(z.string(), z.unknown()).optional(),
    match: z.enum(["exact", "subset"]).optional(),
    /** The model must not call any tool in the whole conversation. */
    none: z.literal(true).optional(),
  }),
  z.strictObject({
    type: z.literal("tool-sequence"),
    calls: z.array(z.union([z.string().min(1), expectedCallSchema])).min(1),
    ordered: z.boolean().optional(),
    allowExtra: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal("similarity"),
    value: str.min(1),
    model: modelRef,
    threshold: z.number().min(-1).max(1).optional(),
  }),
]);
export type Expect = z.infer<typeof expectSchema>;
export type ExpectType = Expect["type"];
export const EXPECT_TYPES: ExpectType[] = expectSchema.options.map((o) => o.shape.type.value);
registerDiscriminator("type", EXPECT_TYPES);

const expects = z.union([expectSchema, z.array(expectSchema).min(1)]);

/** A tool in OpenAI's function-tool JSON (passed through to every provider). */
export const toolDefinitionSchema = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "tool names are 1-64 letters, digits, _ or - (the OpenAI limit)"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** An assistant's tool call in OpenAI wire form; `arguments` is a JSON string (an object is accepted and serialised). */
const wireToolCallSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal("function").optional(),
  function: z.strictObject({ name: z.string().min(1), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]) }),
});

/** A case's conversation so far, in OpenAI wire form (mapped to the internal Message at load). */
export const wireMessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().nullable().optional(),
  tool_calls: z.array(wireToolCallSchema).min(1).optional(),
  tool_call_id: z.string().min(1).optional(),
});
export type WireMessage = z.infer<typeof wireMessageSchema>;

/** A mocked tool result: `when` (a subset of the call's arguments) selects it; `result` is what the tool returns. */
const mockSchema = z.strictObject({
  when: z.record(z.string(), z.unknown()).optional(),
  result: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
});
export type ToolMock = z.infer<typeof mockSchema>;

export const agentSchema = z.strictObject({
  /** Most model calls in the conversation (default 8). */
  maxTurns: z.int().min(1).max(50).optional(),
  mocks: z.record(z.string(), z.union([mockSchema, z.array(mockSchema).min(1)])).default({}),
});
export type AgentSpec = z.infer<typeof agentSchema>;

export const inlineCaseSchema = z.strictObject({
  id: z.string().min(1).optional(),
  vars: z.record(z.string(), z.unknown()).default({}),
  expect: expects,
  ideal: z.string().optional(),
  tags: z.array(z.string()).optional(),
  /** Cases that share a group (a conversation, a template, a customer) are not independent: intervals resample groups. */
  group: z.string().min(1).max(200).optional(),
  /** The conversation so far (replaces the suite's prompt template; the suite's system is put first). */
  messages: z.array(wireMessageSchema).min(1).optional(),
  /** The runner plays the tools with these mocks, model -> calls -> results -> model, up to maxTurns. */
  agent: agentSchema.optional(),
  /** Scripted user messages, sent one after each assistant answer that calls no tool. */
  turns: z.array(z.string().min(1)).min(1).max(50).optional(),
});
export type InlineCase = z.infer<typeof inlineCaseSchema>;

export const messageTemplateSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

/** `{ file: … }` (a case file, or CSV/TSV/JSONL/Parquet rows) and `{ hf: … }` (a Hub dataset split): src/config/datasets. */
export const { fileSource: fileSourceSchema, hfSource: hfSourceSchema } = rowSourceSchemas(EXPECT_TYPES, messageTemplateSchema);

/**
 * An inline case may not carry `file` or `hf`: without this, zod 4 picks the inline branch for a
 * `file:` entry with a bad `limit`/`seed` (its "unknown key" issue does not abort, the int check does)
 * and the user read `unknown key "file"… did you mean "file"?` instead of the bad field.
 */
const inlineEntrySchema = inlineCaseSchema.extend({ file: z.never().optional(), hf: z.never().optional() });

export const suiteSchema = z
  .strictObject({
    name: z.string().regex(/^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]*$/u, "use letters (any script), digits, . _ -"),
    description: z.string().optional(),
    system: z.string().optional(),
    prompt: z.string().optional(),
    messages: z.array(messageTemplateSchema).min(1).optional(),
    params: paramsSchema.optional(),
    /** Name of a case variable whose value is the case's group (when cases do not set `group`). */
    groupBy: z.string().min(1).max(200).optional(),
    /** Tools offered to the model on every case (OpenAI function-tool JSON). */
    tools: z.array(toolDefinitionSchema).min(1).max(128).optional(),
    cases: z.array(z.union([inlineEntrySchema, fileSourceSchema, hfSourceSchema])).min(1, "add at least one case"),
  })
  .refine((s) => s.prompt === undefined || s.messages === undefined, {
    message: 'give one of "prompt" (a template) or "messages" (a list of role/content templates), not both',
    path: ["prompt"],
  });
export type SuiteFile = z.infer<typeof suiteSchema>;
