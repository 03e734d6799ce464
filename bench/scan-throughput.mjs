#!/usr/bin/env node
/**
 * `weightbridge scan` against the hashing floor, side by side: a 2 GB model folder (three safetensors
 * shards and a PyTorch zip), page cache warm. References: `openssl dgst -sha256` two files at a time
 * (the floor: both cores hashing) and coreutils `sha256sum` one file at a time. weightbridge runs as a
 * user would run it (a fresh process, start-up included), hashing and parsing every file.
 *
 *   node bench/scan-throughput.mjs [--gb 2] [--runs 3] [--dir /tmp/wb-scan-bench] [--base /path/to/other/checkout]
 *
 * --base runs another build's CLI (its bin/weightbridge.js, built) in the same rounds, for an A/B.
 * Each round runs floor, sha256sum, scan (and base) back to back; the per-round ratio scan/floor is
 * printed too, since on a shared machine the load moves between rounds more than within one.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const GB = Number(arg("gb", "2"));
const RUNS = Number(arg("runs", "3"));
const DIR = arg("dir", "/tmp/wb-scan-bench");
const BIN = fileURLToPath(new URL("../bin/weightbridge.js", import.meta.url));
const BASE = arg("base", "");
const part = Math.floor((GB * 1e9) / 4);

function writeSafetensors(file, bytes) {
  const n = Math.floor(bytes / 4 / 1024) * 1024;
  const h = Buffer.from(JSON.stringify({ __metadata__: { format: "pt" }, w: { dtype: "F32", shape: [n], data_offsets: [0, n * 4] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const fd = openSync(file, "w");
  writeSync(fd, len);
  writeSync(fd, h);
  const chunk = randomFillSync(Buffer.alloc(1 << 24));
  for (let left = n * 4; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  closeSync(fd);
}

function writeTorchZip(file, bytes) {
  // A stored zip as torch.save writes it: data.pkl, then one stored entry of tensor bytes.
  const py = `
import zipfile, pickle, os, sys
with zipfile.ZipFile(sys.argv[1], "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
    z.writestr("archive/data.pkl", pickle.dumps({"w": [1, 2, 3]}, protocol=2))
    z.writestr("archive/version", "3\\n")
    with z.open("archive/data/0", "w", force_zip64=True) as f:
        chunk = os.urandom(1 << 24)
        left = int(sys.argv[2])
        while left > 0:
            f.write(chunk[: min(len(chunk), left)])
            left -= len(chunk)
`;
  execFileSync("python3", ["-c", py, file, String(bytes)]);
}

function prepare() {
  mkdirSync(DIR, { recursive: true });
  const want = ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "pytorch_model.bin"];
  for (const f of want) {
    const p = join(DIR, f);
    if (existsSync(p) && Math.abs(statSync(p).size - part) < part * 0.01) continue;
    process.stderr.write(`writing ${p} (${(part / 1e9).toFixed(2)} GB)\n`);
    if (f.endsWith(".safetensors")) writeSafetensors(p, part);
    else writeTorchZip(p, part);
  }
  return want.map((f) => join(DIR, f));
}

function time(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} failed: ${r.stderr}`);
  return { s, stdout: r.stdout?.toString() ?? "" };
}

function peakRss(cmd, args) {
  const r = spawnSync("/usr/bin/time", ["-f", "%M", cmd, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  const kb = Number(r.stderr.toString().trim().split("\n").pop());
  return Number.isFinite(kb) ? kb / 1024 : Number.NaN;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const files = prepare();
const total = files.reduce((s, f) => s + statSync(f).size, 0);
execFileSync("cat", files, { stdio: ["ignore", "ignore", "ignore"], maxBuffer: 0 }); // warm the page cache
const runs = { openssl: [], sha256sum: [], scan: [], base: [] };
for (let i = 0; i < RUNS; i++) {
  runs.openssl.push(time("sh", ["-c", `printf '%s\\n' ${files.map((f) => `'${f}'`).join(" ")} | xargs -P 2 -n 1 openssl dgst -sha256 > /dev/null`]).s);
  runs.sha256sum.push(time("sha256sum", files).s);
  runs.scan.push(time(process.execPath, [BIN, "scan", DIR, "--format", "json", "-o", "/dev/null"]).s);
  if (BASE) runs.base.push(time(process.execPath, [join(BASE, "bin/weightbridge.js"), "scan", DIR, "--format", "json", "-o", "/dev/null"]).s);
  const r = runs.scan[i] / runs.openssl[i];
  console.log(
    `round ${i + 1}: floor ${runs.openssl[i].toFixed(2)} s, scan ${runs.scan[i].toFixed(2)} s (${r.toFixed(2)}×)${BASE ? `, base ${runs.base[i].toFixed(2)} s` : ""}`,
  );
}
const rss = peakRss(process.execPath, [BIN, "scan", DIR, "--format", "json", "-o", "/dev/null"]);
const o = median(runs.openssl);
const rows = [
  ["openssl dgst -sha256, 2 at a time (floor)", o],
  ["sha256sum, 1 at a time", median(runs.sha256sum)],
  ["weightbridge scan (start-up included)", median(runs.scan)],
  ...(BASE ? [[`base build's scan (${BASE})`, median(runs.base)]] : []),
];
console.log(`${readdirSync(DIR).length} files, ${(total / 1e9).toFixed(2)} GB, medians of ${RUNS}`);
for (const [name, s] of rows) console.log(`${name.padEnd(44)} ${s.toFixed(2)} s  ${(s / o).toFixed(2)}× floor`);
console.log(`weightbridge scan peak RSS ${rss.toFixed(0)} MB`);
console.log(
  `median of per-round ratios: ${median(runs.scan.map((s, i) => s / runs.openssl[i])).toFixed(2)}×; load average ${(await import("node:os"))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
console.log(`target: scan ≤ 1.25× floor → ${median(runs.scan) / o <= 1.25 ? "met" : "not met"}`);
