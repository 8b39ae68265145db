/**
 * KubeInventory: Kubernetes mode's inventory. Informers on TicketedApps,
 * Deployments and Pods (in the watched namespaces, or all) feed the ticket
 * core its apps (src/kube/app-sources.ts) and each app's pods.
 *
 * A pod belongs to an app when its Deployment's selector (or the canary
 * Deployment's) matches it. It becomes a PodInput once it has an IP: address
 * = pod IP and the app's `podPort`; ready = phase Running and the Ready
 * condition; draining = terminating (deletionTimestamp), or the app is
 * disabled, or the pod carries the `ticketplane.dev/draining` annotation
 * (any replica's reconciler or a preStop hook marked it; it survives a
 * restart), or someone asked here (`setDraining`: the reconciler, at once,
 * before the annotation comes back through the watch). A pod that is not ready, or draining, keeps its tickets and
 * takes no new ones; a pod that is gone loses them.
 *
 * Invalid apps are left out and reported (`invalidApps`, `onInvalidApps`),
 * each error naming its field; other apps are unaffected. An app that was
 * valid and is edited into an invalid one keeps its last good spec, as a bad
 * edit of the config file does in standalone mode: a typo must not release
 * every ticket of a running app.
 */
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once } from "../common/runnable.js";
import { formatSpecError } from "../config/app-spec.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { Inventory } from "../runtime/ports.js";
import { readClusterApps } from "./app-sources.js";
import type { ClusterApp, InvalidApp } from "./app-sources.js";
import { Informer } from "./informer.js";
import type { Change, InformerOptions, WatchPort } from "./informer.js";
import { matchesSelector } from "./label-selector.js";
import { deploymentsIn, podsIn, ticketedAppsIn } from "./resources.js";
import type { KubeApis, Scope } from "./resources.js";
import { sameStripped, stripDeployment, stripPod, stripTicketedApp } from "./strip.js";
import type { CachedDeployment, CachedPod, CachedTicketedApp, LabelSelector } from "./strip.js";

/** Where apps and pods go (the ticket core), as the runtime's Inventory port names it. */
type Target = Parameters<Inventory["feed"]>[0];
/** A pod as the ticket core takes it (the runtime's port, not the core's internals). */
export type PodInput = Parameters<Target["setPods"]>[1][number];

/** Informer settings the inventory passes through (timeouts, backoff; tests shorten them). */
export type InformerTuning = Partial<Pick<InformerOptions<unknown>, "backoff" | "watchTimeoutSeconds" | "stallGraceMs" | "relistIntervalMs" | "pageSize" | "minWatchMs">>;

export interface KubeInventoryOptions {
  readonly apis: KubeApis;
  readonly watch: WatchPort;
  /** The namespaces watched; empty: every namespace. */
  readonly namespaces: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly informers?: InformerTuning;
}

/** One app as the inventory holds it: its definition, its pods, and what the pods were last told. */
interface AppState {
  readonly app: ClusterApp;
  /** The app's Deployment selectors its pods were matched with (#selectorsOf). */
  readonly selectors: string;
  /** Pods of the app's Deployment(s) by name, with whether they belong to the canary. */
  readonly pods: Map<string, { readonly pod: CachedPod; readonly canary: boolean }>;
}

const podKey = (p: CachedPod): string => `${p.namespace}/${p.name}`;

export class KubeInventory implements Inventory {
  readonly name = "inventory";
  readonly #o: KubeInventoryOptions;
  readonly #pods: Informer<CachedPod>[] = [];
  readonly #deployments: Informer<CachedDeployment>[] = [];
  readonly #ticketedApps: Informer<CachedTicketedApp>[] = [];
  readonly #apps = new Map<AppKey, AppState>();
  /** Valid specs seen, by app: what an app edited into an invalid one keeps. */
  readonly #lastGood = new Map<AppKey, ClusterApp>();
  readonly #draining = new Map<AppKey, Set<string>>();
  readonly #invalidListeners = new Set<(invalid: readonly InvalidApp[]) => void>();
  #invalid: readonly InvalidApp[] = [];
  #target: Target | undefined;
  #live = false;
  /** The specs last given to the ticket core (JSON), so unchanged sets are not given again. */
  #specsInCore = "";
  readonly stop: () => Promise<void>;

  constructor(options: KubeInventoryOptions) {
    this.#o = options;
    const scopes: Scope[] = options.namespaces.length === 0 ? [undefined] : [...options.namespaces];
    const common = { watch: options.watch, clock: options.clock, ...(options.informers ?? {}) };
    const logger = (kind: string): Logger => options.logger.child({ informer: kind });
    for (const scope of scopes) {
      this.#ticketedApps.push(new Informer({ ...common, source: ticketedAppsIn(options.apis, scope), strip: stripTicketedApp, keyOf: (t) => `${t.metadata.namespace}/${t.metadata.name}`, logger: logger("ticketedapps"), onChange: () => this.#appsChanged() }));
      this.#deployments.push(new Informer({ ...common, source: deploymentsIn(options.apis, scope), strip: stripDeployment, keyOf: (d) => `${d.namespace}/${d.name}`, logger: logger("deployments"), onChange: () => this.#appsChanged() }));
      this.#pods.push(new Informer({ ...common, source: podsIn(options.apis, scope), strip: stripPod, keyOf: podKey, logger: logger("pods"), onChange: (changes) => this.#podsChanged(changes) }));
    }
    this.stop = once(async () => {
      this.#live = false;
      for (const i of this.#all()) await i.stop();
    });
  }

  feed(target: Target): void {
    this.#target = target;
  }

  /** Lists everything, then hands the ticket core its apps and pods; resolves once they are in. Rejects when a first list is refused for good (401/403, a kind not served). */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#target === undefined) throw new Error("KubeInventory started before feed()");
    try {
      await Promise.all(this.#all().map((i) => i.start(signal)));
    } catch (err) {
      // The manager stops only the parts that started: the informers that did list must not keep watching.
      await this.stop();
      throw err;
    }
    this.#live = true;
    this.#appsChanged();
  }

  readinessReasons(): readonly string[] {
    return this.#all().flatMap((i) => i.readinessReason() ?? []);
  }

  /** Relists every collection now (SIGHUP). Never rejects. */
  reload(): Promise<void> {
    for (const i of this.#all()) i.relist();
    return Promise.resolve();
  }

  /** The apps in force (disabled ones included). */
  apps(): readonly ClusterApp[] {
    return [...this.#apps.values()].map((s) => s.app);
  }

  /** Objects that would define an app but are invalid, each error naming its field. */
  invalidApps(): readonly InvalidApp[] {
    return this.#invalid;
  }

  /** Called with every invalid object whenever that set changes (a Warning Event recorder subscribes here). Returns an unsubscribe function. */
  onInvalidApps(listener: (invalid: readonly InvalidApp[]) => void): () => void {
    this.#invalidListeners.add(listener);
    return () => void this.#invalidListeners.delete(listener);
  }

  /** The app in force under that key (disabled ones included), if any. */
  app(key: AppKey): ClusterApp | undefined {
    return this.#apps.get(key)?.app;
  }

  /** The Deployment as the informer caches it, if it does (the scale port reads replicas and resourceVersion here). */
  deployment(namespace: string, name: string): CachedDeployment | undefined {
    return this.#deployment(namespace, name);
  }

  /** Every pod of the app's Deployment(s) as cached, IP or not (the reconciler reads pending pods and deletion costs here). */
  observedPods(app: AppKey): readonly CachedPod[] {
    return [...(this.#apps.get(app)?.pods.values() ?? [])].map((p) => p.pod);
  }

  /**
   * Marks a pod draining (no new tickets; existing ones served) or not, on
   * top of what the cluster says; the reconciler drains a pod before it
   * removes it. Forgotten when the pod goes.
   */
  setDraining(app: AppKey, pod: string, draining: boolean): void {
    const set = this.#draining.get(app) ?? new Set<string>();
    if (draining === set.has(pod)) return;
    if (draining) set.add(pod);
    else set.delete(pod);
    if (set.size === 0) this.#draining.delete(app);
    else this.#draining.set(app, set);
    this.#pushPods(app);
  }

  #all(): Informer<unknown>[] {
    return [...this.#ticketedApps, ...this.#deployments, ...this.#pods] as Informer<unknown>[];
  }

  // ── apps ──────────────────────────────────────────────────────────────

  /** TicketedApps or Deployments changed: recompute every app (there are few), then the pods of those whose definition or selectors changed. */
  #appsChanged(): void {
    const target = this.#target;
    if (!this.#live || target === undefined) return;
    const found = readClusterApps(this.#ticketedApps.flatMap((i) => [...i.items().values()]), this.#deployments.flatMap((i) => [...i.items().values()]));
    const next = new Map(found.apps);
    for (const bad of found.invalid) {
      const kept = [...this.#lastGood.values()].find((a) => sameRef(a.definedBy, bad.object));
      if (kept !== undefined && !next.has(kept.key)) next.set(kept.key, kept);
    }
    this.#lastGood.clear();
    for (const [key, app] of next) this.#lastGood.set(key, app);
    this.#setInvalid(found.invalid);

    const rebuilt: AppKey[] = [];
    let index: PodIndex | undefined;
    const podIndex = (): PodIndex => (index ??= new PodIndex(this.#pods.flatMap((i) => [...i.items().values()])));
    for (const key of [...this.#apps.keys()]) if (!next.has(key)) this.#apps.delete(key);
    for (const [key, app] of next) {
      const before = this.#apps.get(key);
      const selectors = this.#selectorsOf(app);
      if (before !== undefined && sameStripped(before.app, app) && before.selectors === selectors) continue;
      this.#apps.set(key, { app, selectors, pods: this.#podsOf(app, podIndex) });
      rebuilt.push(key);
    }
    const specs = [...this.#apps.values()].map((s) => s.app.spec);
    const specsJson = JSON.stringify(specs);
    if (specsJson !== this.#specsInCore) {
      target.setApps(specs);
      this.#specsInCore = specsJson;
    }
    for (const key of rebuilt) this.#pushPods(key);
  }

  /** The selectors of the app's Deployment(s) as one comparable string ("" parts: the Deployment is missing). */
  #selectorsOf(app: ClusterApp): string {
    const selector = (name: string | undefined): unknown => (name === undefined ? null : (this.#deployment(app.spec.namespace, name)?.selector ?? ""));
    return JSON.stringify([selector(app.deployment), selector(app.canaryDeployment)]);
  }

  #deployment(namespace: string, name: string): CachedDeployment | undefined {
    for (const i of this.#deployments) {
      const d = i.get(`${namespace}/${name}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }

  #setInvalid(invalid: readonly InvalidApp[]): void {
    if (sameStripped(invalid, this.#invalid)) return;
    const known = new Set(this.#invalid.map((i) => JSON.stringify(i)));
    for (const i of invalid) {
      if (known.has(JSON.stringify(i))) continue;
      for (const e of i.errors) this.#o.logger.warn("app is invalid; left out (other apps unaffected)", { kind: i.object.kind, namespace: i.object.namespace, name: i.object.name, path: e.path, value: JSON.stringify(e.value), rule: e.rule, message: formatSpecError(e) });
    }
    this.#invalid = invalid;
    for (const l of [...this.#invalidListeners]) l(invalid);
  }

  // ── pods ──────────────────────────────────────────────────────────────

  /**
   * Every cached pod of the app's namespace that its Deployment (or canary
   * Deployment) selects. Candidates come from a label index (one pass over
   * the pods per recompute, shared by every app rebuilt in it), so
   * rebuilding 500 apps over 10,000 pods is not 5 million selector matches.
   */
  #podsOf(app: ClusterApp, index: () => PodIndex): AppState["pods"] {
    const pods: AppState["pods"] = new Map();
    const { namespace } = app.spec;
    const main = this.#deployment(namespace, app.deployment)?.selector;
    const canary = app.canaryDeployment === undefined ? undefined : this.#deployment(namespace, app.canaryDeployment)?.selector;
    for (const [selector, isCanary] of [[canary, true], [main, false]] as const) {
      if (selector === undefined) continue;
      for (const pod of index().candidates(namespace, selector)) if (matchesSelector(selector, pod.labels)) pods.set(pod.name, { pod, canary: isCanary });
    }
    return pods;
  }

  #membership(app: ClusterApp, pod: CachedPod): "main" | "canary" | undefined {
    if (pod.namespace !== app.spec.namespace) return undefined;
    if (matchesSelector(this.#deployment(pod.namespace, app.deployment)?.selector, pod.labels)) return "main";
    if (app.canaryDeployment !== undefined && matchesSelector(this.#deployment(pod.namespace, app.canaryDeployment)?.selector, pod.labels)) return "canary";
    return undefined;
  }

  /** Pods changed: only the apps of their namespace are looked at, and only those whose pods changed are pushed. */
  #podsChanged(changes: readonly Change<CachedPod>[]): void {
    if (!this.#live) return;
    const touched = new Set<AppKey>();
    for (const change of changes) {
      const pod = change.after ?? change.before;
      if (pod === undefined) continue;
      for (const [key, state] of this.#apps) {
        if (state.app.spec.namespace === pod.namespace && this.#placePod(key, state, pod.name, change.after)) touched.add(key);
      }
    }
    for (const key of touched) this.#pushPods(key);
  }

  /** Puts the pod's new state into the app (or takes it out); true when the app's pods changed. */
  #placePod(key: AppKey, state: AppState, name: string, after: CachedPod | undefined): boolean {
    const had = state.pods.delete(name);
    const membership = after === undefined ? undefined : this.#membership(state.app, after);
    if (after !== undefined && membership !== undefined) state.pods.set(name, { pod: after, canary: membership === "canary" });
    else if (had) this.#forgetDraining(key, name);
    return had || membership !== undefined;
  }

  #forgetDraining(app: AppKey, pod: string): void {
    const set = this.#draining.get(app);
    if (set?.delete(pod) === true && set.size === 0) this.#draining.delete(app);
  }

  /** Tells the ticket core the app's pods as they stand. */
  #pushPods(key: AppKey): void {
    const state = this.#apps.get(key);
    if (!this.#live || state === undefined || this.#target === undefined) return;
    const draining = this.#draining.get(key);
    const inputs: PodInput[] = [];
    for (const { pod, canary } of state.pods.values()) {
      const input = podInput(pod, state.app.spec, state.app.disabled || draining?.has(pod.name) === true, canary);
      if (input !== undefined) inputs.push(input);
    }
    this.#target.setPods(key, inputs);
  }
}

/**
 * A pod as the ticket core sees it, or undefined while it has no IP (it
 * cannot hold a slot yet). Serving needs Running, Ready and not terminating;
 * a terminating pod drains (keeps its tickets, takes no new ones).
 */
export function podInput(pod: CachedPod, spec: AppSpec, draining: boolean, canary: boolean): PodInput | undefined {
  if (pod.podIP === undefined) return undefined;
  return {
    name: pod.name,
    host: pod.podIP,
    port: spec.podPort,
    ready: pod.phase === "Running" && pod.ready,
    draining: draining || pod.terminating || pod.drainMark !== undefined,
    ...(canary ? { canary: true } : {}),
  };
}

/** Pods by namespace and by `label=value`, built once per recompute. */
class PodIndex {
  readonly #byNamespace = new Map<string, CachedPod[]>();
  readonly #byLabel = new Map<string, CachedPod[]>();

  constructor(pods: readonly CachedPod[]) {
    for (const pod of pods) {
      push(this.#byNamespace, pod.namespace, pod);
      for (const [k, v] of Object.entries(pod.labels)) push(this.#byLabel, `${pod.namespace}\u0000${k}=${v}`, pod);
    }
  }

  /** Pods that may match: those carrying the selector's first matchLabels pair, else every pod of the namespace. */
  candidates(namespace: string, selector: LabelSelector): readonly CachedPod[] {
    const first = Object.entries(selector.matchLabels)[0];
    if (first === undefined) return this.#byNamespace.get(namespace) ?? [];
    return this.#byLabel.get(`${namespace}\u0000${first[0]}=${first[1]}`) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function sameRef(a: { kind: string; namespace: string; name: string }, b: { kind: string; namespace: string; name: string }): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
