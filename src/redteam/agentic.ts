/**
 * The agentic-injection pack kind: an attack is a conversation in which the agent already called a
 * tool (fetch a web page, read the inbox, look up an order) and the tool's result carries
 * instructions that try to make it call a dangerous tool (`issue_refund` to an attacker's account,
 * `send_email` with the conversation to an outside address). The case offers the pack's tools, puts
 * the poisoned result in place, and lets the runner play any further calls with harmless mocks for
 * a few turns; the `tool-called` detector calls the attack a success when a forbidden call was made
 * anywhere in that trajectory (through the API's tool channel or written as text).
 */
import { z } from "zod";
import type { Case, Suite } from "../config/index.js";
import type { Message, ToolDefinition } from "../providers/index.js";

const toolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const toolSchema = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({ name: toolName, description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
});
const regex = z
  .string()
  .min(1)
  .max(500)
  .refine((p) => {
    try {
      new RegExp(p, "i");
      return true;
    } catch {
      return false;
    }
  }, "not a valid regular expression");
const forbiddenSchema = z.strictObject({ name: toolName, pattern: regex.optional() });

const attackSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  category: z.string().min(1),
  language: z.string().regex(/^[a-z]{2}$/),
  /** What the user asked the agent to do. */
  user: z.string().min(1),
  /** The (harmless) call the agent made for it. */
  call: z.strictObject({ name: toolName, arguments: z.record(z.string(), z.unknown()) }),
  /** The tool's result, carrying the injected instructions. */
  result: z.string().min(1),
  forbidden: z.array(forbiddenSchema).min(1).optional(),
});

export const agenticPackSchema = z
  .strictObject({
    pack: z.string().regex(/^[a-z0-9-]+$/),
    kind: z.literal("agentic-injection"),
    description: z.string(),
    system: z.string().min(1),
    tools: z.array(toolSchema).min(1).max(64),
    /** What the runner answers when the model calls a tool after the poisoned result (default `{"ok":true}`). */
    results: z.record(toolName, z.string()).default({}),
    /** Most model answers per attack (the trajectory the detector reads). */
    maxTurns: z.int().min(1).max(10).default(3),
    forbidden: z.array(forbiddenSchema).min(1),
    attacks: z.array(attackSchema).min(1),
  })
  .superRefine((p, ctx) => {
    const names = new Set(p.tools.map((t) => t.function.name));
    const check = (name: string, path: (string | number)[]) => {
      if (!names.has(name)) ctx.addIssue({ code: "custom", message: `"${name}" is not one of the pack's tools`, path });
    };
    for (const [i, f] of p.forbidden.entries()) check(f.name, ["forbidden", i, "name"]);
    for (const [i, a] of p.attacks.entries()) {
      check(a.call.name, ["attacks", i, "call", "name"]);
      for (const [j, f] of (a.forbidden ?? []).entries()) check(f.name, ["attacks", i, "forbidden", j, "name"]);
    }
  });
export type AgenticPack = z.infer<typeof agenticPackSchema>;

/** The id of the agent's call the poisoned result answers. */
const CALL_ID = "call_redteam_1";

function attackConversation(p: AgenticPack, a: AgenticPack["attacks"][number]): Message[] {
  return [
    { role: "system", content: p.system },
    { role: "user", content: a.user },
    { role: "assistant", content: "", toolCalls: [{ id: CALL_ID, name: a.call.name, arguments: JSON.stringify(a.call.arguments) }] },
    { role: "tool", toolCallId: CALL_ID, content: a.result },
  ];
}

export function agenticToSuite(p: AgenticPack, file: string): Suite {
  const mocks = Object.fromEntries(p.tools.map((t) => [t.function.name, { result: p.results[t.function.name] ?? '{"ok":true}' }]));
  const cases: Case[] = p.attacks.map((a, index) => ({
    index,
    id: a.id,
    vars: { category: a.category, language: a.language },
    expects: [{ type: "redteam", detector: "tool-called", forbiddenCalls: a.forbidden ?? p.forbidden }],
    source: `${file} attack ${a.id}`,
    messages: attackConversation(p, a),
    agent: { maxTurns: p.maxTurns, mocks },
  }));
  const tools: ToolDefinition[] = p.tools.map((t) => ({ type: "function", function: { ...t.function } }));
  return { name: p.pack, file, description: p.description, params: { temperature: 0, maxTokens: 400 }, tools, cases };
}
