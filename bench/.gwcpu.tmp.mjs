import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

const BIN = "/work/main/bin/weightbridge.js";
const start = (args, re) =>
  new Promise((res) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let o = "";
    const f = (d) => {
      o += d;
      if (re.test(o)) res(p);
    };
    p.stdout.on("data", f);
    p.stderr.on("data", f);
  });
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const stub = await start(["/work/main/bench/stub.mjs", "18401", "0"], /listening/);
const dir = mkdtempSync(join(tmpdir(), "gwcpu-"));
writeFileSync(
  join(dir, "gateway.yaml"),
  `listen: 127.0.0.1:18402\ndeployments:\n  - id: external\n    baseUrl: http://127.0.0.1:18401/v1\n    model: gpt-4o\n    accepts: []\n  - id: internal\n    baseUrl: http://127.0.0.1:18401/v1\n    model: qwen\n    accepts: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS]\nroutes:\n  - model: support\n    targets: [external, internal]\n    onSensitive: reroute\n`,
);
const key = JSON.parse(execFileSync(process.execPath, [BIN, "keys", "create", "-c", join(dir, "gateway.yaml"), "--name", "b", "--json"]).toString()).key;
const gw = await start(
  [...(process.env.PROF ? ["--cpu-prof", "--cpu-prof-dir=/tmp/gwprof"] : []), BIN, "gateway", "-c", join(dir, "gateway.yaml")],
  /gateway on/,
);
const body = JSON.stringify({
  model: "support",
  messages: [
    { role: "system", content: "You are a support assistant for an online shop. Classify the ticket and draft a short reply." },
    {
      role: "user",
      content:
        "Hello, I ordered a pair of running shoes last Tuesday (order 58213-77) and the tracking page has not changed for four days. Could you check with the courier and let me know when it will arrive? You can reach me at jane.doe@example.com or reply here. Thanks a lot, Jane",
    },
  ],
  max_tokens: 64,
});
let seq = 0;
const requests = [{ setupRequest: (req) => ({ ...req, body: body.replace("58213-77", `58213-${seq++}`) }) }];
const opts = {
  url: "http://127.0.0.1:18402/v1/chat/completions",
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
  body,
  requests,
  connections: 32,
  overallRate: 1000,
};
await autocannon({ ...opts, duration: 3 });
const c0 = cpu(gw.pid),
  s0 = cpu(stub.pid);
const r = await autocannon({ ...opts, duration: 10 });
const n = r.requests.total;
console.log(
  "requests",
  n,
  "gateway CPU ms/request",
  ((cpu(gw.pid) - c0) / n).toFixed(3),
  "stub",
  ((cpu(stub.pid) - s0) / n).toFixed(3),
  "p50",
  r.latency.p50,
  "p99",
  r.latency.p99,
);
gw.kill("SIGINT");
stub.kill();
await new Promise((r) => setTimeout(r, 1000));
