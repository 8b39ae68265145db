/**
 * `ticketplane dev` as a child process: the control plane in local mode,
 * its pods real processes of the demo app, scaled by the real reconciler.
 * Users are browsers asking Check over gRPC (Envoy's own protos) and then
 * talking to the pod Check named. Bounds are loose (a loaded 2-core
 * machine): they only stop a hang, they measure nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAlive } from "../support/process-liveness.js";
import { eventually, waitFor } from "../support/wait-for.js";
import { Browser, checkClient } from "./check-client.js";
import { localConfig } from "./local-config.js";
import { ServeProcess, getJson, tempDir, type TempDir } from "./serve-process.js";

const LONG = { timeoutMs: 60_000, intervalMs: 100 };


interface LocalPodJson {
  readonly name: string;
  readonly port: number;
  readonly pid?: number;
  readonly ready: boolean;
}

async function startDev(dir: TempDir): Promise<ServeProcess> {
  const file = await dir.write("local.yaml", localConfig());
  const p = new ServeProcess(["dev", "--config", file, "--log-format", "json", "--log-level", "debug"]);
  try {
    return await p.listening(60_000);
  } catch (err) {
    await p.kill();
    throw err;
  }
}

async function pods(dev: ServeProcess): Promise<LocalPodJson[]> {
  const { body } = await getJson(`${dev.admin}/api/config`);
  return (body as { local: { pods: LocalPodJson[] }[] }).local[0]?.pods ?? [];
}

/** What the demo pod says when the request carries the headers Check set. */
async function whoami(dev: ServeProcess, pod: string, ticket: string | undefined, user = "someone"): Promise<{ pod: string; count: number }> {
  const target = (await pods(dev)).find((p) => p.name === pod);
  assert.ok(target !== undefined, `pod ${pod} is listed`);
  const res = await fetch(`http://127.0.0.1:${target.port}/whoami`, { headers: { "x-ticketplane-pod": pod, "x-ticketplane-ticket": ticket ?? "", cookie: `demo-user=${user}` } });
  return (await res.json()) as { pod: string; count: number };
}

/** Asks Check until the browser is let in (waiting users come back as the waiting room tells them). */
async function admitted(b: Browser): Promise<{ pod: string; ticket?: string }> {
  return eventually(async () => {
    const r = await b.get("/demo/");
    return r.kind === "ok" && r.pod !== undefined ? { pod: r.pod, ...(r.ticket === undefined ? {} : { ticket: r.ticket }) } : undefined;
  }, { ...LONG, what: `${b.name} to be let in` });
}

describe("ticketplane dev (e2e)", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it("starts pods as users come, keeps each user on their pod, lets a waiting user in when one leaves, goes to zero and back, and leaves no process behind on SIGINT", async () => {
    const dev = await startDev(dir);
    const client = checkClient(dev.addresses.authz ?? "");
    const seen = new Set<number>();
    try {
      assert.deepEqual(await pods(dev), [], "minPods 0, no user: no pod");
      const [a, b, c] = ["alice", "bob", "carol"].map((n) => new Browser(client, n)) as [Browser, Browser, Browser];
      // Nobody is served at zero: the first user waits while a pod starts.
      assert.equal((await a.get("/demo/")).kind, "denied");
      const aliceIn = await admitted(a);
      const bobIn = await admitted(b);
      assert.notEqual(aliceIn.pod, bobIn.pod, "one ticket per pod: two users, two pods");
      for (const p of await pods(dev)) if (p.pid !== undefined) seen.add(p.pid);
      assert.equal(seen.size, 2);
      // Stickiness: the pod's in-memory counter goes up for the same user on the same pod.
      const first = await whoami(dev, aliceIn.pod, aliceIn.ticket, "alice");
      assert.equal(first.pod, aliceIn.pod);
      assert.equal((await a.get("/demo/")).pod, aliceIn.pod);
      const second = await whoami(dev, aliceIn.pod, aliceIn.ticket, "alice");
      assert.deepEqual([second.pod, second.count], [aliceIn.pod, first.count + 1]);

      // maxPods 2, both taken: carol waits. Bob stays active, alice leaves (her ticket goes idle).
      assert.equal((await c.get("/demo/")).kind, "denied");
      let carolPod: string | undefined;
      await waitFor(async () => {
        assert.equal((await b.get("/demo/")).pod, bobIn.pod, "bob keeps his pod while carol waits");
        const r = await c.get("/demo/");
        carolPod = r.kind === "ok" ? r.pod : undefined;
        return carolPod !== undefined;
      }, { ...LONG, intervalMs: 500, what: "carol to be let in when alice's ticket goes idle" });
      assert.equal(carolPod, aliceIn.pod, "carol gets the slot alice left");

      // Everyone leaves: tickets go idle, pods drain and stop, the app goes to zero.
      await waitFor(async () => (await pods(dev)).length === 0, { ...LONG, what: "the app at zero pods" });
      await waitFor(() => [...seen].every((pid) => !isAlive(pid)), { ...LONG, what: "the stopped pods' processes to exit" });

      // And back: the next user waits for a new pod and gets it.
      const dave = new Browser(client, "dave");
      const daveIn = await admitted(dave);
      const [back] = await pods(dev);
      assert.equal(back?.name, daveIn.pod);
      assert.ok(back?.pid !== undefined && !seen.has(back.pid));
      seen.add(back.pid);
      assert.equal((await whoami(dev, daveIn.pod, daveIn.ticket)).pod, daveIn.pod);
    } finally {
      client.close();
      dev.signal("SIGINT");
    }
    const exit = await dev.waitExit(30_000);
    assert.equal(exit.code, 0, dev.stderr.slice(-2000));
    assert.ok([...seen].every((pid) => !isAlive(pid)), "no pod outlives ticketplane dev");
  });

  it("leaves no pod behind when ticketplane dev is SIGKILLed", async () => {
    const dev = await startDev(dir);
    const client = checkClient(dev.addresses.authz ?? "");
    let pids: number[] = [];
    try {
      const users = [new Browser(client, "u1"), new Browser(client, "u2")];
      for (const u of users) await admitted(u);
      pids = await eventually(async () => {
        const list = (await pods(dev)).flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
        return list.length === 2 ? list : undefined;
      }, { ...LONG, what: "two pod processes" });
      assert.ok(pids.every(isAlive));
    } finally {
      client.close();
      await dev.kill();
    }
    await waitFor(() => pids.every((pid) => !isAlive(pid)), { ...LONG, what: `pods ${pids.join(", ")} to die with ticketplane` });
  });
});
