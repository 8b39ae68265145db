/**
 * The container image's steps, run without Docker: `npm run build` (the
 * Dockerfile's build stage), then a directory holding only what the runtime
 * stage copies — package.json, the lock file, the protos workspace's
 * package.json, bin/ and dist/ — with `npm ci --omit=dev --ignore-scripts`
 * (the runtime stage's install). There the published bin must run the
 * compiled JavaScript: no tsx, no TypeScript, no sources.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { waitFor } from "../support/wait-for.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
// tsc's whole-program check and an offline npm ci on a shared 2-core machine: a bound on a hang, not a timing assertion.
const SLOW = { timeout: 600_000 };

let dir = "";

function run(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** npm's own CLI, run by this Node (the machine's `npm` may sit on an older Node). */
function npmCli(): string {
  const beside = join(dirname(process.execPath), "../lib/node_modules/npm/bin/npm-cli.js");
  if (existsSync(beside)) return beside;
  const which = spawnSync("npm", ["root", "-g"], { encoding: "utf8" });
  return join(which.stdout.trim(), "npm/bin/npm-cli.js");
}

const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");

/** The arguments of the runtime stage's `RUN npm ci …` (everything after `npm`, up to `&&`). */
function runtimeInstallArgs(): string[] {
  const runtime = DOCKERFILE.slice(DOCKERFILE.indexOf("AS runtime"));
  const m = /^RUN npm (ci [^&\n]*)/m.exec(runtime);
  assert.ok(m?.[1] !== undefined, "the runtime stage runs npm ci");
  return m[1].trim().split(/\s+/);
}

describe("Dockerfile", () => {
  const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  it("copies only files that exist and that .dockerignore keeps in the context", () => {
    const copies = [...DOCKERFILE.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? "").split(" "));
    assert.ok(copies.length >= 8);
    for (const source of copies) {
      assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: missing`);
      assert.ok(!ignored.some((i) => source === i || source.startsWith(`${i}/`)), `COPY ${source}: excluded by .dockerignore`);
    }
  });
  it("builds on Node 24 slim in two stages; runs dist/ through the bin as a non-root user other than the sidecar's 1337", () => {
    assert.match(DOCKERFILE, /^ARG NODE_IMAGE=node:24-slim$/m);
    assert.equal([...DOCKERFILE.matchAll(/^FROM \$\{NODE_IMAGE\} AS (\w+)$/gm)].map((m) => m[1]).join(","), "build,runtime");
    assert.match(DOCKERFILE, /^RUN npm run build$/m);
    assert.deepEqual(runtimeInstallArgs().slice(0, 3), ["ci", "--omit=dev", "--ignore-scripts"]);
    const user = /^USER (\d+):(\d+)$/m.exec(DOCKERFILE);
    assert.ok(user?.[1] !== undefined && !["0", "1337"].includes(user[1]));
    assert.match(DOCKERFILE, /^ENTRYPOINT \["node", "\/app\/bin\/ticketplane\.js"\]$/m);
    const deployment = readFileSync(join(ROOT, "deploy/deployment.yaml"), "utf8");
    assert.match(deployment, new RegExp(`runAsUser: ${user[1]}\\b`), "the Deployment runs the image's user");
  });
});

describe("npm run build, then the runtime stage's production-only install", SLOW, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "ticketplane-image-"));
    const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "--out", join(dir, "dist")], { cwd: ROOT, encoding: "utf8", timeout: 540_000 });
    assert.equal(build.status, 0, `build failed:\n${build.stdout}\n${build.stderr}`);
    for (const f of ["package.json", "package-lock.json", "protos/package.json", "bin/ticketplane.js"]) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(ROOT, f), join(dir, f));
    }
    // The runtime stage's own flags, read from the Dockerfile (offline here: the packages are in npm's cache).
    const install = spawnSync(process.execPath, [npmCli(), ...runtimeInstallArgs(), "--offline"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
    assert.equal(install.status, 0, `npm ci --omit=dev failed:\n${install.stdout}\n${install.stderr}`);
  });
  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("leaves the devDependencies out: no tsx, no TypeScript, no sources next to the bin", () => {
    for (const dev of ["tsx", "typescript", "esbuild", "ts-proto", "@grpc/grpc-js-xds"]) assert.equal(existsSync(join(dir, "node_modules", dev)), false, `${dev} installed`);
    assert.equal(existsSync(join(dir, "src")), false);
    assert.ok(existsSync(join(dir, "dist/src/cli.js")));
    assert.ok(existsSync(join(dir, "dist/node_modules/@envoyproxy/protos/gen/envoy/service/auth/v3/external_auth.js")), "the protos workspace is compiled into dist");
  });

  it("bin/ticketplane.js --help and version run from dist", () => {
    const help = run(["bin/ticketplane.js", "--help"], dir);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /ticketplane serve --kubernetes/);
    const version = run(["bin/ticketplane.js", "version"], dir);
    assert.equal(version.stdout.trim(), `ticketplane ${(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version}`);
  });

  it("validate accepts the example config and names the field of a bad one (exit 1)", () => {
    const good = run(["bin/ticketplane.js", "validate", join(ROOT, "examples/standalone.yaml")], dir);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const badFile = join(dir, "bad.yaml");
    writeFileSync(badFile, "apps:\n  - name: x\n    pathPrefix: /x/\n    ticketsPerPod: -1\n");
    const bad = run(["bin/ticketplane.js", "validate", badFile], dir);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout + bad.stderr, /ticketsPerPod/);
  });

  it("serve listens (port 0), answers /healthz, and stops cleanly on SIGTERM", async () => {
    const config = parse(readFileSync(join(ROOT, "examples/standalone.yaml"), "utf8")) as Record<string, unknown>;
    config.listen = { authz: "127.0.0.1:0", xds: "127.0.0.1:0", accessLog: "127.0.0.1:0", admin: "127.0.0.1:0" };
    config.state = { file: join(dir, "serve.state.json") };
    const file = join(dir, "serve.yaml");
    writeFileSync(file, stringify(config));
    const child = spawn(process.execPath, ["bin/ticketplane.js", "serve", "--config", file, "--log-format", "json"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => /admin listening on (\S+)/.test(out) || child.exitCode !== null, { timeoutMs: 60_000, what: () => `serve's listening lines; stderr:\n${err}` });
      const admin = /admin listening on (\S+)/.exec(out)?.[1];
      assert.ok(admin !== undefined, `serve exited before listening:\n${err}`);
      const health = await fetch(`http://${admin}/healthz`);
      assert.equal(health.status, 200);
      child.kill("SIGTERM");
      assert.equal(await exited, 0, err);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
