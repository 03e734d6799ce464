/** Text matching: equals, contains, contains-any, contains-all, regex. Pure. */
import { binary, type Grader } from "./types.js";

export function normaliseAnswer(s: string): string {
  return s.trim().replace(/\s+/g, " ").toLowerCase();
}

export const equals: Grader<"equals"> = (e, { output }) => {
  const want = normaliseAnswer(String(e.value));
  return binary("equals", normaliseAnswer(output) === want);
};

function fold(s: string, caseSensitive?: boolean): string {
  return caseSensitive ? s : s.toLowerCase();
}

export const contains: Grader<"contains"> = (e, { output }) => binary("contains", fold(output, e.caseSensitive).includes(fold(e.value, e.caseSensitive)));

export const containsAny: Grader<"contains-any"> = (e, { output }) => {
  const hay = fold(output, e.caseSensitive);
  const hit = e.values.find((v) => hay.includes(fold(v, e.caseSensitive)));
  return binary("contains-any", hit !== undefined, hit !== undefined ? { matched: hit } : undefined);
};

export const containsAll: Grader<"contains-all"> = (e, { output }) => {
  const hay = fold(output, e.caseSensitive);
  const missing = e.values.filter((v) => !hay.includes(fold(v, e.caseSensitive)));
  return binary("contains-all", missing.length === 0, missing.length ? { missing } : undefined);
};

const regexCache = new Map<string, RegExp>();
export const regex: Grader<"regex"> = (e, { output }) => {
  const key = `${e.flags ?? ""}/${e.pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    re = new RegExp(e.pattern, e.flags ?? "");
    regexCache.set(key, re);
  }
  return binary("regex", re.test(output));
};
