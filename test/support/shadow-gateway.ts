/**
 * The fixture of the shadow-mode tests: two recording upstreams on 127.0.0.1 — `main` (the primary
 * target) and `cand` (the shadow) — and a gateway in this process over them, with a real SQLite store
 * in a temp folder. `main` and `cand` are each deployment's YAML fields after its baseUrl; `more` adds
 * deployments before the routes. `track` gets every cleanup (the upstreams, then the gateway and store).
 */

import { tempDir, writeFiles } from "./project.js";
import { startRecordingUpstream } from "./recording-upstream.js";
import { startTestGateway, TEST_KEY } from "./test-gateway.js";

export async function startShadowGateway(o: { route: string; main: string; cand: string; more?: string }, track: (close: () => Promise<void>) => void) {
  const primary = await startRecordingUpstream();
  const shadow = await startRecordingUpstream();
  track(primary.close);
  track(shadow.close);
  const dir = tempDir();
  writeFiles(dir, {
    "gateway.yaml": `deployments:
  - { id: main, baseUrl: "${primary.baseUrl}", ${o.main} }
  - { id: cand, baseUrl: "${shadow.baseUrl}", ${o.cand} }
${o.more ?? ""}
routes:
${o.route}`,
  });
  const g = await startTestGateway(dir, "wb.db");
  let closed = false;
  let storeClosed = false;
  /** Stops the gateway (draining the shadow queue); the store stays open for the test to read. */
  const close = async () => {
    if (closed) return;
    closed = true;
    await g.gw.close();
  };
  /** Stops the gateway, then closes the store (the SQLite files are then complete on disk). */
  const closeStore = async () => {
    await close();
    if (storeClosed) return;
    storeClosed = true;
    await g.store.close();
  };
  track(closeStore);
  /** POST a body (route `support`) to /v1/`path` with the test key. */
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(`${g.gw.url}/v1/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "support", ...(body as object) }),
    });
    return { status: r.status, body: await r.text() };
  };
  return { primary, shadow, g, dir, close, closeStore, post };
}
