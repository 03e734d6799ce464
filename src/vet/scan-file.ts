/**
 * One file: decide its format from its bytes first and its name second (a pickle named .bin is a
 * pickle), run that format's bounded parser, and return findings. Never throws for bad content:
 * an unexpected parser error becomes a finding too.
 */
import { readFileSync } from "node:fs";
import { analyseChatTemplate } from "./checks/chat-template.js";
import { decompress, sniffCompression } from "./formats/compressed.js";
import { scanGguf } from "./formats/gguf.js";
import { scanH5, scanKerasConfig } from "./formats/keras.js";
import { isNpy, scanNpy } from "./formats/numpy.js";
import { scanOnnx } from "./formats/onnx.js";
import { isPickleHead, scanPickle } from "./formats/pickle.js";
import { looksLikeSafetensors, scanSafetensors } from "./formats/safetensors.js";
import { definedClasses, torchScriptCodeIssue, torchScriptLayout } from "./formats/torchscript.js";
import { isZip, readEntry, readZip, type ZipEntry } from "./formats/zip.js";
import { type ByteSource, FileSource } from "./source.js";
import type { FileFormat, Issue, ModelFacts } from "./types.js";

export interface FileScan {
  format: FileFormat;
  issues: Issue[];
  facts?: ModelFacts;
  /** Parsed JSON, for config.json / tokenizer_config.json checks. */
  json?: unknown;
  text?: string;
}

const PICKLE_EXT = /\.(pkl|pickle|joblib|dat|data|pt|pth|bin|ckpt|model|mar|sav)$/i;
const EXEC_EXT = /\.(sh|bash|zsh|bat|cmd|ps1|exe|dll|so|dylib|com|scr|vbs|jar|msi|app|run)$/i;
const TEXT_MAX = 16 << 20;
const WEIGHTS_EXT = /\.(bin|pt|pth|ckpt|pkl|pickle|joblib|mar)$/i;

function sniff(head: Buffer, size: number, name: string): FileFormat {
  if (head.length >= 4 && head.toString("latin1", 0, 4) === "GGUF") return "gguf";
  if (isZip(head)) return /\.npz$/i.test(name) ? "npz" : /\.keras$/i.test(name) ? "keras" : "zip";
  if (isNpy(head)) return "numpy";
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return "h5";
  if (looksLikeSafetensors(head, size)) return "safetensors";
  if (isPickleHead(head)) return "pickle";
  if (sniffCompression(head, name)) return "compressed-pickle";
  if (
    head.length >= 4 &&
    (head.readUInt32BE(0) === 0x7f454c46 || head.readUInt32BE(0) === 0xcafebabe || head.readUInt32LE(0) === 0xfeedfacf || head.readUInt32LE(0) === 0xfeedface)
  )
    return "executable";
  if (head.length >= 2 && head.toString("latin1", 0, 2) === "MZ" && /\.(exe|dll|sys|scr|com)$/i.test(name)) return "executable";
  if (head.length >= 2 && head.toString("latin1", 0, 2) === "#!") return /\.py$/i.test(name) ? "python" : "executable";
  if (/\.safetensors$/i.test(name)) return "safetensors";
  if (/\.gguf$/i.test(name)) return "gguf";
  if (/\.onnx$/i.test(name)) return "onnx";
  if (/\.npy$/i.test(name)) return "numpy";
  if (/\.(pkl|pickle|joblib)$/i.test(name)) return "pickle";
  if (/\.py$/i.test(name)) return "python";
  if (EXEC_EXT.test(name)) return "executable";
  if (/\.jinja2?$/i.test(name)) return "chat-template";
  if (/\.json$/i.test(name)) return "json";
  if (/\.(md|txt|yaml|yml)$/i.test(name) || /(^|\/)(LICEN[CS]E|COPYING|NOTICE)[^/]*$/i.test(name)) return "text";
  // Protocol 0/1 pickles have no header: trust the extension, and the parser's verdict.
  if (PICKLE_EXT.test(name) && head.length > 0 && "(c]}I".includes(String.fromCharCode(head[0] as number))) return "pickle";
  return "other";
}

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

function scanZipContainer(src: ByteSource, name: string, extraAllowedIn: ReadonlySet<string>, depth = 0): { format: FileFormat; issues: Issue[] } {
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
        const full = readEntry(src, e);
        if (full.issue) issues.push(full.issue);
        else issues.push(...prefix(e.name, scanNpy(full.source, { extraAllowed }).issues));
      } else issues.push(...prefix(e.name, peek.issues));
      continue;
    }
    if (base === "config.json" && format === "keras") {
      const r = readEntry(src, e);
      if (r.issue) issues.push(r.issue);
      else
        try {
          issues.push(...scanKerasConfig(JSON.parse(r.source.read(0, r.source.size).toString("utf8")), e.name));
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
      const r = readEntry(src, e);
      if (r.issue) issues.push(r.issue);
      else issues.push(...prefix(e.name, scanZipContainer(r.source, base, extraAllowed, depth + 1).issues));
      continue;
    }
    if (named || isPickleHead(head)) {
      const r = readEntry(src, e);
      if (r.issue) {
        issues.push(r.issue);
        continue;
      }
      issues.push(...prefix(e.name, scanPickle(r.source, { extraAllowed }).issues));
    }
  }
  return { format, issues };
}

export function scanFile(abs: string, rel: string, size: number, extraAllowed: ReadonlySet<string>): FileScan {
  const src = new FileSource(abs, size);
  try {
    const head = Buffer.from(src.read(0, 64));
    const format = sniff(head, size, rel);
    switch (format) {
      case "pickle":
        return { format, issues: scanPickle(src, { extraAllowed }).issues };
      case "compressed-pickle": {
        const kind = sniffCompression(head, rel);
        const out = kind ? decompress(src, kind) : undefined;
        if (!out || "issue" in out) return { format, issues: out ? [out.issue] : [] };
        const issues = scanPickle(out.source, { extraAllowed }).issues;
        return { format, issues: issues.map((i) => ({ ...i, evidence: `${kind}-compressed: ${i.evidence ?? i.message}` })) };
      }
      case "zip":
      case "npz":
      case "keras":
        return scanZipContainer(src, rel, extraAllowed);
      case "numpy":
        return { format, issues: scanNpy(src, { extraAllowed }).issues };
      case "safetensors":
        return { format, issues: scanSafetensors(src).issues };
      case "gguf": {
        const g = scanGguf(src);
        const issues = [...g.issues];
        for (const [key, tpl] of Object.entries(g.templates)) issues.push(...analyseChatTemplate(tpl, `GGUF ${key}`));
        return { format, issues, facts: g.facts };
      }
      case "h5":
        return { format, issues: scanH5(src) };
      case "onnx":
        return { format, issues: scanOnnx(src) };
      case "chat-template": {
        const text = readFileSync(abs, "utf8");
        return { format, issues: analyseChatTemplate(text, rel), text };
      }
      case "json": {
        if (size > TEXT_MAX) return { format, issues: [] };
        const text = readFileSync(abs, "utf8");
        try {
          return { format, issues: [], json: JSON.parse(text) };
        } catch (e) {
          return /(^|\/)(config|tokenizer_config)\.json$/.test(rel)
            ? { format, issues: [{ severity: "medium", rule: "json.malformed", message: `not valid JSON: ${(e as Error).message}` }] }
            : { format, issues: [] };
        }
      }
      case "text":
        return size <= TEXT_MAX ? { format, issues: [], text: readFileSync(abs, "utf8") } : { format, issues: [] };
      case "python":
        return {
          format,
          issues: [
            {
              severity: "high",
              rule: "repo.python-code",
              message: "Python source in the model repository: transformers runs it when loaded with trust_remote_code=True",
            },
          ],
        };
      case "executable":
        return {
          format,
          issues: [
            {
              severity: "high",
              rule: "repo.executable",
              message: "an executable or script ships with the model",
              evidence: head.subarray(0, 4).toString("hex"),
            },
          ],
        };
      default:
        return WEIGHTS_EXT.test(rel)
          ? {
              format,
              issues: [
                {
                  severity: "medium",
                  rule: "format.unrecognised",
                  message: "a weights file in no format the scanner knows (not a pickle, zip, safetensors, GGUF or NumPy file): it cannot be vetted",
                  evidence: `first bytes ${head.subarray(0, 8).toString("hex")}`,
                },
              ],
            }
          : { format, issues: [] };
    }
  } catch (e) {
    return { format: "other", issues: [{ severity: "medium", rule: "scan.error", message: `the scanner could not parse this file: ${(e as Error).message}` }] };
  } finally {
    src.close();
  }
}
