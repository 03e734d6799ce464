/** data/origins.json: Hub organisation → lab and country, with the Hub code (issue 17): the scoreboard attributes models with it and `scan` reports an artifact's origin. */
import { readFileSync } from "node:fs";
import { packagePath } from "../util/package-root.js";

export interface Origin {
  org: string;
  lab: string;
  country: string;
  family?: string;
  source: string;
}

export interface Reuploader {
  org: string;
  kind: "re-uploader";
  lab: string | null;
  country: string | null;
  source: string;
}

export interface Origins {
  asOf: string;
  byOrg: Map<string, Origin>;
  reuploaders: Map<string, Reuploader>;
}

let cached: Origins | undefined;

export function loadOrigins(): Origins {
  if (!cached) {
    const raw = JSON.parse(readFileSync(packagePath("data", "origins.json"), "utf8")) as { asOf: string; orgs: Origin[]; reuploaders: Reuploader[] };
    cached = {
      asOf: raw.asOf,
      byOrg: new Map(raw.orgs.map((o) => [o.org.toLowerCase(), o])),
      reuploaders: new Map(raw.reuploaders.map((r) => [r.org.toLowerCase(), r])),
    };
  }
  return cached;
}
