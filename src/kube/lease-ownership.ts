/**
 * The `AppOwnership` port on the leader Lease: today its holder owns every
 * app. This replica while it leads; else the holder another replica wrote
 * on the Lease with its peer address (PEER_ADDRESS_ANNOTATION), while its
 * claim has not expired as this replica measures it; else unknown (callers
 * fail closed). Bucketed ownership (a Lease per bucket of apps, hashed by
 * app key) would give each bucket one of these.
 */
import type { AppOwner, AppOwnership } from "../runtime/ports.js";
import type { LeaseLeadership } from "./lease-leadership.js";

const SELF: AppOwner = { kind: "self" };
const NO_HOLDER: AppOwner = { kind: "unknown", reason: "no replica holds the leader Lease with a peer address (yet)" };

export function leaseOwnership(lease: Pick<LeaseLeadership, "isLeader" | "holderPeer">): AppOwnership {
  return { ownerOf: () => (lease.isLeader() ? SELF : (lease.holderPeer() ?? NO_HOLDER)) };
}
