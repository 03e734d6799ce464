/** The UserError a call throws (the test fails if it throws nothing or something else). */
import { UserError } from "../../src/util/errors.js";

export function userErrorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("expected a UserError");
}
