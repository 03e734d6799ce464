/** What the gateway benchmarks send and route (one config, one realistic request, free ports), and how they start and measure their servers. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Spawn a server; resolves with the process once its output matches `ready`, rejects if it exits first. */
export function start(cmd, args, ready, opts = {}) {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d) => {
      out += d.toString();
      if (ready.test(out)) resolve(p);
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    p.once("exit", (code) => reject(new Error(`${cmd} ${args.join(" ")} exited (${code}): ${out.slice(-500)}`)));
  });
}

/** CPU time (user + system, ms) a process has used, all its threads, from /proc (clock ticks of 10 ms). */
export const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Two deployments on the stub; the route reroutes requests with PII to the one that accepts it. */
export const gatewayYaml = (stubPort, listen) => `${listen ? `listen: ${listen}\n` : ""}deployments:
  - id: external
    baseUrl: http://127.0.0.1:${stubPort}/v1
    model: gpt-4o
    accepts: []
  - id: internal
    baseUrl: http://127.0.0.1:${stubPort}/v1
    model: qwen
    accepts: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS]
routes:
  - model: support
    targets: [external, internal]
    onSensitive: reroute
`;

// A realistic request: a system prompt and a support ticket (~450 characters) with an email address,
// so detection runs and the route reroutes to the deployment that accepts EMAIL.
export const body = JSON.stringify({
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

/**
 * autocannon `requests` whose ticket text is unique (a counter in the order number), as real traffic
 * is: the system prompt repeats and may be served from the detector's cache, the user's text never is.
 */
export function uniqueTickets() {
  const state = { sent: 0 };
  return { state, requests: [{ setupRequest: (req) => ({ ...req, body: body.replace("58213-77", `58213-${state.sent++}`) }) }] };
}
