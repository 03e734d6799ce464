/**
 * `weightbridge scan`: walk the target, hash every file on the worker pool while the main thread
 * parses it, run repository checks, classify license and origin, apply the policy, return the report.
 * A folder of model folders is scanned as one target; each file's findings carry its relative path.
 */
import { parseHfRef } from "../hub/hub-url.js";
import { errorMessage } from "../util/errors.js";
import { classifyLicense, type LicenseReport } from "./checks/license.js";
import { type BaseModelResolver, type OriginReport, resolveOrigin } from "./checks/origin.js";
import { checkConfigJson, modelCard } from "./checks/repo.js";
import { HashPool } from "./hash-pool.js";
import { fetchHfRepo } from "./hf-source.js";
import { applyPolicy, DEFAULT_POLICY, type Policy, type Verdict } from "./policy.js";
import { scanFile } from "./scan-file.js";
import { type SignatureOptions, type SignatureReport, verifySignature } from "./signature.js";
import { type Finding, type ModelFacts, type ScannedFile, severityRank } from "./types.js";
import { walk } from "./walk.js";

export interface ScanReport {
  target: string;
  verdict: Verdict["verdict"];
  reasons: string[];
  /** Revision scanned (hf: targets), so a license change between revisions is on record. */
  source?: { type: "hf"; repo: string; revision: string; commit?: string; dir: string } | { type: "local"; path: string };
  files: ScannedFile[];
  findings: Finding[];
  license: LicenseReport;
  origin: OriginReport;
  facts: ModelFacts;
  signature?: SignatureReport;
  stats: { files: number; bytes: number; seconds: number };
}

export interface ScanOptions {
  policy?: Policy;
  /** The Hub repository a local folder came from (for origin), e.g. "Qwen/Qwen3-8B". */
  repo?: string;
  downloadDir?: string;
  resolveBaseModel?: BaseModelResolver;
  onProgress?: (done: number, total: number) => void;
  onDownload?: (path: string, i: number, n: number) => void;
  /** A hash pool started earlier (see HashPool.warm); scan closes it. */
  pool?: HashPool;
  /** Verify model.sig with this key or identity when the target has one. */
  signature?: SignatureOptions;
}

/** base_model of a Hub repo, read from its model card through HF_ENDPOINT. */
export const hubBaseModel: BaseModelResolver = async (repo) => {
  const { hubUrl, hubToken } = await import("../hub/hub-url.js");
  const { hubFetch } = await import("../hub/hub-fetch.js");
  const token = hubToken();
  const res = await hubFetch(`${hubUrl()}/${repo}/resolve/main/README.md`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) return undefined;
  return modelCard(await res.text()).facts.baseModel;
};

export async function scan(target: string, opts: ScanOptions = {}): Promise<ScanReport> {
  const pool = opts.pool ?? new HashPool().warm();
  try {
    return await scanWith(pool, target, opts);
  } finally {
    await pool.close();
  }
}

async function scanWith(pool: HashPool, target: string, opts: ScanOptions): Promise<ScanReport> {
  const started = performance.now();
  const policy = opts.policy ?? DEFAULT_POLICY;
  const extra = new Set(policy.allowGlobals);
  let path = target;
  let source: ScanReport["source"];
  let repo = opts.repo;
  let resolver = opts.resolveBaseModel;
  const hf = parseHfRef(target);
  if (hf) {
    const got = await fetchHfRepo(hf.repo, hf.revision, {
      ...(opts.downloadDir ? { dest: opts.downloadDir } : {}),
      ...(opts.onDownload ? { onFile: opts.onDownload } : {}),
    });
    path = got.dir;
    repo ??= hf.repo;
    resolver ??= hubBaseModel;
    source = { type: "hf", repo: hf.repo, revision: hf.revision, ...(got.commit ? { commit: got.commit } : {}), dir: got.dir };
  } else source = { type: "local", path: target };

  const walked = walk(path);
  const findings: Finding[] = [...walked.findings];
  const files: ScannedFile[] = [];
  const facts: ModelFacts = {};
  let cardLicenseName: string | undefined;
  let licenseText: { file: string; text: string } | undefined;
  const total = walked.files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  const hashes = pool.hashAll(
    walked.files.map((f) => ({ key: f.rel, abs: f.abs, size: f.size })),
    (size) => {
      done += size;
      opts.onProgress?.(done, total);
    },
  );
  for (const f of walked.files) {
    const r = scanFile(f.abs, f.rel, f.size, extra);
    const rel = f.rel;
    for (const i of r.issues) findings.push({ ...i, file: rel });
    if (r.json !== undefined) findings.push(...checkConfigJson(rel, r.json));
    const base = rel.split("/").pop() ?? rel;
    if (r.text !== undefined && /^readme\.md$/i.test(base) && !rel.includes("/")) {
      const card = modelCard(r.text);
      facts.license ??= card.facts.license;
      if (card.facts.baseModel) facts.baseModel ??= card.facts.baseModel;
      cardLicenseName ??= card.licenseName;
    }
    if (r.text !== undefined && /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(base) && (!licenseText || !rel.includes("/")))
      licenseText = { file: rel, text: r.text };
    if (r.facts) {
      facts.architecture ??= r.facts.architecture;
      facts.name ??= r.facts.name;
      if (r.facts.license) facts.ggufLicense = r.facts.license;
      if (r.facts.baseModel) facts.baseModel ??= r.facts.baseModel;
    }
    files.push({ path: rel, size: f.size, sha256: "", format: r.format });
  }
  await pool.drainOnMainThread();
  for (const file of files) {
    try {
      const h = await (hashes.get(file.path) as Promise<{ sha256: string; size: number }>);
      file.sha256 = h.sha256;
      file.size = h.size;
    } catch (e) {
      findings.push({ severity: "medium", rule: "scan.unreadable", file: file.path, message: `cannot read the file: ${errorMessage(e)}` });
    }
  }

  let signature: SignatureReport | undefined;
  if (files.some((f) => f.path === "model.sig")) {
    if (opts.signature?.key || opts.signature?.identity) {
      signature = verifySignature(walked.root, files, opts.signature);
      if (signature.status !== "valid")
        findings.push({
          severity: "high",
          rule: `signature.${signature.status}`,
          file: "model.sig",
          message: `model signature ${signature.status}: ${signature.reason ?? ""}`,
        });
    } else
      findings.push({
        severity: "info",
        rule: "signature.unverified",
        file: "model.sig",
        message: "model.sig is present; pass --key or --identity to verify it",
      });
  }
  const lic = classifyLicense({
    cardLicense: facts.license,
    cardLicenseName,
    licenseText,
    ggufLicense: facts.ggufLicense,
    revision: source.type === "hf" ? (source.commit ?? source.revision) : undefined,
  });
  for (const i of lic.issues) findings.push({ ...i, file: "" });
  const origin = await resolveOrigin(repo, facts.baseModel, resolver);
  const applied = applyPolicy(policy, files, findings, lic.report, origin, { bareFile: walked.single });
  applied.findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.file.localeCompare(b.file));
  return {
    target,
    verdict: applied.verdict.verdict,
    reasons: applied.verdict.reasons,
    source,
    files,
    findings: applied.findings,
    license: lic.report,
    origin,
    facts,
    ...(signature ? { signature } : {}),
    stats: { files: files.length, bytes: total, seconds: (performance.now() - started) / 1000 },
  };
}
