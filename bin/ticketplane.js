#!/usr/bin/env node
// The `ticketplane` command. Needs Node >= 22.19.
//
// Installed (the container image, a package): runs the compiled JavaScript in
// dist/ (`npm run build`) with production dependencies only.
// Dev checkout (src/ beside this file and tsx installed): runs the TypeScript
// sources through tsx's ESM loader, so an edit is never shadowed by a stale
// dist/ left by an earlier build.
import { existsSync } from "node:fs";
import { URL } from "node:url";

const here = new URL("../", import.meta.url);
const source = new URL("src/cli.ts", here);
const compiled = new URL("dist/src/cli.js", here);

async function loadCli() {
  if (existsSync(source)) {
    const tsx = await import("tsx/esm/api").catch(() => undefined);
    if (tsx !== undefined) {
      tsx.register();
      return import(source.href);
    }
  }
  if (existsSync(compiled)) return import(compiled.href);
  process.stderr.write("ticketplane: no compiled dist/ (run npm run build) and no tsx to run the sources (run npm ci)\n");
  return undefined;
}

const cli = await loadCli();
const code = cli === undefined ? 1 : await cli.main(process.argv.slice(2));
process.stdout.write("", () => process.exit(code));
