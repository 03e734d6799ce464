/**
 * Tool-call fidelity, reported per model beside the score: of a model's answers to cases that offer
 * tools, how many made a call through the API, whether every call was well formed (a tool that was
 * offered, arguments that parse as a JSON object), whether the arguments are valid against the
 * tool's JSON schema (ajv, as the json-schema grader), and how many answers wrote a call as text
 * instead (the server's tool parser is off). Facts are taken per answer when it arrives and stored
 * with its turn; the summary adds them up. Pure apart from ajv's compiled-validator cache.
 */
import { createRequire } from "node:module";
import type { ToolCall, ToolDefinition } from "../providers/index.js";
import { stableStringify } from "../util/hash.js";
import { parseArguments } from "./graders/tools.js";
import { detectTextCall, type TextCallFormat, textCallHint } from "./text-calls.js";

/** What one answer says about tool calling (stored as result_turns.facts_json). */
export interface AnswerFacts {
  /** Calls returned through the API's tool channel. */
  calls: number;
  /** Of those: naming an offered tool with arguments that parse as a JSON object. */
  wellFormed: number;
  /** Of those: arguments that parse as a JSON object. */
  jsonArgs: number;
  /** Of those: an offered tool, arguments valid against its parameters schema. */
  schemaValid: number;
  /** No API call, but the text carries one in this convention. */
  textCall?: TextCallFormat;
}

/** The `toolCalls` block of a model's summary (docs/eval-json.md). Rates are null when their denominator is 0. */
export interface ToolFidelity {
  answers: number;
  answersWithCall: number;
  /** answersWithCall / answers. */
  withCall: number | null;
  /** Answers with a call whose every call is well formed, / answersWithCall. */
  wellFormed: number | null;
  wellFormedAnswers: number;
  calls: number;
  /** Calls whose arguments parse as a JSON object, / calls. */
  argumentsJson: number | null;
  callsJson: number;
  /** Calls whose arguments are valid against the tool's schema, / calls. */
  argumentsValid: number | null;
  callsValid: number;
  /** Answers that wrote a call as text and made none through the API, / answers. */
  asText: number | null;
  asTextAnswers: number;
  asTextFormats: Partial<Record<TextCallFormat, number>>;
  /** How to make the server return those calls through the API (present when asTextAnswers > 0). */
  hint?: string;
}

type Validate = ((v: unknown) => boolean) & { errors?: unknown };
let ajv: { compile(schema: object): Validate } | undefined;
const validators = new Map<string, Validate>();

function validatorFor(schema: Record<string, unknown>): Validate {
  const key = stableStringify(schema);
  let v = validators.get(key);
  if (!v) {
    if (!ajv) {
      const mod = createRequire(import.meta.url)("ajv") as { default?: unknown };
      const Ctor = (mod.default ?? mod) as new (opts: object) => NonNullable<typeof ajv>;
      ajv = new Ctor({ allErrors: false, strict: false });
    }
    v = ajv.compile(schema);
    validators.set(key, v);
  }
  return v;
}

export function answerFacts(answer: { text: string; toolCalls?: readonly ToolCall[] }, tools: readonly ToolDefinition[]): AnswerFacts {
  const calls = answer.toolCalls ?? [];
  const facts: AnswerFacts = { calls: calls.length, wellFormed: 0, jsonArgs: 0, schemaValid: 0 };
  for (const c of calls) {
    const tool = tools.find((t) => t.function.name === c.name);
    const args = parseArguments(c.arguments);
    if (!args.ok) continue;
    facts.jsonArgs++;
    if (!tool) continue;
    facts.wellFormed++;
    const schema = tool.function.parameters;
    if (!schema || validatorFor(schema)(args.value)) facts.schemaValid++;
  }
  if (calls.length === 0) {
    const t = detectTextCall(answer.text);
    if (t) facts.textCall = t.format;
  }
  return facts;
}

const rate = (n: number, d: number): number | null => (d === 0 ? null : Number((n / d).toFixed(6)));

export function summariseFidelity(all: Iterable<AnswerFacts>): ToolFidelity {
  let answers = 0;
  let answersWithCall = 0;
  let wellFormedAnswers = 0;
  let calls = 0;
  let callsJson = 0;
  let callsValid = 0;
  let asTextAnswers = 0;
  const asTextFormats: Partial<Record<TextCallFormat, number>> = {};
  for (const f of all) {
    answers++;
    calls += f.calls;
    callsJson += f.jsonArgs;
    callsValid += f.schemaValid;
    if (f.calls > 0) {
      answersWithCall++;
      if (f.wellFormed === f.calls) wellFormedAnswers++;
    } else if (f.textCall) {
      asTextAnswers++;
      asTextFormats[f.textCall] = (asTextFormats[f.textCall] ?? 0) + 1;
    }
  }
  return {
    answers,
    answersWithCall,
    withCall: rate(answersWithCall, answers),
    wellFormed: rate(wellFormedAnswers, answersWithCall),
    wellFormedAnswers,
    calls,
    argumentsJson: rate(callsJson, calls),
    callsJson,
    argumentsValid: rate(callsValid, calls),
    callsValid,
    asText: rate(asTextAnswers, answers),
    asTextAnswers,
    asTextFormats,
    ...(asTextAnswers > 0 ? { hint: textCallHint(Object.keys(asTextFormats) as TextCallFormat[]) } : {}),
  };
}
