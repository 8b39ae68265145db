/**
 * Users of one app as the reconciler tests need them: each arrives through
 * Check's own path (admit), comes back (ending probation), keeps making
 * requests while present, and may hold a WebSocket that the gateways report
 * as open every second, as their access logs do.
 */
import type { AppKey } from "../../src/config/app-spec.js";
import { admit } from "../../src/tickets/admit.js";
import type { ImmediateCheckPorts } from "../../src/tickets/ports.js";

export class SimulatedUsers {
  /** Present users: name → ticket token. Deleting one stops its requests (an open WebSocket stays open). */
  readonly tokens = new Map<string, string>();
  /** Open WebSockets: connection id → ticket id. */
  readonly #sockets = new Map<string, string>();

  constructor(
    private readonly core: ImmediateCheckPorts,
    private readonly app: AppKey,
  ) {}

  /** A new user gets a ticket and comes back with it; returns its pod, or what it got instead ("queued", …). */
  arrive(name: string): string {
    const a = admit(this.core, this.app, { client: name });
    if (a.kind !== "issued") return a.kind;
    admit(this.core, this.app, { ticketTokens: [a.token] });
    this.tokens.set(name, a.token);
    return a.pod.name;
  }

  /** The user stops making requests. */
  leave(name: string): void {
    this.tokens.delete(name);
  }

  /** The user's WebSocket opens and stays open (its requests stop when the user leaves). */
  openWebSocket(name: string): void {
    const v = this.core.verify(this.app, this.tokens.get(name));
    if (!v.ok) throw new Error(`${name} holds no ticket`);
    this.#sockets.set(`ws-${name}`, v.ticket.id);
    this.core.openConnection(this.app, v.ticket.id, `ws-${name}`);
  }

  /** The pod the user's ticket holds a slot on, if it still verifies. */
  podOf(name: string): string | undefined {
    const v = this.core.verify(this.app, this.tokens.get(name));
    return v.ok ? v.pod.name : undefined;
  }

  /** One second of activity: every present user makes a request, and every open WebSocket is reported. */
  keepActive(): void {
    for (const token of this.tokens.values()) admit(this.core, this.app, { ticketTokens: [token] });
    for (const [connection, ticket] of this.#sockets) this.core.openConnection(this.app, ticket, connection);
  }
}
