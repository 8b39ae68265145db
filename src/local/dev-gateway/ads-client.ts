/**
 * The dev gateway's ADS client: one incremental (delta) stream,
 * `DeltaAggregatedResources`, subscribed as an Envoy with
 * envoy/standalone.yaml's bootstrap subscribes — clusters and listeners by
 * wildcard, the endpoints of every EDS cluster it holds and the route
 * configuration its listener names.
 *
 * Each response is applied whole (GatewayState.apply) and ACKed, or NACKed
 * with `error_detail` (INVALID_ARGUMENT and every error) while the last good
 * config stays. After a change it subscribes to the EDS and RDS names the new
 * clusters and listeners need and drops the ones nothing needs. A stream that
 * fails or ends is opened again after a growing delay, presenting what it
 * holds (`initial_resource_versions`), so the server sends only what changed.
 */
import * as grpc from "@grpc/grpc-js";
import { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { AggregatedDiscoveryServiceClient } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import { DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import type { Clock, Timer } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/logger.js";
import { GatewayState } from "./gateway-state.js";
import { type ResourceType, TYPE } from "./resources.js";
import { RetryDelay } from "./retry-delay.js";

/** google.rpc.Code INVALID_ARGUMENT: the code of a NACK's error_detail. */
const INVALID_ARGUMENT = 3;
/** Types subscribed by wildcard, as Envoy's bootstrap does for CDS and LDS. */
const WILDCARD: readonly ResourceType[] = [TYPE.cluster, TYPE.listener];

export interface AdsClientOptions {
  /** `host:port` of the ADS server. */
  readonly target: string;
  readonly node: { readonly id: string; readonly cluster: string };
  readonly logger: Logger;
  readonly clock: Clock;
  /** Called after every accepted response with the new state. */
  readonly onUpdate: (state: GatewayState) => void;
  /** Called after every NACK with the errors sent. */
  readonly onNack?: (type: ResourceType, errors: readonly string[]) => void;
  readonly retry?: RetryDelay;
}

export interface AdsCounts {
  readonly acks: number;
  readonly nacks: number;
  readonly connects: number;
}

type DeltaCall = grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

export class AdsClient {
  readonly #options: AdsClientOptions;
  readonly #client: AggregatedDiscoveryServiceClient;
  readonly #retry: RetryDelay;
  #state = new GatewayState();
  #call: DeltaCall | undefined;
  #timer: Timer | undefined;
  #stopped = false;
  /** Names subscribed on the current stream, for the types subscribed by name. */
  readonly #subscribed = new Map<ResourceType, Set<string>>();
  #counts: AdsCounts = { acks: 0, nacks: 0, connects: 0 };

  constructor(options: AdsClientOptions) {
    this.#options = options;
    this.#retry = options.retry ?? new RetryDelay();
    this.#client = new AggregatedDiscoveryServiceClient(options.target, grpc.credentials.createInsecure());
  }

  get state(): GatewayState {
    return this.#state;
  }

  get counts(): AdsCounts {
    return this.#counts;
  }

  /** Opens the stream (and keeps it open until stop). */
  start(): void {
    this.#open();
  }

  /** Ends the stream and the channel; no reconnect after this. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#call?.cancel();
    this.#call = undefined;
    this.#client.close();
  }

  #open(): void {
    if (this.#stopped) return;
    const call = this.#client.deltaAggregatedResources();
    this.#call = call;
    this.#subscribed.clear();
    this.#counts = { ...this.#counts, connects: this.#counts.connects + 1 };
    call.on("data", (response: DeltaDiscoveryResponse) => this.#onResponse(call, response));
    call.on("error", (err: Error) => this.#lost(call, err));
    call.on("end", () => this.#lost(call, undefined));
    const node = Node.fromPartial({ id: this.#options.node.id, cluster: this.#options.node.cluster, userAgentName: "ticketplane-dev-gateway" });
    // The first request of each type carries the node and what this gateway already holds.
    for (const type of WILDCARD) this.#send(call, { node, typeUrl: type, initialResourceVersions: this.#state.versions(type) });
    this.#resubscribe(call, node);
  }

  /** EDS and RDS: subscribe to what the held clusters and listener need, drop what they no longer do. */
  #resubscribe(call: DeltaCall, node?: Node): void {
    const wanted: [ResourceType, string[]][] = [
      [TYPE.endpoints, this.#state.wantedEndpoints()],
      [TYPE.routes, this.#state.wantedRoutes()],
    ];
    for (const [type, names] of wanted) {
      const current = this.#subscribed.get(type) ?? new Set<string>();
      const add = names.filter((n) => !current.has(n));
      const drop = [...current].filter((n) => !names.includes(n));
      if (add.length === 0 && drop.length === 0) continue;
      this.#subscribed.set(type, new Set(names));
      const held = this.#state.versions(type);
      const initialResourceVersions = node === undefined ? {} : Object.fromEntries(add.filter((n) => held[n] !== undefined).map((n) => [n, held[n] ?? ""]));
      this.#send(call, { ...(node === undefined ? {} : { node, initialResourceVersions }), typeUrl: type, resourceNamesSubscribe: add, resourceNamesUnsubscribe: drop });
    }
  }

  #onResponse(call: DeltaCall, response: DeltaDiscoveryResponse): void {
    if (call !== this.#call) return;
    this.#retry.reset();
    const type = response.typeUrl as ResourceType;
    if (!Object.values(TYPE).includes(type)) {
      this.#nack(call, response, type, [`type ${response.typeUrl} is not one the dev gateway subscribed to`]);
      return;
    }
    const resources = response.resources.map((r) => ({ name: r.name, version: r.version, bytes: r.resource?.value ?? new Uint8Array() }));
    const wrongType = response.resources.filter((r) => r.resource !== undefined && r.resource.typeUrl !== type).map((r) => `${type} "${r.name}": carries a ${r.resource?.typeUrl ?? "?"}`);
    const next = wrongType.length > 0 ? { ok: false as const, errors: wrongType } : this.#state.apply(type, resources, response.removedResources);
    if (!next.ok) {
      this.#nack(call, response, type, next.errors);
      return;
    }
    this.#state = next.value;
    this.#counts = { ...this.#counts, acks: this.#counts.acks + 1 };
    this.#send(call, { typeUrl: type, responseNonce: response.nonce });
    this.#resubscribe(call);
    this.#options.onUpdate(this.#state);
  }

  #nack(call: DeltaCall, response: DeltaDiscoveryResponse, type: ResourceType, errors: readonly string[]): void {
    this.#counts = { ...this.#counts, nacks: this.#counts.nacks + 1 };
    const message = errors.join("; ");
    this.#options.logger.warn("dev gateway: xDS update rejected (NACK); the last good config stays", { type: response.typeUrl, nonce: response.nonce, errors });
    this.#send(call, { typeUrl: response.typeUrl, responseNonce: response.nonce, errorDetail: { code: INVALID_ARGUMENT, message, details: [] } });
    this.#options.onNack?.(type, errors);
  }

  #send(call: DeltaCall, request: Partial<DeltaDiscoveryRequest>): void {
    call.write(DeltaDiscoveryRequest.fromPartial(request));
  }

  #lost(call: DeltaCall, err: Error | undefined): void {
    if (call !== this.#call || this.#stopped) return;
    this.#call = undefined;
    const wait = this.#retry.take();
    this.#options.logger.warn("dev gateway: ADS stream lost; reconnecting", { target: this.#options.target, error: err === undefined ? "ended by the server" : errorMessage(err), retryInMs: wait });
    this.#timer = this.#options.clock.setTimeout(() => this.#open(), wait);
  }
}
