import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { UserError } from "../util/errors.js";
import { createProgress, wantsProgress } from "../util/progress.js";
import { EXIT, printJson, say, warn } from "./output.js";

/** scan --fail-on: severities in rising order (vet/types.ts SEVERITIES). */
const SEVERITY_FLAG = ["info", "low", "medium", "high", "critical"];

interface ScanOpts extends SigOpts {
  failOn?: string;
}

interface SigOpts {
  key?: string;
  identity?: string;
  issuer?: string;
  trustRoot?: string;
}

function signatureOptions(o: SigOpts) {
  // A key or trust root that cannot be read is a usage error, never "no signature checked, OK".
  for (const [flag, file] of [
    ["--key", o.key],
    ["--trust-root", o.trustRoot],
  ] as const)
    if (file && !existsSync(file)) throw new UserError(`${flag} ${file}: no such file`, "pass the path of a PEM file");
  return {
    ...(o.key ? { key: o.key } : {}),
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.issuer ? { issuer: o.issuer } : {}),
    ...(o.trustRoot ? { trustRoot: o.trustRoot } : {}),
  };
}

function addSignatureOptions(c: Command): Command {
  return c
    .option("--key <pem>", "verify model.sig with this public key (PEM)")
    .option("--identity <id>", "verify model.sig's certificate: expected identity (email or URI)")
    .option("--issuer <url>", "with --identity: expected OIDC issuer, e.g. https://accounts.google.com")
    .option("--trust-root <pem>", "with --identity: CA certificates the signing certificate must chain to");
}

interface StoreOpts {
  config?: string;
  store?: string;
}

type ScanFlags = ScanOpts & StoreOpts & { policy?: string; format: string; json?: boolean; out?: string; repo?: string; downloadDir?: string };

const configOption = () => new Option("-c, --config <file>", "also keep the result in this config's store (shown by `weightbridge ui`)");
const storeOption = () => new Option("--store <url>", "also keep the result in this store: SQLite path or postgres://… (as WEIGHTBRIDGE_DATABASE_URL does)");

/** The store to keep the result in, opened before the work so a bad store fails first; undefined when none was named. */
async function artifactStore(o: StoreOpts): Promise<import("../store/index.js").StoreHandle | undefined> {
  if (o.store) return (await import("../store/index.js")).openStore(o.store);
  if (o.config || process.env.WEIGHTBRIDGE_DATABASE_URL) return (await (await import("../evaluate/index.js")).openStoreFor(o.config)).store;
  return undefined;
}

async function keep(
  store: import("../store/index.js").StoreHandle | undefined,
  a: Parameters<typeof import("../store/index.js").saveArtifact>[1],
): Promise<void> {
  if (!store) return;
  const id = await (await import("../store/index.js")).saveArtifact(store.db, a);
  warn(`kept as artifact ${id} in ${store.location} (weightbridge ui: /artifacts/${id})`);
}

/** What the artifacts list shows of a scan: licence, origin lineage, finding counts. */
function scanSummary(r: import("../vet/index.js").ScanReport) {
  const counts: Record<string, number> = {};
  for (const f of r.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  const root = r.origin?.root;
  return {
    files: r.files.length,
    reasons: r.reasons,
    counts,
    license: r.license ? { id: r.license.id, name: r.license.name, commercial: r.license.commercial } : null,
    origin: root ? { lab: root.lab, country: root.country, root: root.repo, chain: (r.origin?.chain ?? []).map((c) => c.repo) } : null,
  };
}

const SCAN_HELP = `
TARGET is a file, a folder (a folder of model folders works too) or hf:ORG/NAME[@REVISION]
(downloaded with HF_ENDPOINT / HF_TOKEN, every LFS file checked against the Hub's sha256).
Nothing from the artifact is executed or deserialised.

Exit status: 0 pass or review, 1 fail, 2 usage error.

Examples:
  weightbridge scan ./models/Qwen3-8B --repo Qwen/Qwen3-8B
  weightbridge scan hf:Qwen/Qwen3-8B@main --policy policy.yaml
  weightbridge scan pytorch_model.bin --format json
  weightbridge scan ./models --format sarif -o scan.sarif
  weightbridge scan ./model --format cyclonedx -o model.cdx.json
  weightbridge scan ./signed-model --key signer.pub.pem
  weightbridge scan ./models/Qwen3-8B --repo Qwen/Qwen3-8B -c weightbridge.yaml   # also kept for \`weightbridge ui\``;

const LOCK_HELP = `
Examples:
  weightbridge lock ./models/Qwen3-8B
  weightbridge lock hf:Qwen/Qwen3-8B@main -o qwen3-8b.lock.json
  weightbridge verify ./models/Qwen3-8B
  weightbridge lock ./models/Qwen3-8B -c weightbridge.yaml     # also kept for \`weightbridge ui\``;

const VERIFY_HELP = `
Exit status: 0 when everything matches, 1 when a file was added, removed or changed or the
signature does not verify, 2 on usage errors.

Examples:
  weightbridge verify ./models/Qwen3-8B
  weightbridge verify ./models/Qwen3-8B --key signer.pub.pem --json
  weightbridge verify ./model --identity release@example.com --issuer https://accounts.google.com`;

export function registerScan(program: Command): void {
  addSignatureOptions(
    program
      .command("scan <target>")
      .description(
        "vet model artifacts without loading them: pickles, zips, safetensors, GGUF, NumPy, Keras, ONNX, chat templates, remote code; license, origin, hashes, policy",
      )
      .option("--policy <file>", "policy.yaml: licenses, origins, required formats, remote code, failOn severity, allowGlobals")
      .addOption(new Option("--format <format>", "output format").choices(["text", "json", "sarif", "cyclonedx", "junit"]).default("text"))
      .option("--json", "same as --format json")
      .addOption(new Option("--fail-on <severity>", "also exit 1 when any finding is this severe or worse").choices(SEVERITY_FLAG))
      .option("-o, --out <file>", "write the report to a file instead of stdout")
      .option("--repo <org/name>", "the Hub repository a local folder came from (for origin)")
      .option("--download-dir <dir>", "for hf: targets, where to download (default: the weightbridge cache)"),
  )
    .addHelpText("after", SCAN_HELP)
    .addOption(configOption())
    .addOption(storeOption())
    .action(scanAction);

  program
    .command("lock <target>")
    .description("write weightbridge.lock.json: every file's size and SHA-256 and the source revision")
    .option("-o, --out <file>", "lockfile path (default: inside the folder, or ./weightbridge.lock.json for hf: targets)")
    .option("--json", "print the lockfile as JSON too")
    .addHelpText("after", LOCK_HELP)
    .addOption(configOption())
    .addOption(storeOption())
    .action(lockAction);

  addSignatureOptions(
    program
      .command("verify <target>")
      .description("compare files with weightbridge.lock.json (added, removed, changed) and check model.sig when present")
      .option("--lock <file>", "lockfile (default: the one `lock` writes for this target)")
      .option("--json", "print {ok, added, removed, changed, signature} as JSON"),
  )
    .addHelpText("after", VERIFY_HELP)
    .action(verifyAction);
}

type ScanReport = import("../vet/index.js").ScanReport;

/** `scan`: check the target and flags, scan with a progress bar, print, gate, keep in the store when one is named. */
async function scanAction(target: string, o: ScanFlags): Promise<void> {
  const format = o.json ? "json" : o.format;
  const isHf = await checkScanTarget(target, o);
  const policy = o.policy ? await (await import("../vet/index.js")).loadPolicy(o.policy) : undefined;
  const signature = signatureOptions(o); // before the worker pool starts: a bad flag must not leave it running
  const store = await artifactStore(o);
  // Workers boot (~75 ms) while the scanner's modules load; scan() closes the pool, also on errors.
  const { HashPool } = await import("../vet/index.js");
  const pool = new HashPool().warm();
  const { scan } = await import("../vet/index.js");
  const bar = createProgress("scan", 1, wantsProgress(format !== "text" || Boolean(o.out)) && !o.json);
  try {
    const report = await scan(target, {
      ...(policy ? { policy } : {}),
      ...(o.repo ? { repo: o.repo } : {}),
      ...(o.downloadDir ? { downloadDir: resolve(o.downloadDir) } : {}),
      signature,
      pool,
      onProgress: (d, t) => bar.update(d, t),
      onDownload: (p, i, n) => {
        if (wantsProgress(format !== "text")) warn(`downloading ${i}/${n} ${p}`);
      },
    });
    bar.stop();
    const v = (await import("../util/package-root.js")).packageVersion();
    printScan(report, await renderScan(report, format, target, o.failOn, v), format, o.out);
    process.exitCode = scanGate(report, o.failOn);
    // Only with a store: the ML-BOM needs the CycloneDX library (~100 modules, ~60 ms to load).
    if (store) await keepScan(store, target, isHf, o.repo, report, v);
  } finally {
    bar.stop();
    await store?.close();
  }
}

/** The target exists (or is an hf: reference) and --repo is ORG/NAME; true for hf: targets. */
async function checkScanTarget(target: string, o: ScanFlags): Promise<boolean> {
  const { existsSync } = await import("node:fs");
  // The Hub code (and zod) loads only for hf: targets: a local scan starts without it.
  const isHf = target.startsWith("hf:") && (await import("../hub/index.js")).parseHfRef(target) !== undefined;
  if (!isHf && !existsSync(target)) throw new UserError(`${target}: no such file or folder`, "pass a model file, a folder, or hf:ORG/NAME[@REVISION]");
  if (o.repo && !/^[\w.-]+\/[\w.-]+$/.test(o.repo)) throw new UserError(`--repo "${o.repo}" is not ORG/NAME`);
  return isHf;
}

async function renderScan(report: ScanReport, format: string, target: string, failOn: string | undefined, v: string): Promise<string> {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "sarif") return (await import("../vet/index.js")).toSarif(report, v);
  if (format === "cyclonedx") return (await import("../vet/index.js")).toCycloneDx(report, v);
  if (format === "junit") return (await import("../report/index.js")).scanJunit(target, report.findings, failOn);
  return (await import("../vet/index.js")).toText(report);
}

function printScan(report: ScanReport, text: string, format: string, out: string | undefined): void {
  if (out) {
    writeFileSync(out, text);
    say(`${report.verdict}: ${report.findings.length} finding(s); ${format} report written to ${out}`);
  } else process.stdout.write(text);
}

/** Exit 1 on a failing verdict or, with --fail-on, on any finding at or above that severity (said on stderr). */
function scanGate(report: ScanReport, failOn: string | undefined): number {
  const gated = failOn ? report.findings.filter((f) => SEVERITY_FLAG.indexOf(f.severity) >= SEVERITY_FLAG.indexOf(failOn)) : [];
  if (gated.length) warn(`fail: ${gated.length} finding(s) at or above ${failOn} (--fail-on); first: ${gated[0]?.severity} ${gated[0]?.rule}`);
  return report.verdict === "fail" || gated.length ? EXIT.policy : EXIT.ok;
}

async function keepScan(
  store: import("../store/index.js").StoreHandle,
  target: string,
  isHf: boolean,
  repo: string | undefined,
  report: ScanReport,
  v: string,
): Promise<void> {
  await keep(store, {
    kind: "scan",
    target: isHf ? target : resolve(target),
    repo: repo ?? (isHf ? (await import("../hub/index.js")).parseHfRef(target)?.repo : undefined) ?? report.origin?.repo ?? null,
    verdict: report.verdict,
    summary: scanSummary(report),
    report,
    bom: JSON.parse(await (await import("../vet/index.js")).toCycloneDx(report, v)) as unknown,
  });
}

type LockSource = import("../vet/index.js").LockFile["source"];

/** `lock`: fetch an hf: target (or check a local one), hash every file, write the lockfile, keep it when a store is named. */
async function lockAction(target: string, o: StoreOpts & { out?: string; json?: boolean }): Promise<void> {
  const { hashTree, lockPathFor, writeLock } = await import("../vet/index.js");
  const { parseHfRef } = await import("../hub/index.js");
  const hf = parseHfRef(target);
  const { path, source } = await lockSourceOf(target, hf);
  const store = await artifactStore(o);
  try {
    const bar = createProgress("hash", 1, wantsProgress(Boolean(o.json)));
    const files = await hashTree(path, (d, t) => bar.update(d, t));
    bar.stop();
    const lock = { lockfileVersion: 1 as const, createdAt: new Date().toISOString(), source, files };
    const out = o.out ?? (hf ? resolve("weightbridge.lock.json") : lockPathFor(target));
    writeLock(out, lock);
    const bytes = files.reduce((s, f) => s + f.size, 0);
    const summary = { files: files.length, bytes, lockfile: resolve(out), source };
    await keep(store, { kind: "lock", target: hf ? target : resolve(target), repo: hf?.repo ?? null, verdict: null, summary, report: lock });
    if (o.json) return printJson(lock);
    say(`${out}: ${files.length} files, ${bytes} bytes`);
  } finally {
    await store?.close();
  }
}

/** Where the files to lock are and where they came from: a download for hf: targets, else the local path. */
async function lockSourceOf(target: string, hf: { repo: string; revision: string } | undefined): Promise<{ path: string; source: LockSource }> {
  if (hf) {
    const { fetchHfRepo } = await import("../vet/index.js");
    const got = await fetchHfRepo(hf.repo, hf.revision);
    return { path: got.dir, source: { type: "hf", repo: hf.repo, revision: hf.revision, ...(got.commit ? { commit: got.commit } : {}) } };
  }
  const { existsSync } = await import("node:fs");
  if (!existsSync(target)) throw new UserError(`${target}: no such file or folder`);
  return { path: target, source: { type: "local", path: resolve(target) } };
}

/** `verify`: hash the target, compare with its lockfile and/or check model.sig, print, exit 1 on any difference. */
async function verifyAction(target: string, o: SigOpts & { lock?: string; json?: boolean }): Promise<void> {
  const { compareLock, hashTree, lockPathFor, readLock } = await import("../vet/index.js");
  const { verifySignature } = await import("../vet/index.js");
  const { existsSync, statSync } = await import("node:fs");
  if (!existsSync(target)) throw new UserError(`${target}: no such file or folder`);
  const lockFile = o.lock ?? lockPathFor(target);
  const hasLock = existsSync(lockFile);
  const files = await hashTree(target);
  const sig = signatureOptions(o);
  const dir = statSync(target).isFile() ? resolve(target, "..") : resolve(target);
  const wantsSig = Boolean(sig.key || sig.identity);
  if (!hasLock && !wantsSig)
    throw new UserError(`${lockFile}: no lockfile`, "run `weightbridge lock PATH` first, pass --lock FILE, or --key to check model.sig");
  const result = hasLock ? compareLock(readLock(lockFile), files) : undefined;
  const signature = wantsSig ? verifySignature(dir, files, sig) : undefined;
  const ok = (result?.ok ?? true) && (!signature || signature.status === "valid");
  process.exitCode = ok ? EXIT.ok : EXIT.policy;
  if (o.json) return printJson({ ok, ...(result ? { lock: lockFile, ...result } : {}), ...(signature ? { signature } : {}) });
  printVerify(target, lockFile, result, signature);
}

type VetIndex = typeof import("../vet/index.js");

function printVerify(
  target: string,
  lockFile: string,
  result: ReturnType<VetIndex["compareLock"]> | undefined,
  signature: ReturnType<VetIndex["verifySignature"]> | undefined,
): void {
  if (result) {
    say(`${result.ok ? "OK" : "CHANGED"}  ${target} against ${lockFile}: ${result.unchanged} unchanged`);
    for (const p of result.added) say(`  added    ${p}`);
    for (const p of result.removed) say(`  removed  ${p}`);
    for (const c of result.changed) say(`  changed  ${c.path}  ${c.expected.slice(0, 12)} → ${c.actual.slice(0, 12)}`);
  }
  if (signature) {
    say(`signature: ${signature.status}${signature.reason ? ` — ${signature.reason}` : ""}`);
    for (const f of signature.files.filter((x) => x.status !== "valid")) say(`  ${f.status.padEnd(8)} ${f.path}`);
  }
}
