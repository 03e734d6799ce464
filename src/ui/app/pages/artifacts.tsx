/**
 * Artifacts: the scans and locks `scan`/`lock` kept in the store (with -c, --store or
 * WEIGHTBRIDGE_DATABASE_URL); one artifact with its findings, licence, origin lineage and ML-BOM;
 * and a model's page, which links its scans and locks and the eval and red-team runs that ran it.
 * Every stored string (paths, findings' messages, evidence) is rendered as text.
 */
import { enc, href, useLocation } from "../router.js";
import { when } from "../text.js";
import { Card, Exports, Failure, Loading, Text, Verdict } from "../ui.js";
import { useApi } from "../use-api.js";

interface Summary {
  files?: number;
  reasons?: string[];
  counts?: Record<string, number>;
  license?: { id: string; name?: string; commercial?: string } | null;
  origin?: { lab: string | null; country: string | null; root: string; chain: string[] } | null;
  bytes?: number;
  lockfile?: string;
}
interface Artifact {
  id: string;
  kind: "scan" | "lock";
  target: string;
  repo: string | null;
  createdAt: string;
  verdict: string | null;
  summary: Summary;
}
interface Finding {
  severity: string;
  rule: string;
  file: string;
  message: string;
  evidence?: string;
}
interface OriginLink {
  repo: string;
  org?: string;
  lab?: string | null;
  country?: string | null;
  relation?: string;
}
interface ScanReport {
  findings: Finding[];
  files: { path: string; size?: number; format?: string; sha256?: string }[];
  license?: { id: string; name?: string; commercial?: string; restrictions?: string[]; sources?: { from: string; value: string }[] };
  origin?: { repo?: string; uploader?: OriginLink; chain?: OriginLink[]; root?: OriginLink };
}
interface BomComponent {
  type?: string;
  name?: string;
  version?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
  components?: BomComponent[];
}
interface Bom {
  metadata?: { component?: BomComponent };
  components?: BomComponent[];
}

/** The BOM's model component's parts (its files) and any top-level components. */
const bomParts = (b: Bom | null): BomComponent[] => [...(b?.metadata?.component?.components ?? []), ...(b?.components ?? [])];
const prop = (c: BomComponent, name: string) => c.properties?.find((p) => p.name === name)?.value ?? "";

const modelHref = (ref: string) => href("/model", { ref });
const SEVERITIES = ["critical", "high", "medium", "low", "info"];

function counts(c: Record<string, number> | undefined): string {
  const parts = SEVERITIES.filter((s) => c?.[s]).map((s) => `${c?.[s]} ${s}`);
  return parts.length ? parts.join(", ") : "no findings";
}

export function ArtifactTable({ rows }: { rows: Artifact[] }) {
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>artifact</th>
          <th>kind</th>
          <th>kept</th>
          <th>target</th>
          <th>model</th>
          <th>verdict</th>
          <th>licence</th>
          <th>origin</th>
          <th>findings / files</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => (
          <tr key={a.id}>
            <td>
              <a href={`/artifacts/${enc(a.id)}`}>
                <Text value={a.id} />
              </a>
            </td>
            <td>{a.kind}</td>
            <td>{when(a.createdAt)}</td>
            <td>
              <Text value={a.target} clip={60} />
            </td>
            <td>
              <a href={modelHref(a.repo ?? a.target)}>
                <Text value={a.repo ?? "this path"} clip={50} />
              </a>
            </td>
            <td>{a.verdict ? <Verdict v={a.verdict} /> : "—"}</td>
            <td>
              <Text
                value={
                  a.summary.license ? `${a.summary.license.id}${a.summary.license.commercial ? ` (commercial: ${a.summary.license.commercial})` : ""}` : "—"
                }
              />
            </td>
            <td>
              <Text value={a.summary.origin ? `${a.summary.origin.lab ?? "?"} (${a.summary.origin.country ?? "?"})` : "—"} />
            </td>
            <td>{a.kind === "scan" ? counts(a.summary.counts) : `${a.summary.files ?? 0} files`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ArtifactsPage() {
  const { query } = useLocation();
  const params = { kind: query.get("kind") ?? undefined, limit: 100 };
  const res = useApi<{ artifacts: Artifact[]; hasMore: boolean }>("/artifacts", params);
  return (
    <div>
      <h1>Artifacts</h1>
      <p class="muted">
        Scans and locks kept by <code>weightbridge scan TARGET -c weightbridge.yaml</code> and <code>weightbridge lock TARGET -c weightbridge.yaml</code> (or{" "}
        <code>--store</code>, or <code>WEIGHTBRIDGE_DATABASE_URL</code>), newest first.
      </p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Exports path="/artifacts" params={params} />
      </form>
      <Failure error={res.error} />
      <Loading on={res.loading && !res.data} />
      {res.data && (res.data.artifacts.length ? <ArtifactTable rows={res.data.artifacts} /> : <p>No scans or locks are kept in this store yet.</p>)}
    </div>
  );
}

function Lineage({ origin }: { origin: NonNullable<ScanReport["origin"]> }) {
  const all: OriginLink[] = [
    ...(origin.uploader ? [{ ...origin.uploader, relation: "uploaded by" }] : []),
    ...(origin.chain ?? []),
    ...(origin.root ? [{ ...origin.root, relation: "root" }] : []),
  ];
  // One line per repository: an upload that is its own root reads "uploaded by, root".
  const links: OriginLink[] = [];
  for (const l of all) {
    const last = links.at(-1);
    if (last?.repo === l.repo) last.relation = [last.relation, l.relation].filter(Boolean).join(", ");
    else links.push({ ...l });
  }
  return (
    <ol class="lineage">
      {links.map((l) => (
        <li>
          <a href={modelHref(l.repo)}>
            <Text value={l.repo} />
          </a>{" "}
          <span class="muted">
            <Text value={[l.relation, l.lab, l.country].filter(Boolean).join(" · ")} />
          </span>
        </li>
      ))}
    </ol>
  );
}

/** A scan's details: findings, licence, origin lineage and the ML-BOM, each its own card. */
function ScanDetails({ id, report, bom }: { id: string; report: ScanReport; bom: Bom | null }) {
  return (
    <>
      <Card title={`Findings (${report.findings.length})`}>
        <FindingsTable findings={report.findings} />
      </Card>
      <Card title="Licence">
        <LicenceText license={report.license} />
      </Card>
      <Card title="Origin lineage">
        {report.origin?.repo ? <Lineage origin={report.origin} /> : <p>Origin unknown (pass --repo ORG/NAME for a local folder).</p>}
      </Card>
      <BomCard id={id} bom={bom} />
    </>
  );
}

function FindingsTable({ findings }: { findings: ScanReport["findings"] }) {
  if (!findings.length) return <p>No findings.</p>;
  return (
    <table class="grid findings">
      <thead>
        <tr>
          <th>severity</th>
          <th>rule</th>
          <th>file</th>
          <th>message</th>
          <th>evidence</th>
        </tr>
      </thead>
      <tbody>
        {findings.map((f) => (
          <tr>
            <td>
              <span class={`sev ${f.severity}`}>{f.severity}</span>
            </td>
            <td>
              <Text value={f.rule} />
            </td>
            <td>
              <Text value={f.file} />
            </td>
            <td>
              <Text value={f.message} />
            </td>
            <td>
              <Text value={f.evidence ?? ""} clip={200} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LicenceText({ license }: { license: ScanReport["license"] }) {
  if (!license) return <p>No licence found.</p>;
  return (
    <p>
      <Text value={`${license.name ?? license.id} (${license.id}); commercial use: ${license.commercial ?? "unknown"}`} />
      {license.restrictions?.length ? (
        <>
          <br />
          <Text value={`restrictions: ${license.restrictions.join("; ")}`} />
        </>
      ) : null}
      <br />
      <span class="muted">
        <Text value={`from: ${(license.sources ?? []).map((s) => `${s.from} (${s.value})`).join(", ") || "—"}`} />
      </span>
    </p>
  );
}

/** The ML-BOM's components (the first 200) and a link to download it whole. */
function BomCard({ id, bom }: { id: string; bom: Bom | null }) {
  return (
    <Card title={`ML-BOM (CycloneDX, ${bomParts(bom).length} components)`}>
      <p>
        <a href={`/api/v1/artifacts/${enc(id)}/bom`} download>
          download the ML-BOM (CycloneDX JSON)
        </a>
      </p>
      <table class="grid">
        <thead>
          <tr>
            <th>type</th>
            <th>name</th>
            <th>format</th>
            <th>sha-256</th>
          </tr>
        </thead>
        <tbody>
          {bomParts(bom)
            .slice(0, 200)
            .map((c) => (
              <tr>
                <td>{c.type ?? ""}</td>
                <td>
                  <Text value={c.name ?? ""} />
                </td>
                <td>
                  <Text value={prop(c, "weightbridge:format")} />
                </td>
                <td>
                  <Text value={c.hashes?.find((h) => h.alg === "SHA-256")?.content ?? ""} clip={16} />
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </Card>
  );
}

function LockDetails({ report }: { report: { files?: { path: string; size: number; sha256: string }[] } }) {
  return (
    <Card title={`Locked files (${report.files?.length ?? 0})`}>
      <table class="grid">
        <thead>
          <tr>
            <th>file</th>
            <th class="num">bytes</th>
            <th>sha-256</th>
          </tr>
        </thead>
        <tbody>
          {(report.files ?? []).slice(0, 500).map((f) => (
            <tr>
              <td>
                <Text value={f.path} />
              </td>
              <td class="num">{f.size}</td>
              <td>
                <Text value={f.sha256} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

export function ArtifactPage({ id }: { id: string }) {
  const res = useApi<{ artifact: Artifact & { report: unknown; bom: Bom | null } }>(`/artifacts/${enc(id)}`);
  const a = res.data?.artifact;
  return (
    <div>
      <h1>
        <Text value={a ? `${a.kind} of ${a.target}` : id} />
      </h1>
      <Failure error={res.error} />
      <Loading on={res.loading && !a} />
      {a && (
        <>
          <p>
            {a.verdict ? <Verdict v={a.verdict} /> : null} kept {when(a.createdAt)} · model:{" "}
            <a href={modelHref(a.repo ?? a.target)}>
              <Text value={a.repo ?? a.target} />
            </a>
            {a.summary.reasons?.length ? (
              <>
                {" "}
                · <Text value={a.summary.reasons.join("; ")} />
              </>
            ) : null}
          </p>
          {a.kind === "scan" ? <ScanDetails id={a.id} report={a.report as ScanReport} bom={a.bom} /> : <LockDetails report={a.report as { files?: [] }} />}
        </>
      )}
    </div>
  );
}

interface ModelRun {
  id: string;
  kind: string;
  createdAt: string;
  status: string;
  models: string[];
}

export function ModelPage() {
  const { query } = useLocation();
  const ref = query.get("ref") ?? "";
  const res = useApi<{ ref: string; refs: string[]; artifacts: Artifact[]; runs: ModelRun[]; runsLookedAt: number }>(ref ? "/models" : null, { ref });
  const d = res.data;
  const byKind = (k: string) => d?.runs.filter((r) => r.kind === k) ?? [];
  return (
    <div>
      <h1>
        Model <Text value={ref} />
      </h1>
      <Failure error={res.error} />
      <Loading on={res.loading && !d} />
      {d && (
        <>
          <p class="muted">
            <Text value={`also known as: ${d.refs.filter((r) => r !== ref).join(", ") || "—"} (in the newest ${d.runsLookedAt} runs)`} />
          </p>
          <Card title={`Scans and locks (${d.artifacts.length})`}>
            {d.artifacts.length ? <ArtifactTable rows={d.artifacts} /> : <p>None kept for this model.</p>}
          </Card>
          {(["eval", "redteam"] as const).map((k) => (
            <Card title={`${k === "eval" ? "Evals" : "Red-team runs"} (${byKind(k).length})`}>
              <ul>
                {byKind(k).map((r) => (
                  <li>
                    <a href={k === "redteam" ? `/runs/${enc(r.id)}/redteam` : `/runs/${enc(r.id)}`}>
                      <Text value={r.id} />
                    </a>{" "}
                    <span class="muted">
                      {when(r.createdAt)} · {r.status} · <Text value={r.models.join(", ")} />
                    </span>
                  </li>
                ))}
              </ul>
            </Card>
          ))}
        </>
      )}
    </div>
  );
}
