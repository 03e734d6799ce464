/** Scoreboard: shares by country / lab / family from the stored snapshots (src/scoreboard's view), movers and top models. */
import { href, navigate, useLocation } from "../router.js";
import { pct } from "../text.js";
import { Card, Failure, Loading, Text } from "../ui.js";
import { useApi } from "../use-api.js";

interface Answer {
  snapshots: { id: string; takenAt: string; models: number }[];
  view: {
    snapshot: string;
    total: number;
    rows: { key: string; downloads: number; share: number }[];
    topModels: { id: string; downloads: number; family: string | null; lab: string | null; country: string | null }[];
    movers?: { from: string; to: string; rows: { key: string; shareFrom: number; shareTo: number; delta: number }[] };
  } | null;
}

export function ScoreboardPage() {
  const { query } = useLocation();
  const by = query.get("by") ?? "country";
  const res = useApi<Answer>("/scoreboard", { by });
  const v = res.data?.view;
  return (
    <div>
      <h1>Scoreboard</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <select aria-label="group by" value={by} onChange={(e) => navigate(href("/scoreboard", { by: (e.target as HTMLSelectElement).value }), true)}>
          {["country", "lab", "family", "uploader"].map((b) => (
            <option value={b}>by {b}</option>
          ))}
        </select>
      </form>
      <Failure error={res.error} />
      <Loading on={res.loading && !res.data} />
      {res.data && !v && <p class="muted">No snapshots stored yet: run `weightbridge scoreboard ingest` with this store.</p>}
      {v && (
        <div class="row">
          <Card title={`Shares of downloads, snapshot ${v.snapshot}`}>
            <table class="grid">
              <tbody>
                {v.rows.map((r) => (
                  <tr key={r.key}>
                    <td>
                      <Text value={r.key} />
                    </td>
                    <td class="num">{pct(r.share)}</td>
                    <td class="bar">
                      <span style={{ width: `${Math.round(r.share * 100)}%` }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          {v.movers && (
            <Card title={`Movers ${v.movers.from} → ${v.movers.to}`}>
              <table class="grid">
                <tbody>
                  {v.movers.rows.map((r) => (
                    <tr key={r.key}>
                      <td>
                        <Text value={r.key} />
                      </td>
                      <td class="num">{pct(r.shareFrom)}</td>
                      <td class="num">{pct(r.shareTo)}</td>
                      <td class="num">{pct(r.delta)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )}
          <Card title="Top models">
            <table class="grid">
              <tbody>
                {v.topModels.map((m) => (
                  <tr key={m.id}>
                    <td>
                      <Text value={m.id} />
                    </td>
                    <td>
                      <Text value={[m.family, m.lab, m.country].filter(Boolean).join(" · ")} />
                    </td>
                    <td class="num">{m.downloads.toLocaleString("en")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </div>
      )}
    </div>
  );
}
