#!/usr/bin/env node
// The `ticketplane` command. The sources are TypeScript run through tsx (no
// build step): register tsx's ESM loader, then hand argv to src/cli.ts.
// Equivalent to `node --import tsx src/cli.ts …`. Needs Node >= 22.19
// (`npx ticketplane …` inside the project uses the bundled Node 24).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
const code = await main(process.argv.slice(2));
process.stdout.write("", () => process.exit(code));
