/**
 * Weight arithmetic: from the schedule's progress to the share of requests of every version.
 *
 * Invariants (property-tested): every weight is a whole number in 0..100; the weights of all versions sum
 * to exactly 100; a canary's weight never exceeds its target and never decreases as progress grows.
 */
import * as errors from './errors';
import { validateWeight } from './schedule';
import { CanarySpec, RolloutSpec } from './spec';

/** Weight of every version, by version name. Stable first, then canaries, in spec order. */
export type Weights = Record<string, number>;

/** A ramped canary's weight at `progress` percent of the schedule: its target scaled, rounded half up. */
export function canaryWeight(canary: CanarySpec, progress: number): number {
  if (!canary.ramp) return canary.targetWeight;
  return Math.round((progress * canary.targetWeight) / 100);
}

/** Weights of all versions at `progress`. The stable version gets the rest. */
export function weightsAt(spec: Pick<RolloutSpec, 'stable' | 'canaries'>, progress: number): Weights {
  const weights: Weights = { [spec.stable]: 0 };
  let total = 0;
  for (const c of spec.canaries) {
    const w = canaryWeight(c, progress);
    weights[c.version] = w;
    total += w;
  }
  weights[spec.stable] = 100 - total;
  return weights;
}

/** Weights with every canary at 0: what an abort or cancel sets. */
export function abortWeights(spec: Pick<RolloutSpec, 'stable' | 'canaries'>): Weights {
  const weights: Weights = { [spec.stable]: 100 };
  for (const c of spec.canaries) weights[c.version] = 0;
  return weights;
}

/**
 * Resolve canary targets: explicit weights are kept; a single canary without a weight gets 100; several
 * canaries without weights share what the explicit ones leave equally (the remainder to the first ones).
 * Validates: at least one canary, no duplicates, none is the stable version, weights whole 0..100, total <= 100.
 */
export function resolveCanaries(
  path: string,
  stable: string,
  canaries: ReadonlyArray<{ readonly version: string; readonly weight?: number; readonly ramp?: boolean }>,
  property = 'canaries',
): CanarySpec[] {
  if (canaries.length === 0) throw errors.noCanaries(path, property);
  const seen = new Set<string>();
  canaries.forEach((c, i) => {
    if (c.version === stable) throw errors.canaryIsStable(path, `${property}[${i}].version`, c.version);
    if (seen.has(c.version)) throw errors.duplicateVersion(path, `${property}[${i}].version`, c.version);
    seen.add(c.version);
    if (c.weight !== undefined) validateWeight(path, `${property}[${i}].weight`, c.weight);
  });
  const explicit = canaries.reduce((sum, c) => sum + (c.weight ?? 0), 0);
  if (explicit > 100) {
    throw errors.canaryTotalOver100(path, property, explicit, canaries.filter((c) => c.weight !== undefined).map((c) => `${c.version}=${c.weight}`).join(' + '));
  }
  const implicit = canaries.filter((c) => c.weight === undefined);
  const share = implicit.length > 0 ? Math.floor((100 - explicit) / implicit.length) : 0;
  let remainder = implicit.length > 0 ? 100 - explicit - share * implicit.length : 0;
  return canaries.map((c) => {
    let target = c.weight;
    if (target === undefined) {
      target = share + (remainder > 0 ? 1 : 0);
      if (remainder > 0) remainder--;
    }
    // a canary at weight 0 (pinned requests only) has nothing to ramp: it holds its 0 from the start
    return { version: c.version, targetWeight: target, ramp: target === 0 ? false : c.ramp ?? true };
  });
}
