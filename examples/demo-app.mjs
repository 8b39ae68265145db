// The demo app `ticketplane dev` runs as local pods (examples/local.yaml).
// Plain Node, no dependencies, no build step. It listens on $PORT and shows:
//   - which pod you are on (the x-ticketplane-pod header Check sets; $POD_NAME otherwise);
//   - a per-user counter kept in this pod's memory: if you ever landed on
//     another pod, it would start again at 1 — stickiness lost is visible;
//   - a live clock over a WebSocket (the handshake and frames written by hand).
//   GET /healthz  readiness probe    GET /whoami  the same facts as JSON
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";

const pod = process.env.POD_NAME ?? "demo";
const counts = new Map(); // user cookie → visits, in this pod's memory only

function visit(req, res) {
  const user = /(?:^|;\s*)demo-user=([\w-]+)/.exec(req.headers.cookie ?? "")?.[1] ?? randomUUID();
  const count = (counts.get(user) ?? 0) + 1;
  counts.set(user, count);
  res.setHeader("set-cookie", `demo-user=${user}; Path=/; HttpOnly; SameSite=Lax`);
  const ticket = String(req.headers["x-ticketplane-ticket"] ?? "none");
  return { pod: String(req.headers["x-ticketplane-pod"] ?? pod), ticket, user, count };
}

const page = (v) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>ticketplane demo — ${v.pod}</title>
<style>body{font:18px system-ui,sans-serif;margin:3rem auto;max-width:36rem}b{font-size:1.4em}</style>
<h1>ticketplane demo</h1>
<p>You are on pod <b id="pod">${v.pod}</b>, holding ticket <code>${v.ticket.slice(0, 12)}</code>.</p>
<p>Visits on this pod: <b id="count">${v.count}</b> — kept in this pod's memory; reload and it goes up.</p>
<p>Clock over a WebSocket: <b id="clock" aria-live="off">connecting…</b></p>
<script>
const ws = new WebSocket(location.href.replace(/^http/, "ws").replace(/[^/]*$/, "clock"));
ws.onmessage = (e) => { document.getElementById("clock").textContent = e.data; };
ws.onclose = () => { document.getElementById("clock").textContent = "closed"; };
</script></html>`;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  if (path === "/healthz") return res.end("ok\n");
  const v = visit(req, res);
  if (path.endsWith("/whoami")) {
    res.setHeader("content-type", "application/json");
    return res.end(JSON.stringify(v));
  }
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(page(v));
});

// A WebSocket server in a few lines (RFC 6455): the handshake, text frames out, close and ping in.
function frame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]);
  return Buffer.concat([head, payload]);
}

const clocks = new Set(); // open WebSockets, closed with 1001 (going away) on SIGTERM
server.on("upgrade", (req, socket) => {
  const key = req.headers["sec-websocket-key"];
  if (String(req.headers.upgrade).toLowerCase() !== "websocket" || typeof key !== "string") return socket.destroy();
  const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const tick = () => socket.write(frame(1, Buffer.from(`${new Date().toISOString().slice(11, 19)} UTC from ${pod}`)));
  clocks.add(socket);
  tick();
  const timer = setInterval(tick, 1000);
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 6) {
      const opcode = buffered[0] & 15;
      const len = buffered[1] & 127; // a client's control frames are short; longer data frames are ignored
      const size = 6 + (len < 126 ? len : 0);
      if (buffered.length < size) return;
      const mask = buffered.subarray(2, 6);
      const payload = Buffer.from(buffered.subarray(6, size).map((b, i) => b ^ mask[i % 4]));
      buffered = buffered.subarray(size);
      if (opcode === 8) return socket.end(frame(8, payload));
      if (opcode === 9) socket.write(frame(10, payload));
    }
  });
  socket.on("close", () => {
    clearInterval(timer);
    clocks.delete(socket);
  });
  socket.on("error", () => clearInterval(timer));
});

server.listen(Number(process.env.PORT ?? 8081), "127.0.0.1", () => console.log(`demo pod ${pod} listening on 127.0.0.1:${server.address().port}`));
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  for (const socket of clocks) socket.end(frame(8, Buffer.from([0x03, 0xe9])));
  setTimeout(() => process.exit(0), 100);
});
