#!/usr/bin/env node
// Regenerates protos/gen (the @envoyproxy/protos workspace package) from the
// Envoy API protos that @grpc/grpc-js-xds ships, and from KEDA's external
// scaler contract kept in this repository (protos/externalscaler.proto), with
// buf and ts-proto, both taken from node_modules. Runs as the root `prepare` script, so `npm ci`
// always leaves a fresh copy; nothing under protos/gen is edited by hand.
//
// Why a patched copy: the validate.proto bundled with @grpc/grpc-js-xds is
// older than the Envoy protos that use it (they set `ignore_empty`, which that
// validate.proto lacks), so buf refuses them as they are. The `(validate.*)`
// options never change generated types, so we compile against a copy of
// validate.proto in which every *Rules message has the fields the Envoy protos
// use. The patch is applied to a scratch copy; node_modules is never touched.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "protos", "gen");
const require = createRequire(join(root, "package.json"));

/** Envoy API packages we generate (with everything they import). */
const ENVOY_PACKAGES = [
  "service/auth/v3",
  "service/discovery/v3",
  "service/accesslog/v3",
  "config/core/v3",
  "config/listener/v3",
  "config/route/v3",
  "config/cluster/v3",
  "config/endpoint/v3",
  "config/bootstrap/v3",
  "config/accesslog/v3",
  "extensions/filters/network/http_connection_manager/v3",
  "extensions/filters/http/ext_authz/v3",
  "extensions/filters/http/router/v3",
  "extensions/access_loggers/grpc/v3",
  "extensions/upstreams/http/v3",
  "data/accesslog/v3",
];
const OTHER_FILES = ["googleapis/google/rpc/status.proto"];
/** Our own protos (a buf module root in the scratch copy), each copied from protos/: KEDA's external scaler, ticketplane's peer API. */
const OWN_ROOT = "own";
const OWN_FILES = ["externalscaler.proto", "peer.proto"];

/** Fields the Envoy protos set on validate rules that the bundled validate.proto may lack. */
const MISSING_RULE_FIELDS = [{ name: "ignore_empty", type: "bool" }];
// Field numbers far above any PGV uses, so the shim never collides with a real field.
const SHIM_FIELD_BASE = 10000;

function bin(name) {
  const p = join(root, "node_modules", ".bin", name);
  if (!existsSync(p)) fail(`${name} not found at ${p}; run npm ci first`);
  return p;
}

function fail(message) {
  console.error(`gen-protos: ${message}`);
  process.exit(1);
}

/** Adds each missing field to every `message *Rules { … }` block (brace-matched). */
export function patchValidateProto(text) {
  const header = /^message (\w+Rules) \{/gm;
  let result = "";
  let last = 0;
  for (let m = header.exec(text); m; m = header.exec(text)) {
    let depth = 0;
    let end = m.index;
    for (let i = m.index; i < text.length; i++) {
      if (text[i] === "{") depth++;
      else if (text[i] === "}" && --depth === 0) {
        end = i;
        break;
      }
    }
    const body = text.slice(m.index, end);
    const additions = MISSING_RULE_FIELDS.filter((f) => !new RegExp(`\\b${f.name}\\s*=`).test(body)).map(
      (f, k) => `    // ticketplane gen-protos shim: newer Envoy protos set this.\n    optional ${f.type} ${f.name} = ${SHIM_FIELD_BASE + k};\n`,
    );
    result += text.slice(last, end) + additions.join("");
    last = end;
  }
  return result + text.slice(last);
}

function main() {
  const deps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
  const roots = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"];
  for (const r of roots) if (!existsSync(join(deps, r))) fail(`missing ${join(deps, r)}`);

  const work = mkdtempSync(join(tmpdir(), "ticketplane-protos-"));
  try {
    for (const r of roots) {
      // protoc-gen-validate also ships Java and test protos; only validate/ is an import root.
      const from = r === "protoc-gen-validate" ? join(deps, r, "validate") : join(deps, r);
      const to = r === "protoc-gen-validate" ? join(work, r, "validate") : join(work, r);
      cpSync(from, to, { recursive: true });
    }
    for (const f of OWN_FILES) cpSync(join(root, "protos", f), join(work, OWN_ROOT, f));
    const validatePath = join(work, "protoc-gen-validate", "validate", "validate.proto");
    writeFileSync(validatePath, patchValidateProto(readFileSync(validatePath, "utf8")));

    writeFileSync(
      join(work, "buf.yaml"),
      `version: v2\nmodules:\n${[...roots, OWN_ROOT].map((r) => `  - path: ${r}\n`).join("")}`,
    );
    const tsProtoOpts = [
      "outputServices=grpc-js",
      "esModuleInterop=true",
      "importSuffix=.js",
      "env=node",
      "useOptionals=messages",
      "useDate=false",
      "forceLong=number",
      "exportCommonSymbols=false",
    ];
    writeFileSync(
      join(work, "buf.gen.yaml"),
      [
        "version: v2",
        "plugins:",
        `  - local: ${JSON.stringify(bin("protoc-gen-ts_proto"))}`,
        `    out: ${JSON.stringify(join(work, "out"))}`,
        "    strategy: all",
        "    opt:",
        ...tsProtoOpts.map((o) => `      - ${o}`),
        "",
      ].join("\n"),
    );
    const paths = [...ENVOY_PACKAGES.map((p) => `envoy-api/envoy/${p}`), ...OTHER_FILES, ...OWN_FILES.map((f) => `${OWN_ROOT}/${f}`)];
    const args = ["generate", ...paths.flatMap((p) => ["--path", p])];
    const run = spawnSync(bin("buf"), args, { cwd: work, stdio: ["ignore", "inherit", "inherit"] });
    if (run.status !== 0) fail(`buf generate failed (exit ${run.status ?? run.signal})`);

    rmSync(out, { recursive: true, force: true });
    cpSync(join(work, "out"), out, { recursive: true });
    const count = countFiles(out);
    if (count === 0) fail("buf generate produced no files");
    console.log(`gen-protos: wrote ${count} files to ${out}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function countFiles(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
