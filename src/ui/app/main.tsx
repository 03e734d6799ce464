/** The weightbridge web app: a Preact single-page app over /api/v1. Routes are real paths so every page has a stable URL. */
import { render } from "preact";
import { ArtifactPage, ArtifactsPage, ModelPage } from "./pages/artifacts.js";
import { CasePage } from "./pages/case.js";
import { CasesPage } from "./pages/cases.js";
import { ComparePage } from "./pages/compare.js";
import { GatewayPage } from "./pages/gateway.js";
import { RedteamPage } from "./pages/redteam.js";
import { RunPage } from "./pages/run.js";
import { RunsPage } from "./pages/runs.js";
import { ScoreboardPage } from "./pages/scoreboard.js";
import { useLocation } from "./router.js";

function route(path: string) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const [a, id, b, suite, index] = parts;
  if (parts.length === 0) return <RunsPage />;
  if (a === "runs" && id && parts.length === 2) return <RunPage id={id} />;
  if (a === "runs" && id && b === "cases" && parts.length === 3) return <CasesPage runId={id} />;
  if (a === "runs" && id && b === "cases" && suite && index && parts.length === 5) return <CasePage runId={id} suite={suite} index={index} />;
  if (a === "runs" && id && b === "redteam" && parts.length === 3) return <RedteamPage runId={id} />;
  if (a === "compare") return <ComparePage />;
  if (a === "gateway") return <GatewayPage />;
  if (a === "scoreboard") return <ScoreboardPage />;
  if (a === "artifacts" && id && parts.length === 2) return <ArtifactPage id={id} />;
  if (a === "artifacts") return <ArtifactsPage />;
  if (a === "model") return <ModelPage />;
  return <p class="error">No page at this address.</p>;
}

function App() {
  const { path } = useLocation();
  const nav = [
    ["/", "Runs"],
    ["/compare", "Compare"],
    ["/gateway", "Gateway"],
    ["/scoreboard", "Scoreboard"],
    ["/artifacts", "Artifacts"],
  ] as const;
  return (
    <>
      <header>
        <a class="brand" href="/">
          weightbridge
        </a>
        <nav>
          {nav.map(([to, label]) => (
            <a href={to} class={(to === "/" ? path === "/" || path.startsWith("/runs") : path.startsWith(to)) ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main key={path}>{route(path)}</main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
