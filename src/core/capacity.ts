/**
 * Capacity arithmetic: how many replicas each version needs, computed once for the plan (synth time) and for
 * `decide()` (run time), so the GPU-hours a reviewer reads are the GPUs the controller asks for.
 *
 * Worked example (stable at 4 replicas, one canary, 10 equal steps over 10 minutes, look-ahead 5 minutes):
 * at the start the schedule reaches 50 % within 5 minutes, so the canary's floor is ceil(50 × 4 / 100) = 2
 * before any traffic moves; after one minute it reaches 60 %: 3 replicas; the stable keeps 4 until promotion.
 */
import { DEFAULT_PREWARM_SECONDS } from './constants';
import { progressAfter, stepSeconds } from './schedule';
import { RolloutSpec } from './spec';
import { Weights, weightsAt } from './weights';

/** Replicas needed for `weightPercent` of the load that `stableReplicas` serve at 100 %. Never 0 while any traffic flows (Argo Rollouts' rule). */
export function replicasForWeight(weightPercent: number, stableReplicas: number): number {
  if (weightPercent <= 0) return 0;
  return Math.max(1, Math.ceil((weightPercent * stableReplicas) / 100));
}

/** The look-ahead window of a spec, in seconds. */
export function prewarmSeconds(spec: Pick<RolloutSpec, 'prewarmSeconds'>): number {
  return spec.prewarmSeconds ?? DEFAULT_PREWARM_SECONDS;
}

/**
 * The highest weights the schedule reaches from step `index` (already `elapsed` seconds into it) within the
 * look-ahead window. A manual pause ends the look-ahead: nobody knows when it is released.
 */
export function lookAheadWeights(spec: RolloutSpec, index: number, elapsed: number): Weights {
  const window = prewarmSeconds(spec);
  let progress = progressAfter(spec.steps, index);
  let t = -elapsed;
  for (let i = index; i < spec.steps.length && t <= window; i++) {
    const step = spec.steps[i];
    if (step.kind === 'setWeight') progress = Math.max(progress, step.weight);
    if (step.kind === 'pauseUntilPromoted') break;
    t += stepSeconds(step);
  }
  return weightsAt(spec, progress);
}

/**
 * Replica floors while step `index` runs, `elapsed` seconds into it: the stable version at its baseline, every
 * canary at what the schedule needs within the look-ahead window, the mirror at its share. The controller raises
 * floors to these values (never lowers them while progressing); the plan shows them.
 */
export function desiredFloors(spec: RolloutSpec, index: number, elapsed: number): Record<string, number> {
  const ahead = lookAheadWeights(spec, index, elapsed);
  const floors: Record<string, number> = { [spec.stable]: spec.stableReplicas };
  for (const c of spec.canaries) floors[c.version] = replicasForWeight(ahead[c.version], spec.stableReplicas);
  if (spec.mirror) floors[spec.mirror.version] = Math.max(floors[spec.mirror.version] ?? 0, mirrorReplicas(spec));
  return floors;
}

/** Replicas of the shadow version: its mirrored share of the stable load. */
export function mirrorReplicas(spec: RolloutSpec): number {
  return spec.mirror ? replicasForWeight(spec.mirror.percent, spec.stableReplicas) : 0;
}
