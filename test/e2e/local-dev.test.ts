/**
 * `ticketplane dev` as a child process: the control plane in local mode,
 * its pods real processes of the demo app scaled by the real reconciler,
 * and the dev gateway in front. Users are HTTP clients with a cookie jar
 * and WebSockets (Node's own client) through the gateway, as browsers would
 * be. Bounds are loose (a loaded 2-core machine): they only stop a hang,
 * they measure nothing.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { isAlive } from "../support/process-liveness.js";
import { eventually, waitFor } from "../support/wait-for.js";
import { startDev, type Dev } from "./local-dev-process.js";
import { getJson, tempDir, type TempDir } from "./serve-process.js";

const LONG = { timeoutMs: 60_000, intervalMs: 100 };

interface LocalPodJson {
  readonly name: string;
  readonly port: number;
  readonly pid?: number;
  readonly ready: boolean;
}

async function pods(dev: Dev): Promise<LocalPodJson[]> {
  const { body } = await getJson(`${dev.process.admin}/api/config`);
  return (body as { local: { pods: LocalPodJson[] }[] }).local[0]?.pods ?? [];
}

interface Visit {
  readonly status: number;
  readonly pod?: string;
  readonly count?: number;
  /** The ticket id Check named (x-ticketplane-ticket, as the pod saw it). */
  readonly ticket?: string;
}

/** A browser: a cookie jar, requests through the dev gateway. */
class User {
  readonly #cookies = new Map<string, string>();
  constructor(
    readonly name: string,
    readonly dev: Dev,
  ) {}

  get cookie(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** GET /demo/whoami: the pod and this user's visit count on it, or the waiting room's status. */
  async visit(): Promise<Visit> {
    const res = await fetch(`${this.dev.gateway}/demo/whoami`, { headers: { cookie: this.cookie }, redirect: "manual" });
    for (const c of res.headers.getSetCookie()) {
      const m = /^([^=]+)=([^;]*)/.exec(c);
      if (m?.[1] === undefined) continue;
      if (m[2] === undefined || m[2] === "" || /Max-Age=0/i.test(c)) this.#cookies.delete(m[1]);
      else this.#cookies.set(m[1], m[2]);
    }
    if (res.status !== 200) {
      await res.arrayBuffer();
      return { status: res.status };
    }
    const me = (await res.json()) as { pod: string; count: number; ticket: string };
    return { status: 200, pod: me.pod, count: me.count, ticket: me.ticket };
  }

  /** Comes back as the waiting room asks until let in; the pod. */
  async admitted(): Promise<string> {
    return eventually(async () => (await this.visit()).pod, { ...LONG, intervalMs: 300, what: `${this.name} to be let in` });
  }

  /** Opens the demo's clock WebSocket with this user's cookies; resolves with the socket and its first message. */
  async clock(): Promise<{ socket: WebSocket; first: string; closed: Promise<void> }> {
    const socket = new WebSocket(`${this.dev.gateway.replace(/^http/, "ws")}/demo/clock`, { headers: { cookie: this.cookie } });
    const closed = new Promise<void>((resolve) => socket.addEventListener("close", () => resolve()));
    const first = await new Promise<string>((resolve, reject) => {
      socket.addEventListener("message", (e) => resolve(String(e.data)), { once: true });
      socket.addEventListener("error", () => reject(new Error(`${this.name}'s WebSocket failed`)), { once: true });
    });
    return { socket, first, closed };
  }
}

/** A browser's page navigation (fetch would say `sec-fetch-mode: cors`, which is a script's request). */
function navigate(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

describe("ticketplane dev (e2e, through the dev gateway)", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it("starts pods as users come, keeps each user on their pod (HTTP and WebSocket), lets a waiting user in when one leaves, goes to zero and back through the resolver, and leaves no process behind on SIGINT", async () => {
    const dev = await startDev(dir);
    const seen = new Set<number>();
    try {
      assert.deepEqual(await pods(dev), [], "minPods 0, no user: no pod");
      // At zero the app's route goes to the resolver (mode Proxy), as a flipped VirtualService does.
      const mode = async (): Promise<string | undefined> => ((await getJson(`${dev.process.admin}/api/status`)).body as { apps: { mode: string }[] }).apps[0]?.mode;
      await waitFor(async () => (await mode()) === "Proxy", { ...LONG, what: "mode Proxy at zero from the start" });
      const [alice, bob, carol] = ["alice", "bob", "carol"].map((n) => new User(n, dev)) as [User, User, User];
      // The first user's request is held by the resolver while a pod starts, then answered by it.
      const first = await alice.visit();
      assert.equal(first.status, 200, "held at zero, answered by the first pod");
      const alicePod = await alice.admitted();
      assert.equal(alicePod, first.pod);
      const bobPod = await bob.admitted();
      assert.notEqual(alicePod, bobPod, "one ticket per pod: two users, two pods");
      for (const p of await pods(dev)) if (p.pid !== undefined) seen.add(p.pid);
      assert.equal(seen.size, 2);
      // Stickiness: the counter in the pod's memory goes up, on the same pod.
      const counts = [];
      const tickets = new Set<string | undefined>();
      for (let i = 0; i < 3; i++) {
        const v = await alice.visit();
        assert.equal(v.pod, alicePod);
        counts.push(v.count ?? 0);
        tickets.add(v.ticket);
      }
      assert.equal(tickets.size, 1, "one ticket throughout");
      assert.deepEqual(counts, [counts[0] ?? 0, (counts[0] ?? 0) + 1, (counts[0] ?? 0) + 2]);
      // Alice's WebSocket reaches her pod, and keeps her ticket active while she makes no request.
      const ws = await alice.clock();
      assert.match(ws.first, new RegExp(`from ${alicePod}$`));

      // maxPods 2, both taken: carol waits. Bob leaves (his ticket goes idle); alice only holds her WebSocket.
      assert.equal((await carol.visit()).status, 503);
      const carolPod = await carol.admitted();
      assert.equal(carolPod, bobPod, "carol gets the slot bob left, not alice's (her WebSocket is open)");
      const again = await alice.visit();
      assert.deepEqual([again.pod, again.ticket], [alicePod, [...tickets][0]], "alice kept her ticket and pod through the WebSocket alone");

      // Everyone leaves: the WebSocket closes, tickets go idle, pods drain and stop, the app goes to zero.
      ws.socket.close();
      await ws.closed;
      await waitFor(async () => (await pods(dev)).length === 0, { ...LONG, what: "the app at zero pods" });
      await waitFor(() => [...seen].every((pid) => !isAlive(pid)), { ...LONG, what: "the stopped pods' processes to exit" });

      await waitFor(async () => (await mode()) === "Proxy", { ...LONG, what: "mode Proxy at zero again" });

      // And back through the resolver: a page navigation held there gets its cold-start page (waitingPageAfter 0s
      // here), and dave's API request is held until the new pod serves, then answered by it with a ticket.
      const page = await navigate(`${dev.gateway}/demo/`);
      assert.equal(page.status, 503);
      assert.match(page.body, /<title>Starting [^<]*demo/, "the resolver's cold-start page, not Check's waiting room");
      const dave = new User("dave", dev);
      const held = await dave.visit();
      assert.equal(held.status, 200, "held at zero, answered by the new pod");
      const [back] = await pods(dev);
      assert.equal(back?.name, held.pod);
      assert.ok(back?.pid !== undefined && !seen.has(back.pid));
      seen.add(back.pid);
      // The pod serves: the route returns to the pods (Serve), and dave's ticket keeps him there through Check.
      await waitFor(async () => (await mode()) === "Serve", { ...LONG, what: "mode Serve once the pod serves" });
      const next = await dave.visit();
      assert.deepEqual([next.status, next.pod, next.ticket], [200, held.pod, held.ticket]);
    } finally {
      dev.process.signal("SIGINT");
    }
    const exit = await dev.process.waitExit(30_000);
    assert.equal(exit.code, 0, dev.process.stderr.slice(-2000));
    assert.ok([...seen].every((pid) => !isAlive(pid)), "no pod outlives ticketplane dev");
  });

  it("leaves no pod behind when ticketplane dev is SIGKILLed", async () => {
    const dev = await startDev(dir);
    let pids: number[] = [];
    try {
      for (const u of [new User("u1", dev), new User("u2", dev)]) await u.admitted();
      pids = await eventually(async () => {
        const list = (await pods(dev)).flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
        return list.length === 2 ? list : undefined;
      }, { ...LONG, what: "two pod processes" });
      assert.ok(pids.every(isAlive));
    } finally {
      await dev.process.kill();
    }
    await waitFor(() => pids.every((pid) => !isAlive(pid)), { ...LONG, what: `pods ${pids.join(", ")} to die with ticketplane` });
  });
});
