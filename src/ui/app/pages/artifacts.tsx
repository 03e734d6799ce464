/** Artifacts: what the store holds about scanned models. `scan` and `lock` do not write to the store yet; this page says so. */
export function ArtifactsPage() {
  return (
    <div>
      <h1>Artifacts</h1>
      <p>
        Scans and locks are not stored yet: <code>weightbridge scan</code> writes its findings, licence, origin and ML-BOM to a file (<code>--format json</code>
        , <code>sarif</code> or <code>cyclonedx</code>). Attach a scan to a run's shareable report with <code>weightbridge report RUN --scan scan.json</code>.
      </p>
    </div>
  );
}
