import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parseLocalFile } from "./local-file.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/local.yaml", import.meta.url));

function errorsOf(yaml: string): { path: string; rule: string }[] {
  const r = parseLocalFile(yaml, "/srv/tp/local.yaml");
  assert.equal(r.ok, false, "expected errors");
  return r.ok ? [] : r.errors.map((e) => ({ path: e.path, rule: e.rule }));
}

const app = (extra: string): string => `apps:\n  - name: demo\n    maxPods: 2\n${extra}`;

describe("parseLocalFile", () => {
  it("reads examples/local.yaml: the demo app with its run command, deployment named after the app, cwd beside the file", () => {
    const r = parseLocalFile(readFileSync(EXAMPLE, "utf8"), "/srv/tp/local.yaml");
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const [demo] = r.value.config.apps;
    assert.equal(demo?.deployment, "demo");
    assert.deepEqual([demo?.ticketsPerPod, demo?.spareTickets, demo?.minPods, demo?.maxPods], [2, 1, 0, 3]);
    assert.deepEqual(r.value.config.pods, { "default/demo": [] });
    assert.deepEqual(r.value.run["default/demo"], { command: "node", args: ["demo-app.mjs"], env: {}, cwd: "/srv/tp", readinessPath: "/healthz" });
    assert.equal(r.value.config.state.file, "/srv/tp/local.state.json");
  });

  it("keeps an explicit deployment, env values as strings, a relative cwd under the file's directory", () => {
    const r = parseLocalFile(app(`    deployment: web\n    run: { command: ./serve, args: [-p], env: { MODE: fast, N: 3 }, cwd: bin }\n`), "/srv/tp/local.yaml");
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.equal(r.value.config.apps[0]?.deployment, "web");
    assert.deepEqual(r.value.run["default/demo"], { command: "./serve", args: ["-p"], env: { MODE: "fast", N: "3" }, cwd: "/srv/tp/bin", readinessPath: "/" });
  });

  it("names every broken field of run, and refuses pods (ticketplane starts them)", () => {
    const errors = errorsOf(app(`    pods: [{ name: a, address: 127.0.0.1:1, ready: true }]\n    run: { command: "", args: [1], env: { PORT: "1", "9x": a }, readinessPath: healthz, shell: bash }\n`));
    const paths = errors.map((e) => e.path).sort();
    assert.deepEqual(paths, ["apps[0].pods", "apps[0].run.args[0]", "apps[0].run.command", 'apps[0].run.env["9x"]', "apps[0].run.env.PORT", "apps[0].run.readinessPath", "apps[0].run.shell"].sort());
    assert.match(errors.find((e) => e.path === "apps[0].pods")?.rule ?? "", /starts the pods/);
    assert.match(errors.find((e) => e.path === "apps[0].run.env.PORT")?.rule ?? "", /set by ticketplane/);
  });

  it("requires run, and reports the AppSpec's own errors beside it", () => {
    const errors = errorsOf(`apps:\n  - name: demo\n    maxPods: -1\n`);
    assert.deepEqual(errors.map((e) => e.path).sort(), ["apps[0].maxPods", "apps[0].run"]);
    assert.match(errorsOf(app(`    run: [node]\n`))[0]?.rule ?? "", /must be a mapping/);
  });

  it("refuses a stream of app documents and YAML errors, with their place", () => {
    assert.match(errorsOf("apiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\n")[0]?.rule ?? "", /one config document/);
    assert.match(errorsOf("apps: [\n")[0]?.path ?? "", /line \d+, column \d+/);
  });
});
