/**
 * The rules of `RolloutCapacity` that need the whole spec (the budget against the schedule and the node pool),
 * with their messages, and the messages of the option's own checks.
 */
import { surgeMinimumExtraGpus } from '../../core/capacity';
import { configError } from '../../core/errors';
import { RolloutSpec } from '../../core/spec';

/**
 * Throw unless a surge budget fits the rollout at the plan's stable replicas: one more canary replica beside what
 * the stable version's share needs and its reserve (`surgeMinimumExtraGpus()`).
 * @internal
 */
export function validateSurgeBudget(spec: RolloutSpec, property: string): void {
  const c = spec.capacity;
  if (!c || c.mode !== 'surge') return;
  const need = surgeMinimumExtraGpus(spec);
  if ((c.maxExtraGpus ?? 0) < need) throw budgetTooSmall(spec.path, `${property}.maxExtraGpus`, c.maxExtraGpus ?? 0, need, c.reserveReplicas);
}

export function maxExtraGpusInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a GPU budget must be a whole number of GPUs, at least 1',
    'use for example `RolloutCapacity.surge({ maxExtraGpus: 8 })` (one 8-GPU replica above the stable version), or `RolloutCapacity.full()`');
}

export function reserveInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the stable version\'s reserve is a whole number of replicas, 0 or more',
    'leave it out (1 replica), or use 0 to accept that an abort waits for a cold start before moving traffic back');
}

export function budgetTooSmall(path: string, property: string, value: number, need: number, reserve: number | undefined) {
  return configError(path, property, value,
    `the budget cannot fit one more canary replica beside the stable version's share and its reserve of ${reserve ?? 1} replica(s): it needs at least ${need} GPUs; the canary would never get a replica`,
    `use \`maxExtraGpus: ${need}\` or more, a smaller \`reserveReplicas\`, or \`RolloutCapacity.full()\``);
}

export function budgetAboveNodePool(path: string, property: string, value: number, product: string, stableGpus: number, maxGpus: number) {
  return configError(path, property, value,
    `the stable version already uses ${stableGpus} ${product} GPUs and the node pool for ${product} stops at maxGpus ${maxGpus}: the budget can never be used, canary pods would stay Pending and the rollout abort at its progress deadline`,
    `use \`maxExtraGpus: ${Math.max(0, maxGpus - stableGpus)}\` or less, or raise the GpuNodePools' \`maxGpus\` to at least ${stableGpus + value}`);
}
