/**
 * CycloneDX 1.6 ML-BOM via @cyclonedx/cyclonedx-library: the model as a machine-learning-model
 * component with its files (SHA-256 each), license and source; pedigree to the base model chain.
 * The library has no Pedigree model, so `pedigree.ancestors` is added to the normalised JSON, as the
 * 1.6 schema defines it.
 */
import type { ScanReport } from "../scan.js";

/** Async: the library (~100 CommonJS files and ajv) loads only when a BOM is asked for, not at every scan. */
export async function toCycloneDx(r: ScanReport, toolVersion: string): Promise<string> {
  const CDX = await import("@cyclonedx/cyclonedx-library");
  const bom = new CDX.Models.Bom();
  const name = r.origin.repo ?? r.facts.name ?? r.target.replace(/^hf:/, "");
  const version = r.source?.type === "hf" ? (r.source.commit ?? r.source.revision) : undefined;
  const model = new CDX.Models.Component(CDX.Enums.ComponentType.MachineLearningModel, name, {
    bomRef: "model",
    ...(version ? { version } : {}),
    ...(r.origin.uploader?.lab ? { publisher: r.origin.uploader.lab } : {}),
  });
  if (r.license.spdx && !r.license.spdx.startsWith("LicenseRef-")) model.licenses.add(new CDX.Models.SpdxLicense(r.license.spdx));
  else if (r.license.name) model.licenses.add(new CDX.Models.NamedLicense(r.license.name));
  if (r.origin.repo)
    model.externalReferences.add(new CDX.Models.ExternalReference(`https://huggingface.co/${r.origin.repo}`, CDX.Enums.ExternalReferenceType.Website));
  model.properties.add(new CDX.Models.Property("weightbridge:scan:verdict", r.verdict));
  for (const sev of ["critical", "high", "medium"] as const)
    model.properties.add(new CDX.Models.Property(`weightbridge:scan:findings:${sev}`, String(r.findings.filter((f) => f.severity === sev).length)));
  if (r.license.commercial) model.properties.add(new CDX.Models.Property("weightbridge:license:commercial", r.license.commercial));
  if (r.origin.root?.country) model.properties.add(new CDX.Models.Property("weightbridge:origin:country", r.origin.root.country));
  if (r.facts.architecture) model.properties.add(new CDX.Models.Property("weightbridge:architecture", r.facts.architecture));
  for (const f of r.files) {
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.File, f.path, { bomRef: `file:${f.path}` });
    if (f.sha256) c.hashes.set(CDX.Enums.HashAlgorithm["SHA-256"], f.sha256);
    c.properties.add(new CDX.Models.Property("weightbridge:format", f.format));
    c.properties.add(new CDX.Models.Property("weightbridge:size", String(f.size)));
    model.components.add(c);
  }
  bom.metadata.component = model;
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, "weightbridge", { version: toolVersion }));
  const normalizer = new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6).makeForBom();
  const json = normalizer.normalize(bom, { sortLists: false }) as unknown as { metadata: { component: Record<string, unknown> } };
  if (r.origin.chain.length)
    json.metadata.component.pedigree = {
      ancestors: r.origin.chain.map((n) => ({
        type: "machine-learning-model",
        name: n.repo,
        ...(n.lab ? { publisher: n.lab } : {}),
        externalReferences: [{ type: "website", url: `https://huggingface.co/${n.repo}` }],
      })),
    };
  return `${JSON.stringify(json, null, 2)}\n`;
}
