/**
 * An HTTP/1.1 response written straight to a socket: what the resolver
 * answers a held WebSocket upgrade with (there is no ServerResponse for an
 * `upgrade` request), and how it relays an upstream's 101.
 */
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";

/** The head of a response: status line and headers, ending with the blank line. */
export function responseHead(status: number, headers: readonly (readonly [string, string])[]): string {
  const lines = [`HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ""}`];
  for (const [n, v] of headers) lines.push(`${n}: ${v.replace(/[\r\n]/g, " ")}`);
  return lines.join("\r\n") + "\r\n\r\n";
}

/** Answers on a raw socket and closes it (the client asked to upgrade; we answer with a plain response). */
export function endSocket(socket: Duplex, status: number, headers: readonly (readonly [string, string])[], body: string): void {
  if (socket.destroyed) return;
  const all: [string, string][] = [...headers.map(([n, v]): [string, string] => [n, v]), ["content-length", String(Buffer.byteLength(body))], ["connection", "close"]];
  socket.end(responseHead(status, all) + body);
}
