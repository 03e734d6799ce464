/**
 * `weightbridge scan`: walk the target, hash every file on the worker pool while the main thread
 * parses it, run repository checks, classify license and origin, apply the policy, return the report.
 * A folder of model folders gets one verdict per model (`models[]`) and the worst of them overall;
 * each file's findings carry their path relative to the target.
 */
import { errorMessage } from "../util/errors.js";
import { classifyLicense, type LicenseReport } from "./checks/license.js";
import { type BaseModelResolver, type OriginReport, resolveOrigin } from "./checks/origin.js";
import { checkConfigJson, modelCard } from "./checks/repo.js";
import { HashPool } from "./hash-pool.js";
import { fetchHfRepo } from "./hf-source.js";
import { applyPolicy, DEFAULT_POLICY, type Policy, type Verdict } from "./policy.js";
import { type FileScan, scanFile } from "./scan-file.js";
import { type SignatureOptions, type SignatureReport, verifySignature } from "./signature.js";
import { type Finding, type ModelFacts, type ScannedFile, SEVERITIES, type Severity, severityRank } from "./types.js";
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
  /** One entry per model: the target itself (path ""), or each folder of a folder of model folders. */
  models: ModelReport[];
  stats: { files: number; bytes: number; seconds: number };
}

/** A model's own verdict, licence and origin; `path` is its folder relative to the target ("" for the target). */
export interface ModelReport {
  path: string;
  verdict: Verdict["verdict"];
  reasons: string[];
  license: LicenseReport;
  origin: OriginReport;
  facts: ModelFacts;
  files: number;
  counts: Record<Severity, number>;
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
  const { hubUrl, hubToken } = await import("../hub/index.js");
  const { hubFetch } = await import("../hub/index.js");
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
  const { path, source, repo, resolver } = await resolveTarget(target, opts);
  const walked = walk(path);
  const { files, findings, parsed, total } = await parseAndHash(pool, walked, new Set(policy.allowGlobals), opts.onProgress);
  const signature = files.some((f) => f.path === "model.sig") ? checkSignature(walked.root, files, findings, opts.signature) : undefined;
  const roots = modelRoots(walked);
  const models: ModelReport[] = [];
  const all: Finding[] = [];
  for (const root of roots) {
    const inModel = (p: string) => root === "" || p.startsWith(`${root}/`);
    const m = await judgeModel(root, {
      files: files.filter((f) => inModel(f.path)),
      findings: findings.filter((f) => inModel(f.file) || (root === "" && f.file === "")),
      parsed,
      policy,
      bareFile: walked.single,
      repo: roots.length === 1 ? repo : undefined,
      resolver,
      revision: source.type === "hf" ? (source.commit ?? source.revision) : undefined,
    });
    models.push(m.report);
    all.push(...m.findings);
  }
  all.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.file.localeCompare(b.file));
  const single = models.length === 1 ? (models[0] as ModelReport) : undefined;
  const worst = models.reduce((w, m) => (VERDICT_RANK[m.verdict] > VERDICT_RANK[w] ? m.verdict : w), "pass" as Verdict["verdict"]);
  return {
    target,
    verdict: worst,
    reasons: single ? single.reasons : models.map((m) => `${m.path}: ${m.verdict}${m.reasons.length ? ` (${m.reasons.join("; ")})` : ""}`),
    source,
    files,
    findings: all,
    license: single ? single.license : collectionLicense(models),
    origin: single ? single.origin : { chain: [] },
    facts: single ? single.facts : {},
    models,
    ...(signature ? { signature } : {}),
    stats: { files: files.length, bytes: total, seconds: (performance.now() - started) / 1000 },
  };
}

/** A local path as it is, or an hf: reference downloaded (with the repo and base-model resolver it implies). */
async function resolveTarget(target: string, opts: ScanOptions) {
  // The Hub code (and the zod it validates answers with) loads for hf: targets only, not for local scans.
  const hf = target.startsWith("hf:") ? (await import("../hub/index.js")).parseHfRef(target) : undefined;
  if (!hf) return { path: target, source: { type: "local", path: target } as const, repo: opts.repo, resolver: opts.resolveBaseModel };
  const got = await fetchHfRepo(hf.repo, hf.revision, {
    ...(opts.downloadDir ? { dest: opts.downloadDir } : {}),
    ...(opts.onDownload ? { onFile: opts.onDownload } : {}),
  });
  const source = { type: "hf", repo: hf.repo, revision: hf.revision, ...(got.commit ? { commit: got.commit } : {}), dir: got.dir } as const;
  return { path: got.dir, source, repo: opts.repo ?? hf.repo, resolver: opts.resolveBaseModel ?? hubBaseModel };
}

/** Every file parsed on the main thread while the pool hashes it; findings carry the file's path. */
async function parseAndHash(pool: HashPool, walked: ReturnType<typeof walk>, extra: ReadonlySet<string>, onProgress?: (done: number, total: number) => void) {
  const findings: Finding[] = [...walked.findings];
  const files: ScannedFile[] = [];
  const parsed = new Map<string, FileScan>();
  const total = walked.files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  const hashes = pool.hashAll(
    walked.files.map((f) => ({ key: f.rel, abs: f.abs, size: f.size })),
    (size) => {
      done += size;
      onProgress?.(done, total);
    },
  );
  for (const f of walked.files) {
    const r = await scanFile(f.abs, f.rel, f.size, extra);
    parsed.set(f.rel, r);
    for (const i of r.issues) findings.push({ ...i, file: f.rel });
    if (r.json !== undefined) findings.push(...checkConfigJson(f.rel, r.json));
    files.push({ path: f.rel, size: f.size, sha256: "", format: r.format });
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
  return { files, findings, parsed, total };
}

/** model.sig: verified with a key or identity (a finding unless valid), else an info note. */
function checkSignature(root: string, files: ScannedFile[], findings: Finding[], opts: SignatureOptions | undefined): SignatureReport | undefined {
  if (!opts?.key && !opts?.identity) {
    findings.push({
      severity: "info",
      rule: "signature.unverified",
      file: "model.sig",
      message: "model.sig is present; pass --key or --identity to verify it",
    });
    return undefined;
  }
  const signature = verifySignature(root, files, opts);
  if (signature.status !== "valid")
    findings.push({
      severity: "high",
      rule: `signature.${signature.status}`,
      file: "model.sig",
      message: `model signature ${signature.status}: ${signature.reason ?? ""}`,
    });
  return signature;
}

const VERDICT_RANK: Record<Verdict["verdict"], number> = { pass: 0, review: 1, fail: 2 };

/**
 * The model folders a target holds: a folder whose top level has no files (nor walk findings such as
 * a symlink) and only folders is a folder of model folders (one verdict each); anything else is one
 * model (""). Every finding then belongs to exactly one model, so none escapes a verdict.
 */
function modelRoots(walked: ReturnType<typeof walk>): string[] {
  const topLevel = (p: string) => !p.includes("/");
  if (walked.single || walked.files.length === 0 || walked.files.some((f) => topLevel(f.rel)) || walked.findings.some((f) => topLevel(f.file))) return [""];
  return [...new Set(walked.files.map((f) => f.rel.split("/")[0] as string))].sort();
}

/** One licence for a folder of models: theirs when they agree, "mixed" (with every source) when not. */
function collectionLicense(models: ModelReport[]): LicenseReport {
  const ids = new Set(models.map((m) => m.license.id));
  if (ids.size === 1 && models[0]) return models[0].license;
  return { id: "mixed", sources: models.flatMap((m) => m.license.sources.map((s) => ({ ...s, from: `${m.path}/${s.from}` }))) };
}

interface ModelInput {
  files: ScannedFile[];
  findings: Finding[];
  parsed: ReadonlyMap<string, FileScan>;
  policy: Policy;
  bareFile: boolean;
  repo: string | undefined;
  resolver: BaseModelResolver | undefined;
  revision: string | undefined;
}

/** Licence, origin and policy for one model (root "" for the whole target, else its folder). */
async function judgeModel(root: string, m: ModelInput): Promise<{ report: ModelReport; findings: Finding[] }> {
  const facts: ModelFacts = {};
  let cardLicenseName: string | undefined;
  let licenseText: { file: string; text: string } | undefined;
  for (const f of m.files) {
    const r = m.parsed.get(f.path);
    if (!r) continue;
    const rel = root ? f.path.slice(root.length + 1) : f.path;
    const base = rel.split("/").pop() ?? rel;
    if (r.text !== undefined && /^readme\.md$/i.test(base) && !rel.includes("/")) {
      const card = modelCard(r.text);
      facts.license ??= card.facts.license;
      if (card.facts.baseModel) facts.baseModel ??= card.facts.baseModel;
      cardLicenseName ??= card.licenseName;
    }
    if (r.text !== undefined && /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(base) && (!licenseText || !rel.includes("/")))
      licenseText = { file: f.path, text: r.text };
    if (r.facts) {
      facts.architecture ??= r.facts.architecture;
      facts.name ??= r.facts.name;
      if (r.facts.license) facts.ggufLicense = r.facts.license;
      if (r.facts.baseModel) facts.baseModel ??= r.facts.baseModel;
    }
  }
  const lic = classifyLicense({
    cardLicense: facts.license,
    cardLicenseName,
    licenseText,
    ggufLicense: facts.ggufLicense,
    revision: m.revision,
  });
  const findings = [...m.findings, ...lic.issues.map((i) => ({ ...i, file: root }))];
  const origin = await resolveOrigin(m.repo, facts.baseModel, m.resolver);
  const applied = applyPolicy(m.policy, m.files, findings, lic.report, origin, { bareFile: m.bareFile });
  const policyFindings = applied.findings.map((f) => (f.file === "" && root ? { ...f, file: root } : f));
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, policyFindings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  return {
    report: {
      path: root,
      verdict: applied.verdict.verdict,
      reasons: applied.verdict.reasons,
      license: lic.report,
      origin,
      facts,
      files: m.files.length,
      counts,
    },
    findings: policyFindings,
  };
}
