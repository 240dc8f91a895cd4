/**
 * The rule of `RolloutCapacity` that needs the whole spec: the surge budget against the schedule. Its messages live
 * in `core/errors.ts`; the node pool's ceiling is checked by the Kubernetes rollout against its `GpuNodePools`.
 */
import { surgeMinimumExtraGpus } from '../../core/capacity';
import { budgetTooSmall } from '../../core/errors';
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
