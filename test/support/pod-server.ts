/**
 * A real pod for gateway tests: an HTTP server on 127.0.0.1:0 that answers
 * every request with JSON naming the pod, the path it got, its headers and a
 * per-user (ticket id) counter kept in memory (losing stickiness shows as a reset
 * counter), and accepts WebSocket upgrades (RFC 6455 handshake by hand,
 * unfragmented frames): it sends "hello from <pod>" and echoes text frames.
 * `wsConnect` is the matching raw client, so a test can set its own headers
 * (cookies) on the upgrade request.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export interface PodReply {
  readonly pod: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly count: number;
}

export interface PodServer {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Open WebSocket connections on this pod. */
  readonly sockets: number;
  close(): Promise<void>;
}

/** One frame, masked (client to server) or not. */
export function encodeFrame(text: string, options: { mask: boolean; opcode?: number }): Buffer {
  const payload = Buffer.from(text, "utf8");
  if (payload.length > 125) throw new Error("encodeFrame: test frames stay under 126 bytes");
  const header = Buffer.from([0x80 | (options.opcode ?? 1), (options.mask ? 0x80 : 0) | payload.length]);
  if (!options.mask) return Buffer.concat([header, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([header, key, Buffer.from(payload.map((b, i) => b ^ (key[i % 4] ?? 0)))]);
}

/** Splits complete frames off `buffer`; returns them and what is left. */
export function decodeFrames(buffer: Buffer): { frames: { opcode: number; text: string }[]; rest: Buffer } {
  const frames: { opcode: number; text: string }[] = [];
  let at = 0;
  while (buffer.length - at >= 2) {
    const opcode = (buffer[at] ?? 0) & 0x0f;
    const masked = ((buffer[at + 1] ?? 0) & 0x80) !== 0;
    const length = (buffer[at + 1] ?? 0) & 0x7f;
    const start = at + 2 + (masked ? 4 : 0);
    if (length > 125 || buffer.length < start + length) break;
    let payload = buffer.subarray(start, start + length);
    if (masked) {
      const key = buffer.subarray(at + 2, at + 6);
      payload = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] ?? 0)));
    }
    frames.push({ opcode, text: payload.toString("utf8") });
    at = start + length;
  }
  return { frames, rest: buffer.subarray(at) };
}

function acceptUpgrade(name: string, req: http.IncomingMessage, socket: Duplex, open: Set<Duplex>): void {
  const key = req.headers["sec-websocket-key"] ?? "";
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-pod: ${name}\r\n\r\n`);
  socket.write(encodeFrame(`hello from ${name}`, { mask: false }));
  open.add(socket);
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    const { frames, rest } = decodeFrames(Buffer.concat([pending, chunk]));
    pending = rest;
    for (const f of frames) {
      if (f.opcode === 8) socket.end(encodeFrame("", { mask: false, opcode: 8 }));
      else if (f.opcode === 1) socket.write(encodeFrame(`${name}: ${f.text}`, { mask: false }));
    }
  });
  socket.on("close", () => open.delete(socket));
  socket.on("error", () => socket.destroy());
}

export async function startPodServer(name: string): Promise<PodServer> {
  const counters = new Map<string, number>();
  const open = new Set<Duplex>();
  const connections = new Set<Socket>();
  const server = http.createServer((req, res) => {
    // Per user: the ticket id Check sets (every allowed request has it), else the cookies.
    const ticket = req.headers["x-ticketplane-ticket"];
    const who = typeof ticket === "string" ? ticket : (req.headers.cookie ?? "");
    const count = (counters.get(who) ?? 0) + 1;
    counters.set(who, count);
    const reply: PodReply = { pod: name, path: req.url ?? "", headers: req.headers, count };
    req.resume();
    res.writeHead(200, { "content-type": "application/json", "set-cookie": `pod-cookie=${name}; Path=/` }).end(JSON.stringify(reply));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex) => acceptUpgrade(name, req, socket, open));
  server.on("connection", (s: Socket) => {
    connections.add(s);
    s.on("close", () => connections.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    get sockets() {
      return open.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy();
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A WebSocket client over a raw upgrade request: collects text frames, sends masked ones. */
export interface WsClient {
  /** The 101 response's headers. */
  readonly headers: http.IncomingHttpHeaders;
  readonly messages: string[];
  send(text: string): void;
  /** Sends a close frame and waits for the socket to close. */
  close(): Promise<void>;
}

/** Opens a WebSocket to `url` with extra request headers; rejects with the status when the upgrade is refused. */
export function wsConnect(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers }, agent: false });
    req.on("response", (res) => {
      res.resume();
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode ?? 0}`), { status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.on("upgrade", (res, socket: Socket, head: Buffer) => {
      const messages: string[] = [];
      let pending: Buffer = Buffer.alloc(0);
      const take = (chunk: Buffer): void => {
        const { frames, rest } = decodeFrames(Buffer.concat([pending, chunk]));
        pending = rest;
        for (const f of frames) if (f.opcode === 1) messages.push(f.text);
      };
      take(head);
      socket.on("data", take);
      const closed = new Promise<void>((r) => socket.once("close", () => r()));
      resolve({
        headers: res.headers,
        messages,
        send: (text) => socket.write(encodeFrame(text, { mask: true })),
        close: async () => {
          socket.end(encodeFrame("", { mask: true, opcode: 8 }));
          await closed;
        },
      });
    });
    req.end();
  });
}
