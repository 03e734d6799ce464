/** refused: the model refused a request it should have answered (over-refusal). */
import { isRefusal } from "../../../detect/index.js";
import type { AttackDetector } from "./types.js";

export const refused: AttackDetector = { check: (_e, { output }) => ({ success: isRefusal(output) }) };
