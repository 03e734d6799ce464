/**
 * Zip containers: PyTorch zips (.bin/.pt/.pth/.ckpt), TorchScript archives, .npz, .keras and any
 * other zip, with zips inside zips opened a few levels deep (a zipped model folder holds a PyTorch
 * zip). Each entry is judged by what it is: pickles disassembled, .npy headers and sizes checked,
 * Keras config.json walked; entry reads are bounded by zip.ts.
 */

import type { ByteSource } from "../source.js";
import type { FileFormat, Issue } from "../types.js";
import { type FormatDef, TEXT_MAX } from "./format.js";
import { scanKerasConfig } from "./keras.js";
import { scanNpy } from "./numpy.js";
import { isPickleHead, scanPickle } from "./pickle.js";
import { definedClasses, torchScriptCodeIssue, torchScriptLayout } from "./torchscript.js";
import { isZip, readEntry, readZip, type ZipEntry } from "./zip.js";

/** Zips inside zips are opened this deep (a model folder zipped up holds a PyTorch zip). */
const MAX_ZIP_DEPTH = 3;

/** For a TorchScript archive: the code finding, and the __torch__ classes its code defines added to the allowlist. */
function torchScript(src: ByteSource, entries: ZipEntry[], extraAllowed: ReadonlySet<string>): { allowed: ReadonlySet<string>; issues: Issue[] } | undefined {
  const layout = torchScriptLayout(entries);
  if (!layout) return undefined;
  const allowed = new Set(extraAllowed);
  const issues: Issue[] = [torchScriptCodeIssue(layout)];
  for (const e of layout.code) {
    const r = readEntry(src, e, undefined, TEXT_MAX);
    if (r.issue) issues.push(r.issue);
    else for (const c of definedClasses(e.name, r.source.read(0, r.source.size).toString("utf8"))) allowed.add(c);
  }
  return { allowed, issues };
}

export function scanZipContainer(src: ByteSource, name: string, extraAllowedIn: ReadonlySet<string>, depth = 0): { format: FileFormat; issues: Issue[] } {
  const { entries, issues } = readZip(src);
  let format: FileFormat = /\.npz$/i.test(name) ? "npz" : /\.keras$/i.test(name) ? "keras" : "zip";
  const ts = torchScript(src, entries, extraAllowedIn);
  if (ts) {
    format = "torchscript";
    issues.push(...ts.issues);
  }
  const extraAllowed = ts?.allowed ?? extraAllowedIn;
  for (const e of entries) {
    if (e.name.endsWith("/")) continue;
    const base = e.name.split("/").pop() ?? e.name;
    const prefix = (where: string, list: Issue[]) => list.map((i) => ({ ...i, evidence: `${where}: ${i.evidence ?? i.message}` }));
    if (base === "data.pkl" || base === "version" || base === "byteorder") format = format === "zip" ? "pytorch-zip" : format;
    if (ts && e.name.includes("/code/") && e.name.endsWith(".py")) continue;
    if (/\.npy$/i.test(base)) {
      const head = readEntry(src, e, undefined, 1 << 16);
      if (head.issue) {
        issues.push(head.issue);
        continue;
      }
      const peek = scanNpy(head.source, { fileSize: e.size });
      if (peek.header && /['"]\|?O/.test(peek.header.descr)) {
        const full = readWhole(src, e, issues);
        if (full) issues.push(...prefix(e.name, scanNpy(full, { extraAllowed }).issues));
      } else issues.push(...prefix(e.name, peek.issues));
      continue;
    }
    if (base === "config.json" && format === "keras") {
      const r = readWhole(src, e, issues);
      if (r)
        try {
          issues.push(...scanKerasConfig(JSON.parse(r.read(0, r.size).toString("utf8")), e.name));
        } catch (err) {
          issues.push({ severity: "medium", rule: "keras.malformed", message: `${e.name} is not valid JSON: ${(err as Error).message}` });
        }
      continue;
    }
    const named = /\.(pkl|pickle)$/i.test(base);
    let head: Buffer | undefined;
    if (!named) {
      const p = readEntry(src, e, undefined, 1 << 16);
      head = p.source?.read(0, 4);
    }
    if (head && isZip(head)) {
      if (depth + 1 >= MAX_ZIP_DEPTH) {
        issues.push({ severity: "medium", rule: "zip.too-deep", message: `zip "${e.name}" is nested more than ${MAX_ZIP_DEPTH} deep and was not opened` });
        continue;
      }
      const r = readWhole(src, e, issues);
      if (r) issues.push(...prefix(e.name, scanZipContainer(r, base, extraAllowed, depth + 1).issues));
      continue;
    }
    if (named || isPickleHead(head)) {
      const r = readWhole(src, e, issues);
      if (r) issues.push(...prefix(e.name, scanPickle(r, { extraAllowed }).issues));
    }
  }
  return { format, issues };
}

/** An entry's whole bytes; a deflated entry that inflates to another size than it declares is a finding too (its bytes are still scanned). */
function readWhole(src: ByteSource, e: ZipEntry, issues: Issue[]): ByteSource | undefined {
  const r = readEntry(src, e);
  if (r.issue) {
    issues.push(r.issue);
    return undefined;
  }
  if (e.method === 8 && r.source.size !== e.size)
    issues.push({
      severity: "medium",
      rule: "zip.size-mismatch",
      message: `entry "${e.name}" declares ${e.size} bytes but inflates to ${r.source.size}`,
    });
  return r.source;
}

const zipKind = (name: string): FileFormat => (/\.npz$/i.test(name) ? "npz" : /\.keras$/i.test(name) ? "keras" : "zip");

export const zipFormat: FormatDef = {
  magic: (head, _size, name) => (isZip(head) ? zipKind(name) : undefined),
  scan: ({ src, rel, extraAllowed }) => scanZipContainer(src, rel, extraAllowed),
};
