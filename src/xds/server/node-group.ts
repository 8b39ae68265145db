import type { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";

/** Picks the node group (snapshot) a connecting Envoy is served. Injectable into the server. */
export type NodeGroupFn = (node: Node) => string;

/** Metadata key that names the group explicitly. */
export const GROUP_METADATA_KEY = "ticketplane.group";

/** `node.metadata["ticketplane.group"]` when it is a non-empty string, else `node.cluster` when non-empty, else "default". */
export const defaultNodeGroup: NodeGroupFn = (node) => {
  const fromMetadata: unknown = node.metadata?.[GROUP_METADATA_KEY];
  if (typeof fromMetadata === "string" && fromMetadata !== "") return fromMetadata;
  if (node.cluster !== "") return node.cluster;
  return "default";
};
