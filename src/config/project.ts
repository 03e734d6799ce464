import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { resolveModelPaths } from "../providers/index.js";
import { UserError } from "../util/errors.js";
import { type Config, currentConfigSchema, type ModelConfig, modelKeys } from "./schema.js";
import { loadSuite, loadSuiteAsync, type Suite } from "./suite.js";
import { parseWith, parseYaml } from "./yaml-source.js";

export interface Project {
  configPath: string;
  dir: string;
  config: Config;
  models: ModelConfig[];
  suites: Suite[];
  /** Where the store lives: a file path, sqlite:PATH or postgres:// URL. */
  storeUrl: string;
}

export const DEFAULT_CONFIG = "weightbridge.yaml";

function knownConfigKeys(path: readonly PropertyKey[], value: unknown): string[] {
  if (path.length === 0) return ["models", "baseline", "suites", "judge", "embedder", "defaults", "store", "report"];
  if (path[0] === "report") return path.length === 1 ? ["criteria"] : ["minQualityRatio", "maxCostRatio", "maxErrorRate"];
  if (path[0] === "models" && typeof path[1] === "number") {
    const m = (value as { models?: { provider?: string }[] }).models?.[path[1]];
    if (path.length === 2) return typeof m?.provider === "string" ? modelKeys(m.provider) : [];
    if (path[2] === "price") return ["input", "output", "cachedInput"];
    if (path[2] === "params") return ["temperature", "maxTokens", "topP", "seed", "stop"];
    if (path[2] === "hosting") return ["gpu", "gpus", "hourlyUsd"];
  }
  if (path[0] === "defaults") return path.length === 1 ? ["params", "concurrency", "timeout", "retries"] : ["temperature", "maxTokens", "topP", "seed", "stop"];
  return [];
}

export function resolveConfigPath(file?: string): string {
  const p = resolve(file ?? DEFAULT_CONFIG);
  if (!existsSync(p))
    throw new UserError(`${p}: config file not found`, file ? "check the path given to -c" : `create ${DEFAULT_CONFIG} here or pass -c FILE (see examples/)`);
  return p;
}

/** Where the store is, from the environment, the config, or beside the config. */
export function resolveStoreUrl(configDir: string, configured?: string): string {
  const env = process.env.WEIGHTBRIDGE_DATABASE_URL;
  if (env) return env;
  if (configured) return /^[a-z]+:/.test(configured) && !/^[A-Za-z]:[\\/]/.test(configured) ? configured : resolve(configDir, configured);
  return resolve(configDir, ".weightbridge", "weightbridge.db");
}

function readConfigText(configPath: string): string {
  try {
    return readFileSync(configPath, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${configPath}: cannot read the config (${code === "EISDIR" ? "it is a directory" : (code ?? String(e))})`,
      code === "EISDIR" ? "pass the YAML file itself: -c DIR/weightbridge.yaml" : "check the file's permissions",
    );
  }
}

export function loadConfigOnly(file?: string): { configPath: string; config: Config; storeUrl: string } {
  const configPath = resolveConfigPath(file);
  const src = parseYaml(configPath, readConfigText(configPath));
  const config = parseWith(src, currentConfigSchema(), (p) => knownConfigKeys(p, src.value));
  const dir = dirname(configPath);
  return { configPath, config, storeUrl: resolveStoreUrl(dir, config.store) };
}

/** A project whose suites hold only inline cases and CSV/TSV/JSONL rows (Parquet and hf: need loadProjectAsync). */
export function loadProject(file?: string): Project {
  const { configPath, config, storeUrl } = loadConfigOnly(file);
  const dir = dirname(configPath);
  return finishProject(
    configPath,
    config,
    storeUrl,
    config.suites.map((s) => loadSuite(resolve(dir, s))),
  );
}

/** Any project, including suites that read Parquet files and Hub datasets. */
export async function loadProjectAsync(file?: string): Promise<Project> {
  const { configPath, config, storeUrl } = loadConfigOnly(file);
  const dir = dirname(configPath);
  const suites: Suite[] = [];
  for (const s of config.suites) suites.push(await loadSuiteAsync(resolve(dir, s)));
  return finishProject(configPath, config, storeUrl, suites);
}

function finishProject(configPath: string, config: Config, storeUrl: string, suites: Suite[]): Project {
  const dir = dirname(configPath);
  const names = new Set<string>();
  for (const s of suites) {
    if (names.has(s.name)) throw new UserError(`${s.file}: suite name "${s.name}" is used twice`, "give each suite a unique name");
    names.add(s.name);
  }
  const models = config.models.map((m) => resolveModelPaths(m, dir));
  return { configPath, dir, config, models, suites, storeUrl };
}
