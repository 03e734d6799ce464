/** gateway.yaml: deployments, routes and data-class policy. Errors name file:line. */
import { z } from "zod";
import { duration, loadYamlFile } from "../config/index.js";
import { BUILTIN_CLASSES } from "../detect/index.js";

const className = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "class names are UPPER_SNAKE_CASE");

/** How a shadow answer is compared with the primary's (the reference). Model-backed comparisons name a deployment. */
export const shadowCompareSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("equals") }),
  z.strictObject({ type: z.literal("label") }),
  z.strictObject({ type: z.literal("json-match") }),
  z.strictObject({ type: z.literal("similarity"), deployment: z.string().min(1), threshold: z.number().min(-1).max(1).default(0.8) }),
  /** Pairwise: "is the shadow answer at least as good as the primary's?" asked of a judge deployment. */
  z.strictObject({
    type: z.literal("llm-judge"),
    deployment: z.string().min(1),
    rubric: z.string().min(1).optional(),
    threshold: z.number().min(0).max(1).default(0.5),
  }),
]);
export type ShadowCompare = z.infer<typeof shadowCompareSchema>;

/** Mirror a sample of a route's requests to candidate deployments after the caller is answered. */
const shadowSchema = z.strictObject({
  targets: z.array(z.string()).min(1),
  sample: z.number().min(0).max(1).default(1),
  compare: z
    .array(shadowCompareSchema)
    .min(1)
    .default([{ type: "equals" }]),
  /** Mirrored requests waiting (all targets of the route); beyond it they are dropped and counted. */
  maxQueue: z.int().positive().max(1_000_000).default(1000),
  /** Bytes those waiting requests may hold (bodies and answers kept for the comparison); beyond it they are dropped and counted. */
  maxQueueBytes: z
    .int()
    .positive()
    .max(2 ** 40)
    .default(64 * 1024 * 1024),
});

/** Opt-in storage of a sample of a route's traffic, every detected value replaced by its placeholder. */
const captureSchema = z.strictObject({
  sample: z.number().min(0).max(1),
  retentionDays: z.number().positive().max(3650).default(30),
  redact: z.literal(true, { error: "capture stores traffic only with every detected value replaced (redact: true)" }).default(true),
});

export const gatewayConfigSchema = z
  .strictObject({
    listen: z
      .string()
      .regex(/^[\w.:[\]-]+:\d{1,5}$/, 'host:port, e.g. "127.0.0.1:8080"')
      .default("127.0.0.1:8080"),
    deployments: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[A-Za-z0-9][\w.-]*$/),
          baseUrl: z.url(),
          model: z.string().min(1),
          apiKeyEnv: z
            .string()
            .regex(/^[A-Za-z_]\w*$/)
            .optional(),
          accepts: z.array(className).default([]),
          price: z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() }).optional(),
          /** Wait for the answer's response head (a non-streamed answer's whole generation) before falling back. */
          timeout: duration.default("120s"),
          /** Limits when the deployment serves as a shadow target (its mirrored requests only). */
          shadow: z.strictObject({ concurrency: z.int().positive().max(1024).default(4), rpm: z.int().positive().optional() }).default({ concurrency: 4 }),
        }),
      )
      .min(1),
    routes: z
      .array(
        z.strictObject({
          model: z.string().min(1),
          targets: z.array(z.string()).min(1),
          onSensitive: z.enum(["reroute", "redact", "block"]).default("block"),
          restore: z.boolean().default(false),
          /** Sensitive data in answers that the caller did not send: replace it, or only count it. */
          onSensitiveResponse: z.enum(["redact", "audit"]).default("redact"),
          /** A request the gateway does not understand (unknown field, content of an unknown type): refuse it (400), or forward it with every string scanned. */
          onUnknownShape: z.enum(["refuse", "pass"]).default("refuse"),
          /** An answer the gateway cannot read as text (compressed, binary): withhold it (502), or pass it unscanned. */
          onUnscannableResponse: z.enum(["withhold", "pass"]).default("withhold"),
          shadow: shadowSchema.optional(),
          capture: captureSchema.optional(),
        }),
      )
      .min(1),
    classes: z
      .array(z.strictObject({ name: className, terms: z.array(z.string().min(1)).optional(), patterns: z.array(z.string().min(1)).optional() }))
      .default([]),
    /** Characters of a streamed answer held back so an entity split across chunks is caught. */
    holdBack: z.number().int().min(0).max(4096).default(128),
    audit: z.strictObject({ bodies: z.enum(["none", "redacted", "full"]).default("none") }).default({ bodies: "none" }),
    store: z.string().optional(),
    /** /v1/models and /metrics answer without a key (they name the routes and the traffic). */
    public: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const ids = new Set(c.deployments.map((d) => d.id));
    const known = new Set<string>([...BUILTIN_CLASSES, ...c.classes.map((k) => k.name)]);
    c.routes.forEach((r, i) => {
      r.targets.forEach((t, j) => {
        if (!ids.has(t))
          ctx.addIssue({ code: "custom", path: ["routes", i, "targets", j], message: `"${t}" is not a deployment id; known: ${[...ids].join(", ")}` });
      });
    });
    c.deployments.forEach((d, i) => {
      d.accepts.forEach((a, j) => {
        if (!known.has(a))
          ctx.addIssue({ code: "custom", path: ["deployments", i, "accepts", j], message: `unknown data class "${a}"; known: ${[...known].join(", ")}` });
      });
    });
    c.routes.forEach((r, i) => {
      checkShadow(r, i, ids, ctx);
    });
    const models = new Set<string>();
    c.routes.forEach((r, i) => {
      if (models.has(r.model)) ctx.addIssue({ code: "custom", path: ["routes", i, "model"], message: `route "${r.model}" is defined twice` });
      models.add(r.model);
    });
    c.classes.forEach((k, i) => {
      for (const p of k.patterns ?? [])
        try {
          new RegExp(p);
        } catch (e) {
          ctx.addIssue({
            code: "custom",
            path: ["classes", i, "patterns"],
            message: `invalid regular expression ${JSON.stringify(p)}: ${(e as Error).message}`,
          });
        }
    });
  });
/** Shadow targets and comparison deployments exist; a shadow target is not also one of the route's own targets. */
function checkShadow(r: { targets: string[]; shadow?: z.infer<typeof shadowSchema> | undefined }, i: number, ids: Set<string>, ctx: z.RefinementCtx): void {
  if (!r.shadow) return;
  const seen = new Set<string>();
  r.shadow.targets.forEach((t, j) => {
    const path = ["routes", i, "shadow", "targets", j];
    if (!ids.has(t)) ctx.addIssue({ code: "custom", path, message: `"${t}" is not a deployment id; known: ${[...ids].join(", ")}` });
    else if (r.targets.includes(t))
      ctx.addIssue({ code: "custom", path, message: `"${t}" is one of the route's own targets; a shadow target is a candidate that does not serve the route` });
    else if (seen.has(t)) ctx.addIssue({ code: "custom", path, message: `"${t}" is listed twice` });
    seen.add(t);
  });
  r.shadow.compare.forEach((c, j) => {
    if ("deployment" in c && !ids.has(c.deployment))
      ctx.addIssue({
        code: "custom",
        path: ["routes", i, "shadow", "compare", j, "deployment"],
        message: `"${c.deployment}" is not a deployment id; known: ${[...ids].join(", ")}`,
      });
  });
}

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type Deployment = GatewayConfig["deployments"][number];
export type Route = GatewayConfig["routes"][number];

export function loadGatewayConfig(file: string): GatewayConfig {
  return loadYamlFile(file, gatewayConfigSchema, "gateway config", "pass -c gateway.yaml");
}
