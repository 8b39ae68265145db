/**
 * Label selector matching as Kubernetes defines it for a Deployment's
 * `spec.selector`: every `matchLabels` pair and every `matchExpressions`
 * requirement (In, NotIn, Exists, DoesNotExist) must hold. An empty selector
 * matches nothing here: a Deployment always has a non-empty one, and
 * matching every pod of a namespace would be a dangerous default.
 */
import type { LabelSelector } from "./strip.js";

export function matchesSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return false;
  const pairs = Object.entries(selector.matchLabels);
  if (pairs.length === 0 && selector.matchExpressions.length === 0) return false;
  for (const [key, value] of pairs) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions) if (!requirementHolds(e, labels[e.key])) return false;
  return true;
}

function requirementHolds(e: LabelSelector["matchExpressions"][number], value: string | undefined): boolean {
  switch (e.operator) {
    case "In":
      return value !== undefined && e.values.includes(value);
    case "NotIn":
      return value === undefined || !e.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default:
      // An operator the API server would have refused: match nothing rather than guess.
      return false;
  }
}
