#!/usr/bin/env node
import module from "node:module";

// Node >= 22.1 keeps compiled code between runs itself (issue 17: one way to start); Node 20 compiles
// the bundle each run (~0.1 s).
module.enableCompileCache?.();
const { main } = await import("../dist/bundle/cli.js");

// `weightbridge … | head` closes stdout early: stop quietly, as other CLIs do.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 70;
  },
);
