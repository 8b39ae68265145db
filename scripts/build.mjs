#!/usr/bin/env node
// `npm run build`: compiles src/ and the generated protos workspace to plain
// JavaScript under dist/ (or --out DIR), so the `ticketplane` bin and the
// container image run with production dependencies only (no tsx, no
// TypeScript at run time).
//
// Layout of the output, and why:
//   dist/src/…                          src/*.ts compiled (tests and fixtures left out)
//   dist/node_modules/@envoyproxy/protos/gen/…   protos/gen compiled, with a package.json
//       whose exports map `./*` to `./gen/*.js`. Node resolves the
//       `@envoyproxy/protos/…` imports of dist/src by walking up to this
//       folder before the project's node_modules, whose workspace link points
//       at the TypeScript sources (only tsx can load those).
//   dist/package.json                   name, version and "type": "module"
//       (`ticketplane version` reads it; the files are ES modules)
//   dist/examples/standalone.yaml       the config `ticketplane dev` runs
//
// The type check is tsc's own (tsconfig.build.json extends tsconfig.json).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function outDir(argv) {
  const i = argv.indexOf("--out");
  if (i === -1) return join(root, "dist");
  const value = argv[i + 1];
  if (value === undefined || value.startsWith("-")) fail("--out needs a directory");
  return resolve(value);
}

function fail(message) {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

const out = outDir(process.argv.slice(2));
if (!existsSync(join(root, "protos", "gen"))) fail("protos/gen is missing; run npm ci (its prepare script generates it)");
const tsc = join(root, "node_modules", ".bin", "tsc");
if (!existsSync(tsc)) fail(`tsc not found at ${tsc}; the build needs the devDependencies (npm ci)`);

rmSync(out, { recursive: true, force: true });
const run = spawnSync(tsc, ["-p", join(root, "tsconfig.build.json"), "--outDir", out], { stdio: "inherit" });
if (run.status !== 0) fail(`tsc exited with ${run.status ?? run.signal}`);

const protos = join(out, "node_modules", "@envoyproxy", "protos");
mkdirSync(protos, { recursive: true });
renameSync(join(out, "protos", "gen"), join(protos, "gen"));
rmSync(join(out, "protos"), { recursive: true, force: true });
const protosPkg = JSON.parse(readFileSync(join(root, "protos", "package.json"), "utf8"));
writeFileSync(
  join(protos, "package.json"),
  JSON.stringify({ name: protosPkg.name, version: protosPkg.version, private: true, type: "module", exports: { "./*": "./gen/*.js" } }, null, 2) + "\n",
);

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
writeFileSync(join(out, "package.json"), JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: "module" }, null, 2) + "\n");
cpSync(join(root, "examples", "standalone.yaml"), join(out, "examples", "standalone.yaml"));
// `ticketplane dev` reads examples/local.yaml and runs the demo app beside it.
for (const file of ["local.yaml", "demo-app.mjs"]) cpSync(join(root, "examples", file), join(out, "examples", file));
// Files the sources read at run time (the dashboard's HTML, CSS and JS) go beside the compiled modules.
cpSync(join(root, "src"), join(out, "src"), { recursive: true, filter: (from) => statSync(from).isDirectory() || !from.endsWith(".ts") });
process.stdout.write(`build: ${out}\n`);
