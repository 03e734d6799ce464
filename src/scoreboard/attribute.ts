/**
 * Who a model belongs to: the uploader (who published it) and the lab and country of its base model
 * (first-party upload, `base_model:*` tag, or a conservative name match), with the method used.
 * Unattributable rows are "unknown", never guessed. Pure.
 */

import type { Origins } from "../hub/index.js";
import { matchFamily } from "./families.js";

export type AttributionMethod = "first-party" | "base_model tag" | "name match" | "unknown";

export interface ModelRow {
  id: string;
  author: string;
  /** Base models from `base_model:*` tags, when the source has tags. */
  baseModels?: string[];
}

export interface Attribution {
  uploader: string;
  uploaderLab: string | null;
  uploaderCountry: string | null;
  lab: string | null;
  labOrg: string | null;
  country: string | null;
  family: string | null;
  method: AttributionMethod;
  /** Published by someone other than the base model's lab (quantisation, fine-tune, merge…). */
  derivative: boolean;
}

/** base_model tags as the Hub writes them: "base_model:Qwen/Qwen3-8B", "base_model:quantized:Qwen/Qwen3-8B". */
export function baseModelsFromTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    if (!t.startsWith("base_model:")) continue;
    const rest = t.slice("base_model:".length);
    const id = /^(adapter|finetune|quantized|merge):/.test(rest) ? rest.slice(rest.indexOf(":") + 1) : rest;
    if (/^[\w.-]+\/[\w.-]+$/.test(id) && !out.includes(id)) out.push(id);
  }
  return out;
}

function nameOf(id: string): string {
  return id.includes("/") ? id.slice(id.indexOf("/") + 1) : id;
}

export function attribute(row: ModelRow, origins: Origins): Attribution {
  const author = row.author || (row.id.includes("/") ? (row.id.split("/")[0] ?? "") : "");
  const up = origins.byOrg.get(author.toLowerCase());
  const re = origins.reuploaders.get(author.toLowerCase());
  const base = {
    uploader: author,
    uploaderLab: up?.lab ?? re?.lab ?? null,
    uploaderCountry: up?.country ?? re?.country ?? null,
  };
  const fromOrg = (org: string, name: string, method: AttributionMethod): Attribution | undefined => {
    const o = origins.byOrg.get(org.toLowerCase());
    if (!o) return undefined;
    const fam = matchFamily(name);
    const family = fam && fam.org.toLowerCase() === o.org.toLowerCase() ? fam.family : (o.family ?? null);
    return { ...base, lab: o.lab, labOrg: o.org, country: o.country, family, method, derivative: o.org.toLowerCase() !== author.toLowerCase() };
  };

  // 1. The lab's own upload.
  if (up) {
    const a = fromOrg(up.org, nameOf(row.id), "first-party");
    if (a) return a;
  }
  // 2. A base_model tag pointing at a known lab (or at a re-upload whose name reveals the family).
  for (const b of row.baseModels ?? []) {
    const org = b.split("/")[0] ?? "";
    const a = fromOrg(org, nameOf(b), "base_model tag");
    if (a) return a;
    const fam = matchFamily(nameOf(b));
    if (fam) {
      const viaName = fromOrg(fam.org, nameOf(b), "base_model tag");
      if (viaName) return { ...viaName, family: fam.family };
    }
  }
  // 3. A conservative match of the model's own name.
  const fam = matchFamily(nameOf(row.id));
  if (fam) {
    const a = fromOrg(fam.org, nameOf(row.id), "name match");
    if (a) return { ...a, family: fam.family };
  }
  return { ...base, lab: null, labOrg: null, country: null, family: null, method: "unknown", derivative: true };
}
