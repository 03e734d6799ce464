import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/gateway/config.js";
import { decide } from "../../src/gateway/policy.js";
import { UserError } from "../../src/util/errors.js";
import { tempDir, writeFiles } from "../support/project.js";

const ISSUE_EXAMPLE = `listen: 127.0.0.1:8080
deployments:
  - id: openai-gpt4o
    baseUrl: https://api.openai.com/v1
    model: gpt-4o
    apiKeyEnv: OPENAI_API_KEY
    accepts: []                 # data classes this deployment may receive
  - id: qwen-internal
    baseUrl: http://10.0.0.5:8000/v1
    model: Qwen/Qwen3-30B-A3B
    accepts: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS]
routes:
  - model: support              # what clients send as "model"
    targets: [openai-gpt4o, qwen-internal]   # preference and fallback order
    onSensitive: reroute        # reroute | redact | block
`;

function config(text: string) {
  const dir = tempDir();
  writeFiles(dir, { "gateway.yaml": text });
  return loadGatewayConfig(join(dir, "gateway.yaml"));
}

describe("gateway.yaml", () => {
  it("accepts the issue's example", () => {
    const c = config(ISSUE_EXAMPLE);
    expect(c.deployments.map((d) => d.id)).toEqual(["openai-gpt4o", "qwen-internal"]);
    expect(c.routes[0]).toMatchObject({ model: "support", onSensitive: "reroute" });
    expect(c.audit.bodies).toBe("none");
  });
  it("names file:line for an unknown target and an unknown class", () => {
    const e1 = (() => {
      try {
        config(ISSUE_EXAMPLE.replace("targets: [openai-gpt4o, qwen-internal]", "targets: [openai-gpt4o, qwen-intrnal]"));
      } catch (e) {
        return e as UserError;
      }
    })();
    expect(e1).toBeInstanceOf(UserError);
    expect(e1?.message).toMatch(/gateway\.yaml:14: routes\[0\]\.targets\[1\]: "qwen-intrnal" is not a deployment id/);
    expect(() => config(ISSUE_EXAMPLE.replace("accepts: [EMAIL, PHONE", "accepts: [EMAILS, PHONE"))).toThrow(
      /gateway\.yaml:11: deployments\[1\]\.accepts\[0\]: unknown data class "EMAILS"/,
    );
  });
});

describe("routing policy", () => {
  const c = config(ISSUE_EXAMPLE);
  const route = c.routes[0];
  if (!route) throw new Error("no route");
  it("accepts clean requests in preference order", () => {
    const d = decide(route, c.deployments, []);
    expect(d.action).toBe("accept");
    expect(d.action !== "block" && d.targets.map((t) => t.deployment.id)).toEqual(["openai-gpt4o", "qwen-internal"]);
  });
  it("reroutes to the first deployment that accepts every class, never falling back to one that does not", () => {
    const d = decide(route, c.deployments, ["EMAIL", "PHONE"]);
    expect(d).toMatchObject({ action: "reroute", classes: ["EMAIL", "PHONE"] });
    expect(d.action === "reroute" && d.targets.map((t) => t.deployment.id)).toEqual(["qwen-internal"]);
  });
  it("blocks when no deployment accepts a class; SECRET goes nowhere unless named", () => {
    expect(decide(route, c.deployments, ["SECRET"])).toMatchObject({ action: "block", classes: ["SECRET"] });
    expect(decide(route, c.deployments, ["EMAIL", "SECRET"])).toMatchObject({ action: "block" });
  });
  it("redacts per target what that target may not receive", () => {
    const d = decide({ ...route, onSensitive: "redact" }, c.deployments, ["EMAIL", "SECRET"]);
    expect(d.action === "redact" && d.targets.map((t) => [t.deployment.id, t.redact])).toEqual([
      ["openai-gpt4o", ["EMAIL", "SECRET"]],
      ["qwen-internal", ["SECRET"]],
    ]);
    expect(decide({ ...route, onSensitive: "block" }, c.deployments, ["EMAIL"])).toMatchObject({ action: "block", classes: ["EMAIL"] });
  });
});
