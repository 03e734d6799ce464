#!/usr/bin/env node
import { main } from "../dist/bundle/main.js";

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
