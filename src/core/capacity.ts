/**
 * Capacity arithmetic: how many replicas a version needs to take a share of the stable version's load.
 * Rounded up, never zero while a version gets any traffic (Argo Rollouts' rule).
 */

/** Replicas needed for `weightPercent` of the load that `stableReplicas` serve at 100 %. */
export function replicasForWeight(weightPercent: number, stableReplicas: number): number {
  if (weightPercent <= 0) return 0;
  return Math.max(1, Math.ceil((weightPercent * stableReplicas) / 100));
}
