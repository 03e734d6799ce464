/** Numeric answers: the first number in the output, within an absolute or relative tolerance. */
import { binary, type Grader } from "./types.js";

export function firstNumber(output: string): number | undefined {
  const m = /[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(output);
  return m ? Number(m[0].replace(/,/g, "")) : undefined;
}

export const number: Grader<"number"> = (e, { output }) => {
  const got = firstNumber(output);
  if (got === undefined) return binary("number", false, { reason: "no number in the answer" });
  const tol = Math.max(e.tolerance ?? 0, (e.relativeTolerance ?? 0) * Math.abs(e.value), 1e-9);
  return binary("number", Math.abs(got - e.value) <= tol, { got });
};
