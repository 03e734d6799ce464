/**
 * Judge and embeddings calls for model-backed comparisons (llm-judge, similarity), sent to a
 * gateway deployment through the gateway's own forwarder and audited like any upstream call. They
 * carry only redacted texts (compare.ts), so the helper deployment receives no detected value.
 */
import type { AuditLog } from "../audit-log.js";
import { auditRow, sha256Hex } from "../audit-log.js";
import type { Deployment } from "../config.js";
import type { Forwarder } from "../forwarder.js";
import type { Kind } from "../request-shape.js";
import type { Helpers } from "./compare.js";
import { answerText } from "./texts.js";

/** A comparison deployment that did not give a usable answer. */
export class CompareError extends Error {
  override name = "CompareError";
}

export function gatewayHelpers(deployments: readonly Deployment[], forwarder: Forwarder, audit: AuditLog, route: string): Helpers {
  const call = async (id: string, kind: Kind, body: Record<string, unknown>): Promise<string> => {
    const d = deployments.find((x) => x.id === id);
    if (!d) throw new CompareError(`comparison deployment "${id}" is not configured`);
    const upstream = { ...body, model: d.model };
    const bytes = JSON.stringify(upstream);
    const started = performance.now();
    const a = await forwarder.send({ deployment: d, kind, body: upstream });
    const status = a.kind === "answer" ? a.status : 502;
    await audit.record(
      auditRow({
        route: `${route} (shadow)`,
        deployment: d.id,
        action: "shadow-compare",
        status,
        upstream_sha256: sha256Hex(bytes),
        latency_ms: performance.now() - started,
      }),
    );
    if (a.kind !== "answer") throw new CompareError(`comparison deployment ${d.id} failed: ${a.kind === "streamed" ? "streamed" : a.error}`);
    if (a.status >= 300) throw new CompareError(`comparison deployment ${d.id} answered HTTP ${a.status}`);
    return a.text;
  };
  return {
    async judge(id, messages) {
      const text = answerText(await call(id, "chat", { messages, temperature: 0 }));
      if (text === undefined) throw new CompareError(`judge deployment ${id} gave no answer text`);
      return text;
    },
    async embed(id, texts) {
      const raw = await call(id, "embeddings", { input: texts });
      let data: unknown;
      try {
        data = (JSON.parse(raw) as { data?: unknown }).data;
      } catch {
        throw new CompareError(`embeddings deployment ${id} did not answer JSON`);
      }
      if (!Array.isArray(data)) throw new CompareError(`embeddings deployment ${id} answered without data[]`);
      return data.map((e) => {
        const v = (e as { embedding?: unknown }).embedding;
        if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) throw new CompareError(`embeddings deployment ${id} answered a malformed vector`);
        return v as number[];
      });
    },
  };
}
