/** `weightbridge ui`: serve the local web app and its JSON API over the store (src/ui/server). */
import { spawn } from "node:child_process";
import { type Command, Option } from "commander";
import { UserError } from "../util/errors.js";
import { packagePath } from "../util/package-root.js";
import { port, say } from "./output.js";
import { storeConfigOption } from "./store-access.js";

interface UiFlags {
  config?: string;
  /** Internal: print one run's Report as JSON and exit (the server's child process for big runs). */
  reportJson?: string;
  port: number;
  host: string;
  open?: boolean;
  token?: string;
}

function openBrowser(url: string): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const p = spawn(cmd, [url], { stdio: "ignore", detached: true });
  p.on("error", () => say(`(could not start a browser: open ${url} yourself)`));
  p.unref();
}

export function registerUi(program: Command): void {
  program
    .command("ui")
    .description("a local web app over the store: runs, cases, comparisons, red-team, gateway traffic, scoreboard")
    .addOption(storeConfigOption("read"))
    .option("--port <n>", "port to listen on (0: any free port)", port, 7300)
    .option("--host <address>", "address to bind; anything but loopback needs --token", "127.0.0.1")
    .option("--token <token>", "require this token on every request (or set WEIGHTBRIDGE_UI_TOKEN)")
    .option("--open", "open the app in the default browser")
    .addOption(new Option("--report-json <run>", "internal: print the run page's Report of RUN as JSON and exit").hideHelp())
    .addHelpText(
      "after",
      `
The app is read-only. The JSON API under /api/v1 is documented in docs/ui.md.

Examples:
  weightbridge ui -c weightbridge.yaml --open
  WEIGHTBRIDGE_UI_TOKEN=$(openssl rand -hex 16) weightbridge ui --host 0.0.0.0 -c weightbridge.yaml`,
    )
    .action(async (o: UiFlags) => {
      const { createUiServer, isLoopback, printRunReport } = await import("../ui/index.js");
      if (o.reportJson !== undefined) {
        const { openStoreFor } = await import("../evaluate/index.js");
        const { store } = await openStoreFor(o.config);
        try {
          await printRunReport(store, o.reportJson);
        } finally {
          await store.close();
        }
        return;
      }
      const token = o.token ?? process.env.WEIGHTBRIDGE_UI_TOKEN;
      if (token !== undefined && token.length < 8)
        throw new UserError("the UI token is too short (fewer than 8 characters)", "use a random token, e.g. `openssl rand -hex 16`");
      if (!isLoopback(o.host) && !token)
        throw new UserError(
          `refusing to serve the UI on ${o.host} without a token: anyone who can reach that address could read every run`,
          "pass --token TOKEN or set WEIGHTBRIDGE_UI_TOKEN, or keep the default --host 127.0.0.1",
        );
      const { openStoreFor } = await import("../evaluate/index.js");
      const { store } = await openStoreFor(o.config);
      let app: Awaited<ReturnType<typeof createUiServer>>;
      try {
        app = await createUiServer({ store, host: o.host, port: o.port, token, appDir: packagePath("dist", "ui") });
      } catch (e) {
        await store.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") throw new UserError(`port ${o.port} on ${o.host} is in use`, "pick another with --port N (or --port 0 for any free port)");
        if (code === "EADDRNOTAVAIL") throw new UserError(`cannot bind ${o.host}: no such local address`, "use an address of this machine, or 127.0.0.1");
        throw e;
      }
      const addr = app.server.address();
      const bound = addr && typeof addr === "object" ? addr.port : o.port;
      const shown = o.host.includes(":") ? `[${o.host}]` : o.host;
      const url = `http://${shown}:${bound}/${token ? `?token=${encodeURIComponent(token)}` : ""}`;
      say(`weightbridge ui: ${url}  (store: ${store.location}; Ctrl-C to stop)`);
      if (o.open) openBrowser(url);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await app.close();
      await store.close();
    });
}
