/**
 * The local-mode config the e2e and browser tests run `ticketplane dev`
 * with: every server on port 0, the demo app with one ticket per pod, at
 * most two pods, from zero, with short timeouts so a test sees pods come
 * and go, users wait and get in, within seconds.
 */
import { ROOT } from "./serve-process.js";

export function localConfig(): string {
  return `listen:
  authz: 127.0.0.1:0
  accessLog: 127.0.0.1:0
  xds: 127.0.0.1:0
  admin: 127.0.0.1:0
gateway:
  listenerAddress: 127.0.0.1
  listenerPort: 10080
cookieSecure: false
apps:
  - name: demo
    pathPrefix: /demo/
    ticketsPerPod: 1
    spareTickets: 0
    minPods: 0
    maxPods: 2
    podCooldown: 2s
    ticket: { probation: 4s, idleTimeout: 4s }
    queue: { retryAfter: 1s, reservation: 10s }
    scaleUp: { pods: 2, period: 1s }
    scaleDown: { pods: 2, period: 1s, stabilizationWindow: 0s }
    run:
      command: node
      args: [${ROOT}/examples/demo-app.mjs]
      readinessPath: /healthz
`;
}
