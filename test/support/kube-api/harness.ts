/**
 * One test API server per test: `useKubeApi()` registers the node:test hooks
 * that start it (and a fetch client) before each test and, after it, close
 * the watches the test opened and the server. `restartWith(options)` swaps
 * in a server built with other options.
 */
import { afterEach, beforeEach } from "node:test";
import { ApiClient } from "./http-client.ts";
import type { WatchReader } from "./http-client.ts";
import { KubeApiServer } from "./server.ts";
import type { KubeApiServerOptions } from "./server.ts";

export interface KubeApiHarness {
  readonly server: KubeApiServer;
  readonly api: ApiClient;
  /** Opens a watch that is closed after the test. */
  watch(path: string): Promise<WatchReader>;
  restartWith(options: KubeApiServerOptions): Promise<void>;
}

export function useKubeApi(): KubeApiHarness {
  let server: KubeApiServer | undefined;
  let api: ApiClient | undefined;
  const watches: WatchReader[] = [];
  const start = async (options: KubeApiServerOptions = {}) => {
    await server?.close();
    server = await KubeApiServer.start(options);
    api = new ApiClient(server.url);
  };
  beforeEach(() => start());
  afterEach(async () => {
    for (const w of watches.splice(0)) await w.close();
    await server?.close();
    server = undefined;
  });
  const running = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("kube-api harness: no server (used outside a test?)");
    return v;
  };
  return {
    get server() {
      return running(server);
    },
    get api() {
      return running(api);
    },
    async watch(path) {
      const w = await running(api).watch(path);
      watches.push(w);
      return w;
    },
    restartWith: start,
  };
}
