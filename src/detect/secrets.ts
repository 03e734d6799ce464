/**
 * Secret detection: provider key formats by anchored regexes, and JWTs and PEM private keys by
 * scanners. Why scanners for those two: their patterns ("eyJ…{8,4096}.eyJ…", "BEGIN … [\s\S]{1,20000}?
 * END") made the regex engine rescan up to 4–20 KB from every "eyJ" or BEGIN header, 2–18 s per MB of
 * "eyJ-eyJ-…" or headers without an END. The scanners find each base64url run's end once and
 * each END marker once, so the work is linear in the text. Pure.
 */
import { eachMatch } from "./detectors.js";
import type { Detector, Entity } from "./types.js";

/** Each rule runs only if its text holds one of its literal anchors (most texts hold none). */
const SECRET_RULES: { rule: string; anchors: string[]; re: RegExp; check?: (s: string) => boolean }[] = [
  { rule: "anthropic-key", anchors: ["sk-ant-"], re: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,200}/g },
  {
    rule: "openai-key",
    anchors: ["sk-"],
    re: /\bsk-(?:proj-|svcacct-|admin-)?(?!ant-)[A-Za-z0-9_-]{20,200}/g,
    check: (s) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s),
  },
  { rule: "aws-access-key", anchors: ["AKIA", "ASIA"], re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  {
    rule: "github-token",
    anchors: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
  },
  { rule: "slack-token", anchors: ["xox"], re: /\bxox[baprs]-[A-Za-z0-9-]{10,250}/g },
  { rule: "google-api-key", anchors: ["AIza"], re: /\bAIza[0-9A-Za-z_-]{35}/g },
  { rule: "stripe-key", anchors: ["_live_", "_test_"], re: /\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}/g },
  { rule: "huggingface-token", anchors: ["hf_"], re: /\bhf_[A-Za-z0-9]{30,40}\b/g },
];

/** Whether a character code is in the base64url alphabet (JWT segments). */
function b64url(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
}
const isWordChar = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;

function jwtHeaderValid(header: string): boolean {
  try {
    return typeof (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown }).alg === "string";
  } catch {
    return false;
  }
}

/**
 * JWTs: "eyJ" header (8–4,096 more characters), ".", "eyJ" payload (8–8,192), ".", signature (8–4,096),
 * the header decoding to JSON with an "alg". A header starts at a word boundary. Each run of the
 * alphabet is measured once: all "eyJ" in one run share its end, and one that fails on what follows
 * the run makes every other start in that run fail too.
 */
function findJwts(text: string, out: Entity[]): void {
  const runEnd = (i: number) => {
    while (i < text.length && b64url(text.charCodeAt(i))) i++;
    return i;
  };
  let end1 = -1; // end of the run holding the current candidate
  for (let at = text.indexOf("eyJ"); at >= 0; at = text.indexOf("eyJ", at + 1)) {
    if (at > 0 && isWordChar(text.charCodeAt(at - 1))) continue;
    if (at >= end1) end1 = runEnd(at);
    const len1 = end1 - at - 3;
    if (len1 < 8) continue;
    if (len1 > 4096) continue; // a later "eyJ" in the same run may still start a header
    if (text.charCodeAt(end1) !== 46 || !text.startsWith("eyJ", end1 + 1)) {
      at = end1 - 1; // no start in this run can succeed
      continue;
    }
    const end2 = runEnd(end1 + 4);
    const len2 = end2 - end1 - 4;
    if (len2 < 8 || len2 > 8192 || text.charCodeAt(end2) !== 46) {
      at = end1 - 1;
      continue;
    }
    const end3 = Math.min(runEnd(end2 + 1), end2 + 1 + 4096);
    if (end3 - end2 - 1 < 8) {
      at = end1 - 1;
      continue;
    }
    if (jwtHeaderValid(text.slice(at, end1))) {
      out.push({ type: "SECRET", start: at, end: end3, rule: "jwt" });
      at = end3 - 1;
    } else at = end1 - 1;
  }
}

const PEM_BEGIN = /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/g;
/** Characters of a PEM body: base64, whitespace and the "Proc-Type: 4,ENCRYPTED" header lines. */
const PEM_BODY = /(?:[A-Za-z0-9+/=\s:,]|-(?!-)){0,20000}/y; // ends at a "--" (the next BEGIN or END line)
const MAX_PEM_BODY = 20_000;

/**
 * Private keys: from a BEGIN header to the nearest END marker within 20,000 characters. A header
 * whose END is missing or too far still marks a secret when at least 64 characters of key body
 * follow it (a key pasted without its last line is still a key): the rule is then
 * "private-key-unterminated" and the entity ends with the body. The next END is searched once and
 * kept while headers before it are checked.
 */
function findPrivateKeys(text: string, out: Entity[]): void {
  let nextEnd: { start: number; end: number } | undefined;
  let endSearchedFrom = -1;
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m !== null; m = PEM_BEGIN.exec(text)) {
    const bodyStart = m.index + m[0].length;
    if (endSearchedFrom < 0 || (nextEnd !== undefined && nextEnd.start < bodyStart + 1)) {
      PEM_END.lastIndex = bodyStart + 1;
      const e = PEM_END.exec(text);
      nextEnd = e ? { start: e.index, end: e.index + e[0].length } : undefined;
      endSearchedFrom = bodyStart;
    }
    if (nextEnd && nextEnd.start - bodyStart <= MAX_PEM_BODY) {
      out.push({ type: "SECRET", start: m.index, end: nextEnd.end, rule: "private-key" });
      PEM_BEGIN.lastIndex = nextEnd.end;
      continue;
    }
    PEM_BODY.lastIndex = bodyStart;
    const body = (PEM_BODY.exec(text) as RegExpExecArray)[0].trimEnd();
    if (body.replace(/[^A-Za-z0-9+/]/g, "").length >= 64)
      out.push({ type: "SECRET", start: m.index, end: bodyStart + body.length, rule: "private-key-unterminated" });
    PEM_BEGIN.lastIndex = Math.max(PEM_BEGIN.lastIndex, bodyStart + body.length);
  }
  PEM_BEGIN.lastIndex = 0;
}

/** Every literal a secret rule needs in the text before it runs (prefilter.ts relies on this list being complete). */
export const SECRET_ANCHORS: readonly string[] = [...new Set([...SECRET_RULES.flatMap((r) => r.anchors), "eyJ", "-----BEGIN "])];

export const detectSecret: Detector = (text) => {
  const out: Entity[] = [];
  for (const r of SECRET_RULES)
    if (r.anchors.some((a) => text.includes(a)))
      eachMatch(r.re, text, (m) => {
        if (!r.check || r.check(m[0])) out.push({ type: "SECRET", start: m.index, end: m.index + m[0].length, rule: r.rule });
      });
  if (text.includes("eyJ")) findJwts(text, out);
  if (text.includes("-----BEGIN ")) findPrivateKeys(text, out);
  return out;
};
