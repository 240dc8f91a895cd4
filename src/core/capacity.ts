/**
 * Capacity arithmetic: how many replicas each version needs, computed once for the plan (synth time) and for
 * `decide()` (run time), so the GPU-hours a reviewer reads are the GPUs the controller asks for.
 *
 * Worked example (stable at 4 replicas, one canary, 10 equal steps over 10 minutes, look-ahead 5 minutes):
 * at the start the schedule reaches 50 % within 5 minutes, so the canary's floor is ceil(50 × 4 / 100) = 2
 * before any traffic moves; after one minute it reaches 60 %: 3 replicas; the stable keeps 4 until promotion.
 *
 * Live sizing: at run time the base is not the synth-time `stableReplicas` but the live load (`liveReplicas()`):
 * at a traffic peak where the stable version runs 12 replicas, 50 % needs 6 canary replicas, not 2.
 *
 * Surge mode (`spec.capacity.mode === 'surge'`): the stable version keeps only what its remaining share needs plus
 * a reserve, so the rollout uses at most `maxExtraGpus` above the stable's GPUs (Argo Rollouts'
 * `dynamicStableScale`, Baseten's rolling promotion, SageMaker's rolling deployment, see README "Capacity during a
 * rollout"). With 12 live replicas, a reserve of 1 and the canary at 50 %: stable ceil(50 × 12 / 100) + 1 = 7.
 */
import { DEFAULT_PREWARM_SECONDS } from './constants';
import { progressAfter, stepSeconds } from './schedule';
import { CapacitySpec, RolloutSpec } from './spec';
import { Weights, weightsAt } from './weights';

/** Replicas needed for `weightPercent` of the load that `stableReplicas` serve at 100 %. Never 0 while any traffic flows (Argo Rollouts' rule). */
export function replicasForWeight(weightPercent: number, stableReplicas: number): number {
  if (weightPercent <= 0) return 0;
  return Math.max(1, Math.ceil((weightPercent * stableReplicas) / 100));
}

/**
 * Replicas `version` needs for `weightPercent` of the load `base` replicas serve at 100 %, within the version's own
 * autoscaling (`VersionSpec.minReplicas`/`maxReplicas`: BentoCloud's canary a at most 2, b at most 3). 0 without
 * traffic, as `replicasForWeight`.
 */
export function replicasOf(spec: Pick<RolloutSpec, 'versions'>, version: string, weightPercent: number, base: number): number {
  const n = replicasForWeight(weightPercent, base);
  if (n === 0) return 0;
  const v = spec.versions.find((x) => x.name === version);
  return Math.min(v?.maxReplicas ?? Infinity, Math.max(v?.minReplicas ?? 0, n));
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
    // a shadow step loads the single canary with its copies on top of its share (progress is percent of target)
    if (step.kind === 'shadow' && spec.canaries.length === 1) {
      const target = spec.canaries[0].targetWeight;
      progress = Math.max(progress, Math.min(100, progressAfter(spec.steps, i) + (target > 0 ? Math.ceil((step.percent * 100) / target) : 0)));
    }
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
export function desiredFloors(spec: RolloutSpec, index: number, elapsed: number, base = spec.stableReplicas): Record<string, number> {
  const ahead = lookAheadWeights(spec, index, elapsed);
  const floors: Record<string, number> = {};
  if (isSurge(spec)) {
    // the stable version serves the progress reached so far while step `index` runs, and keeps its reserve
    floors[spec.stable] = stableSurgeFloor(spec, weightsAt(spec, progressAfter(spec.steps, index))[spec.stable], base);
    const room = surgeRoom(spec, base, floors[spec.stable]);
    for (const c of spec.canaries) {
      // the look-ahead only as far as the budget lets, never below what the canary serves now
      const now = replicasOf(spec, c.version, weightsAt(spec, progressAfter(spec.steps, index))[c.version], base);
      floors[c.version] = Math.max(now, Math.min(replicasOf(spec, c.version, ahead[c.version], base), Math.floor(room / gpusOf(spec, c.version))));
    }
  } else {
    floors[spec.stable] = base;
    for (const c of spec.canaries) floors[c.version] = replicasOf(spec, c.version, ahead[c.version], base);
  }
  if (spec.mirror) floors[spec.mirror.version] = Math.max(floors[spec.mirror.version] ?? 0, mirrorReplicas(spec));
  // a pinned version serves its pinned requests at any weight (decide/pins.ts)
  for (const v of spec.pinned ?? []) floors[v] = Math.max(floors[v] ?? 0, 1);
  return floors;
}

/** The capacity mode of a spec (absent: full). */
export function capacityOf(spec: Pick<RolloutSpec, 'capacity'>): CapacitySpec {
  return spec.capacity ?? { mode: 'full' };
}

/** Whether the stable version shrinks as the canaries grow (surge mode). */
export function isSurge(spec: Pick<RolloutSpec, 'capacity'>): boolean {
  return capacityOf(spec).mode === 'surge';
}

/** Default of `reserveReplicas` in surge mode: one replica keeps the first abort step free of cold starts. */
export const DEFAULT_SURGE_RESERVE = 1;

/** Replicas the stable version keeps above its share in surge mode. */
export function surgeReserve(spec: Pick<RolloutSpec, 'capacity'>): number {
  return capacityOf(spec).reserveReplicas ?? DEFAULT_SURGE_RESERVE;
}

/** GPUs per replica of a version (0 for a CPU version or one the spec does not list). */
export function gpusOf(spec: Pick<RolloutSpec, 'versions'>, version: string): number {
  return spec.versions.find((v) => v.name === version)?.gpusPerReplica ?? 0;
}

/** Surge mode: the stable's floor while it serves `stableShare` % of a load of `base` replicas (never above `base`). */
export function stableSurgeFloor(spec: Pick<RolloutSpec, 'capacity'>, stableShare: number, base: number): number {
  return Math.min(base, replicasForWeight(stableShare, base) + surgeReserve(spec));
}

/**
 * Surge mode: GPUs left for the canaries when the stable version holds `stableReplicas`: the budget is the stable
 * version's GPUs at the live load plus `maxExtraGpus`. A CPU-only canary (0 GPUs) is never limited.
 */
export function surgeRoom(spec: RolloutSpec, base: number, stableReplicas: number): number {
  const budget = gpusOf(spec, spec.stable) * base + (capacityOf(spec).maxExtraGpus ?? 0);
  const mirror = spec.mirror ? mirrorReplicas(spec) * gpusOf(spec, spec.mirror.version) : 0;
  return Math.max(0, budget - gpusOf(spec, spec.stable) * stableReplicas - mirror);
}

/**
 * The smallest `maxExtraGpus` a surge rollout needs at any live load: the canary gains one replica at a time (its
 * weight moves as far as its ready replicas carry), while the stable keeps what its share needs (rounded up to a
 * replica, the share to a whole percent) plus the reserve. With one GPU per replica and the default reserve: 3.
 */
export function surgeMinimumExtraGpus(spec: RolloutSpec): number {
  const gC = Math.max(0, ...spec.canaries.map((c) => gpusOf(spec, c.version)));
  const gS = gpusOf(spec, spec.stable);
  let need = 0;
  // weights are whole percents: the stable version's share rounds up to one more replica at some loads, so every
  // load from the plan's up to 100 replicas is checked (beyond, the same rounding repeats)
  for (let base = spec.stableReplicas; base <= Math.max(spec.stableReplicas, 100); base++) {
    for (let c = 0; c < base; c++) {
      const carried = Math.min(100, Math.floor((c * 100) / base));
      const stable = stableSurgeFloor(spec, 100 - carried, base);
      need = Math.max(need, gC * (c + 1) + gS * stable - gS * base);
    }
  }
  return need;
}

/** Default of `autoscalerWindowSeconds`: the HPA's default scale-down stabilization window. */
export const DEFAULT_AUTOSCALER_WINDOW_SECONDS = 300;

/** Below this share a version's replicas say little about the whole load (the HPA rounds up: 1 replica at 10 % reads as 10). */
export const LIVE_MIN_SHARE = 20;

/**
 * The live load in replicas of the stable version at 100 % of traffic, from what the autoscalers want now, or
 * undefined when nothing tells.
 *
 * A version whose autoscaler wants more than its floor is load-driven: its desired replicas over its served share
 * estimate the whole load. A version held at its floor says only that its load is at most that, so it is left
 * out (the stable version at 100 % counts: its floor is the plan's base). Versions serving under
 * `LIVE_MIN_SHARE` % are left out too, and of the rest the one serving the largest share counts (the HPA rounds
 * up, so `n` desired replicas mean a load between n - 1 and n: the upper end is read, an excess of at most
 * 100 / share replicas: GPUs, never overload). Ready replicas alone are not load (a canary pre-warmed above its share is
 * ready too): a version whose desired replicas are unknown says nothing.
 */
export function liveReplicas(
  spec: Pick<RolloutSpec, 'stable' | 'canaries' | 'stableReplicas'>,
  live: {
    readonly desired?: Record<string, number>;
    readonly served?: Record<string, number>;
    readonly floors?: Record<string, number>;
    /**
     * The share each version's desired replicas were recommended at when it was higher within the autoscaler's
     * window (an HPA holds the highest recommendation of its scale-down window): read against it.
     */
    readonly heldShares?: Record<string, number>;
  },
): number | undefined {
  let best: { share: number; load: number } | undefined;
  for (const v of [spec.stable, ...spec.canaries.map((c) => c.version)]) {
    const share = Math.max(live.served?.[v] ?? 0, live.heldShares?.[v] ?? 0);
    const n = live.desired?.[v];
    if ((live.served?.[v] ?? 0) < LIVE_MIN_SHARE || n === undefined) continue;
    if (share < 100 && n <= (live.floors?.[v] ?? 0)) continue;
    if (best && share <= best.share) continue;
    // the HPA's ceil() puts the load between n - 1 and n replicas: the upper end (capacity errs on the safe side)
    best = { share, load: Math.max(spec.stableReplicas, Math.ceil((n * 100) / share - 1e-9)) };
  }
  return best?.load;
}

/** Replicas of the shadow version: its mirrored share of the stable load. */
export function mirrorReplicas(spec: RolloutSpec): number {
  return spec.mirror ? replicasForWeight(spec.mirror.percent, spec.stableReplicas) : 0;
}
