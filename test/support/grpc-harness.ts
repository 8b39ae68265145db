/**
 * A real grpc-js server on 127.0.0.1:0 for tests. `close()` first asks for a
 * graceful shutdown; if calls are still open after `graceMs` it forces them
 * and rejects, so a test that leaks a stream fails instead of hanging.
 */
import * as grpc from "@grpc/grpc-js";

export interface GrpcHarness {
  readonly server: grpc.Server;
  readonly address: string;
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(register: (server: grpc.Server) => void): Promise<GrpcHarness> {
  const server = new grpc.Server();
  register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    server,
    port,
    address: `127.0.0.1:${port}`,
    close: (graceMs = 2_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          reject(new Error(`grpc harness: calls still open ${graceMs} ms after shutdown began (leaked stream?)`));
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
