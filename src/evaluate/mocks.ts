/**
 * The tools of an agent case, played from the case's mocks: a call gets the first mock of its tool
 * whose `when` is a subset of the call's arguments (no `when` matches any call). A call that no mock
 * answers — unknown tool, arguments that are not JSON, no matching `when` — gets an error result the
 * model sees and the case can grade, never an exception. Pure.
 */
import type { AgentSpec } from "../config/index.js";
import type { ToolCall } from "../providers/index.js";
import { matches, parseArguments } from "./graders/tools.js";

export interface MockAnswer {
  content: string;
  /** false: the call got an error result (no mock matched). */
  matched: boolean;
}

const error = (message: string): MockAnswer => ({ content: JSON.stringify({ error: message }), matched: false });

export function mockResult(mocks: AgentSpec["mocks"], call: ToolCall): MockAnswer {
  const spec = Object.hasOwn(mocks, call.name) ? mocks[call.name] : undefined;
  if (!spec) return error(`no tool named ${call.name} is available`);
  const args = parseArguments(call.arguments);
  if (!args.ok) return error(`${call.name}: ${args.reason}`);
  for (const m of Array.isArray(spec) ? spec : [spec])
    if (m.when === undefined || matches(m.when, args.value, "subset"))
      return { content: typeof m.result === "string" ? m.result : JSON.stringify(m.result), matched: true };
  return error(`${call.name}: no result for arguments ${call.arguments.slice(0, 500)}`);
}
