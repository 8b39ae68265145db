/**
 * `POST /drain/<namespace>/<pod>`: marks a pod draining (no new tickets; its
 * users keep being served), for a pod's preStop hook. Idempotent: draining a
 * draining pod answers 200 again. 404 for a pod no app lists, 400 for names
 * that cannot be Kubernetes names. The work is a port's (PodDrainer), so the
 * admin server knows nothing of Kubernetes.
 */
import type { Request, Response } from "express";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";

export type DrainOutcome = "drained" | "already" | "not_found";

export interface PodDrainer {
  /** Marks `namespace/pod` draining. Rejects only when the mark could not be written. */
  drain(namespace: string, pod: string): Promise<DrainOutcome>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function drainHandler(drainer: PodDrainer, logger: Logger) {
  return async (req: Request, res: Response): Promise<void> => {
    const namespace = String(req.params.namespace ?? "");
    const pod = String(req.params.pod ?? "");
    if (!DNS_LABEL.test(namespace)) {
      res.status(400).json({ error: `namespace ${JSON.stringify(namespace)} is not a DNS-1123 label` });
      return;
    }
    if (!DNS_SUBDOMAIN.test(pod)) {
      res.status(400).json({ error: `pod ${JSON.stringify(pod)} is not a DNS-1123 subdomain` });
      return;
    }
    try {
      const outcome = await drainer.drain(namespace, pod);
      if (outcome === "not_found") {
        res.status(404).json({ error: `no app lists pod ${namespace}/${pod}` });
        return;
      }
      if (outcome === "drained") logger.info("pod marked draining", { namespace, pod });
      res.status(200).json({ namespace, pod, draining: true, already: outcome === "already" });
    } catch (err) {
      logger.error("could not mark a pod draining", { namespace, pod, error: errorMessage(err) });
      res.status(503).json({ error: `could not mark ${namespace}/${pod} draining: ${errorMessage(err)}` });
    }
  };
}
