/**
 * A small app for tests of proxies (the resolver): plain HTTP that names
 * itself and what it received, echoes request bodies as they stream, and a
 * WebSocket endpoint that echoes text messages (RFC 6455 handshake and
 * frames, enough for Node's own WebSocket client). Runs in-process
 * (`startUpstream`) or as a real child process (`spawnUpstream`, this file
 * run with a port and a name): `listening <port>` on stdout when it serves.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Answers: `<name> <METHOD> <path> pod=<x-ticketplane-pod>`; POST/PUT bodies are streamed back instead. */
function handle(name: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "POST" || req.method === "PUT") {
      res.writeHead(200, { "content-type": "application/octet-stream", "x-upstream": name });
      req.pipe(res);
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", "x-upstream": name });
    res.end(`${name} ${req.method ?? ""} ${req.url ?? ""} pod=${String(req.headers["x-ticketplane-pod"] ?? "")}`);
  };
}

/** One unmasked text frame (server → client). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, len]) : len < 65536 ? Buffer.from([0x81, 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([0x81, 127]), Buffer.alloc(4), Buffer.from([(len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff])]);
  return Buffer.concat([head, payload]);
}

/** Reads masked client frames from `buf`; returns the complete ones and what is left. */
function readFrames(buf: Buffer): { frames: { op: number; payload: Buffer }[]; rest: Buffer } {
  const frames: { op: number; payload: Buffer }[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const op = (buf[at] ?? 0) & 0x0f;
    let len = (buf[at + 1] ?? 0) & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (buf.length - p < 2) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buf.length - p < 8) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    if (buf.length - p < 4 + len) break;
    const mask = buf.subarray(p, p + 4);
    const payload = Buffer.from(buf.subarray(p + 4, p + 4 + len));
    for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
    frames.push({ op, payload });
    at = p + 4 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

function upgrade(name: string) {
  return (req: IncomingMessage, socket: Duplex) => {
    const key = String(req.headers["sec-websocket-key"] ?? "");
    const accept = createHash("sha1").update(key + GUID).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-upstream: ${name}\r\n\r\n`);
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      const { frames, rest } = readFrames(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const f of frames) {
        if (f.op === 0x8) {
          socket.end(Buffer.from([0x88, 0]));
          return;
        }
        if (f.op === 0x1) socket.write(textFrame(`${name}: ${f.payload.toString("utf8")}`));
      }
    });
    socket.on("error", () => socket.destroy());
  };
}

export interface Upstream {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the app in this process on 127.0.0.1:`port` (0: a free port). */
export async function startUpstream(name: string, port = 0): Promise<Upstream> {
  const server: Server = createServer(handle(name));
  server.on("upgrade", upgrade(name));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A free port on 127.0.0.1 now (nothing listens on it when this resolves). */
export async function freePort(): Promise<number> {
  const u = await startUpstream("probe");
  await u.close();
  return u.port;
}

/** Runs the app as a real child process on 127.0.0.1:`port`; resolves once it listens. */
export async function spawnUpstream(name: string, port: number): Promise<{ readonly process: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), String(port), name], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`upstream ${name} exited with ${String(code)} before listening`)));
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("listening")) resolve();
    });
  });
  return {
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port = "0", name = "upstream"] = process.argv.slice(2);
  const u = await startUpstream(name, Number(port));
  process.stdout.write(`listening ${String(u.port)}\n`);
  process.on("SIGTERM", () => void u.close().then(() => process.exit(0)));
}
