import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The package root: this file sits at src/util or dist/util, two levels below it. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export function packagePath(...parts: string[]): string {
  return [PACKAGE_ROOT.replace(/\/$/, ""), ...parts].join("/");
}

/** weightbridge's own version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }).version;
}
