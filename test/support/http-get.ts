/**
 * One plain HTTP GET on a fresh connection (no agent, so no connection is
 * kept between tests): status, body and Set-Cookie headers.
 */
import { request as httpRequest } from "node:http";

export interface GetAnswer {
  readonly status: number;
  readonly body: string;
  readonly cookie: string[];
}

export function httpGet(host: string, port: number, path: string, headers: Readonly<Record<string, string>> = {}): Promise<GetAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, agent: false, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, cookie: res.headers["set-cookie"] ?? [] }));
    });
    req.on("error", reject);
    req.end();
  });
}
