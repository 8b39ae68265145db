// A pod for the process driver's tests: listens on $PORT and answers
// GET /healthz with 200, except while switched off (503): from the start
// with HEALTHY=0, after POST /health/off (POST /health/on switches back);
// GET /whoami answers {"pod": $POD_NAME, "pid": …, "env": $EXTRA}. With
// IGNORE_SIGTERM=1 it survives SIGTERM (only SIGKILL stops it); with
// CHILD=1 it starts a grandchild (`sleep`) and reports its pid as "child".
import { spawn } from "node:child_process";
import { createServer } from "node:http";

let healthy = process.env.HEALTHY !== "0";
const child = process.env.CHILD === "1" ? spawn("sleep", ["600"], { stdio: "ignore" }) : undefined;
const server = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.statusCode = healthy ? 200 : 503;
    return res.end(healthy ? "ok" : "not yet");
  }
  if (req.method === "POST" && req.url?.startsWith("/health/")) {
    healthy = req.url === "/health/on";
    return res.end();
  }
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ pod: process.env.POD_NAME, pid: process.pid, child: child?.pid, env: process.env.EXTRA }));
});
server.listen(Number(process.env.PORT), "127.0.0.1");
if (process.env.IGNORE_SIGTERM === "1") process.on("SIGTERM", () => undefined);
