/**
 * The rollout plan: the full timeline a spec will produce when every gate passes at once.
 * Computed at synth time (written beside the manifests for review) and printed by the CLI.
 */
import { capacityOf, desiredFloors, isSurge, prewarmSeconds, surgeReserve } from '../capacity';
import { TICK_SECONDS } from '../constants';
import { hashOf } from '../hash';
import { stepSeconds } from '../schedule';
import { AnalysisGateSpec, MetricSpec, RolloutSpec, StepSpec } from '../spec';
import { Weights, weightsAt } from '../weights';
import { describeWindow } from '../windows';

/** One row of the plan: the state of traffic while one step runs. */
export interface PlanRow {
  /** Index of the step in `spec.steps`, or -1 for the starting row. */
  readonly step: number;
  /** What happens at this row, for humans. */
  readonly description: string;
  /** Seconds from the start of the rollout when the row begins (gates assumed to pass at once). */
  readonly atSeconds: number;
  /** How long the row lasts, nominally. */
  readonly seconds: number;
  /** Schedule progress (percent of each canary's target). */
  readonly progress: number;
  readonly weights: Weights;
  /**
   * Replica floors the controller holds by the end of the row (`desiredFloors()`, the same function the controller
   * calls): canaries pre-warmed for the look-ahead window, the stable version at its full count until promotion.
   */
  readonly replicas: Record<string, number>;
  /** GPUs in use across all versions. */
  readonly gpus: number;
  /** The row waits for a person (`pauseUntilPromoted`): the plan continues as if promoted at once. */
  readonly waitsForPromotion: boolean;
  /** The row is an analysis gate: it lasts at least `seconds`, longer while results are inconclusive. */
  readonly gate?: string;
  /** The author's note on a `setWeight` step. */
  readonly note?: string;
  /** A shadow step: percent of all requests mirrored to the canary (it lasts at most `seconds`, less once the test passes). */
  readonly shadow?: number;
  /**
   * A step after the final 100 % (the bake): the canaries hold their targets with every check running and the stable
   * version warm; a failing check or a cancel sends all the traffic back to it at once.
   */
  readonly bake?: boolean;
}

/** The whole plan. */
export interface PlanData {
  readonly name: string;
  readonly path: string;
  /** Stable hash of the spec: the controller restarts the schedule when it changes. */
  readonly hash: string;
  readonly stable: string;
  readonly canaries: readonly string[];
  readonly mirror?: { readonly version: string; readonly percent: number };
  /** Versions pins lead to (`RolloutSpec.pinned`). */
  readonly pinned?: readonly string[];
  /** Release windows, as people read them (`windows.ts`). */
  readonly windows?: readonly string[];
  readonly stableReplicas: number;
  readonly rows: readonly PlanRow[];
  /** Nominal duration in seconds, gates passing at once and manual pauses released at once. */
  readonly totalSeconds: number;
  /** true when the plan holds at a `pauseUntilPromoted` step: the real duration depends on a person. */
  readonly waitsForPromotion: boolean;
  /** GPU-hours the rollout uses over `totalSeconds` (all versions, including the stable one). */
  readonly gpuHours: number;
  /** Peak GPUs in use at any time. */
  readonly peakGpus: number;
  /** What happens at the end: the only canary becomes the stable version, or the split holds. */
  readonly ending: 'promote' | 'hold';
  /**
   * Every canary holds its weight from the start (`ramp: false`): the split is rendered into the route and no
   * controller runs it, so nothing checks it.
   */
  readonly fixedSplit?: boolean;
  /** What a reviewer must see besides the timeline: checks, gates, deadlines, GPUs (from the spec). */
  readonly safety: PlanSafety;
  /** How the rollout uses GPUs, and the peak and GPU-hours of the other mode for comparison. */
  readonly capacity: PlanCapacity;
}

/** The capacity mode of a plan (see `RolloutCapacity`). */
export interface PlanCapacity {
  readonly mode: 'full' | 'surge';
  /** surge: GPUs above the stable version's. */
  readonly maxExtraGpus?: number;
  /** surge: replicas the stable version keeps above its share. */
  readonly reserveReplicas?: number;
  /** surge: what the same schedule would use in full mode (both versions at full size). */
  readonly fullPeakGpus?: number;
  readonly fullGpuHours?: number;
}

/** The rules that stop or hold a rollout, and the capacity it asks for, as the plan shows them. */
export interface PlanSafety {
  /** Checks measured at every tick while a canary has traffic. */
  readonly checks: readonly MetricSpec[];
  /** Failed check measurements tolerated before the rollout aborts. */
  readonly checkFailureLimit: number;
  /** The analysis steps' gates, by step index. */
  readonly gates: ReadonlyArray<{ readonly step: number; readonly gate: AnalysisGateSpec }>;
  /** How far ahead canaries are pre-warmed. */
  readonly prewarmSeconds: number;
  /** A canary not ready this long after its floor rose aborts the rollout. */
  readonly progressDeadlineSeconds: number;
  /** After promotion, the previous version stays warm this long. */
  readonly keepPreviousWarmSeconds: number;
  /** Whether the previous version keeps its replicas after promotion until the spec names the new one. */
  readonly keepPreviousUntilSpecChanges: boolean;
  /** Seconds the steps after the final 100 % take (the bake), nominally. */
  readonly bakeSeconds: number;
  /** Seconds the shadow steps take at most (each ends early once its error test passes). */
  readonly shadowSeconds?: number;
  /** GPUs per replica and product, by version. */
  readonly gpus: ReadonlyArray<{ readonly version: string; readonly gpusPerReplica: number; readonly product?: string }>;
}

/** Compute the plan of a (validated) spec. */
export function computePlan(spec: RolloutSpec): PlanData {
  const plan = computeTimeline(spec);
  const c = capacityOf(spec);
  if (c.mode !== 'surge') return { ...plan, capacity: { mode: 'full' } };
  const { capacity: _c, ...asFull } = spec;
  const full = computeTimeline(asFull);
  return {
    ...plan,
    capacity: { mode: 'surge', maxExtraGpus: c.maxExtraGpus, reserveReplicas: surgeReserve(spec), fullPeakGpus: full.peakGpus, fullGpuHours: full.gpuHours },
  };
}

function computeTimeline(spec: RolloutSpec): Omit<PlanData, 'capacity'> {
  const surge = isSurge(spec);
  const gpusPer = new Map(spec.versions.map((v) => [v.name, v.gpusPerReplica]));
  const gpusOf = (replicas: Record<string, number>) => Object.entries(replicas).reduce((sum, [v, r]) => sum + r * (gpusPer.get(v) ?? 0), 0);
  // the floors the controller holds: raised at each tick to `desiredFloors()`, never lowered while progressing
  const floors: Record<string, number> = {};
  let gpuSeconds = 0;
  let peakGpus = 0;
  /** Floors while step `index` runs for `seconds`, sampled at every tick as the controller does. */
  // (surge mode: the budget is the stable version's GPUs at the plan's replicas plus `maxExtraGpus`)
  const runStep = (index: number, seconds: number): Record<string, number> => {
    for (let elapsed = 0; elapsed < Math.max(seconds, 1); elapsed += TICK_SECONDS) {
      // surge mode: the stable version's floor follows its share down (the controller lowers it once served)
      for (const [v, n] of Object.entries(desiredFloors(spec, index, elapsed))) {
        floors[v] = surge && v === spec.stable ? n : Math.max(floors[v] ?? 0, n);
      }
      const gpus = gpusOf(floors);
      gpuSeconds += gpus * Math.min(TICK_SECONDS, seconds - elapsed > 0 ? seconds - elapsed : 0);
      peakGpus = Math.max(peakGpus, gpus);
    }
    return { ...floors };
  };

  const rowFor = (step: number, s: StepSpec | undefined, progress: number, atSeconds: number, description: string): PlanRow => {
    const seconds = s ? stepSeconds(s) : 0;
    const replicas = runStep(Math.max(0, step), seconds);
    return {
      step,
      description,
      atSeconds,
      seconds,
      progress,
      weights: weightsAt(spec, progress),
      replicas,
      gpus: gpusOf(replicas),
      waitsForPromotion: s?.kind === 'pauseUntilPromoted',
      gate: s?.kind === 'analysis' ? s.gate.name : undefined,
      note: s?.kind === 'setWeight' ? s.note : undefined,
      ...(s?.kind === 'shadow' ? { shadow: s.percent } : {}),
    };
  };

  const rows: PlanRow[] = [rowFor(-1, undefined, 0, 0, 'start')];
  let t = 0;
  let progress = 0;
  let bakeSeconds = 0;
  let shadowSeconds = 0;
  const final = spec.steps.findIndex((s) => s.kind === 'setWeight' && s.weight === 100);
  spec.steps.forEach((s, i) => {
    if (s.kind === 'setWeight') progress = s.weight;
    const bake = final >= 0 && i > final;
    const row = rowFor(i, s, progress, t, bake ? `bake: ${describeStep(s)}` : describeStep(s));
    rows.push(bake ? { ...row, bake: true } : row);
    if (bake) bakeSeconds += stepSeconds(s);
    else if (s.kind === 'shadow') shadowSeconds += stepSeconds(s);
    t += stepSeconds(s);
  });
  // after a bake, the end state is a row of its own: the bake's span is not the end
  if (bakeSeconds > 0) rows.push(rowFor(spec.steps.length, undefined, 100, t, 'end'));

  const ending = spec.canaries.length === 1 && spec.canaries[0].targetWeight === 100 && spec.canaries[0].ramp ? 'promote' : 'hold';
  return {
    name: spec.name,
    path: spec.path,
    hash: specHash(spec),
    stable: spec.stable,
    canaries: spec.canaries.map((c) => c.version),
    mirror: spec.mirror,
    ...(spec.pinned ? { pinned: spec.pinned } : {}),
    ...(spec.allowedWindows?.length ? { windows: spec.allowedWindows.map(describeWindow) } : {}),
    stableReplicas: spec.stableReplicas,
    rows,
    totalSeconds: t,
    waitsForPromotion: spec.steps.some((s) => s.kind === 'pauseUntilPromoted'),
    gpuHours: Math.round((gpuSeconds / 3600) * 1000) / 1000,
    peakGpus,
    ending,
    ...(spec.canaries.length > 0 && spec.canaries.every((c) => !c.ramp) ? { fixedSplit: true } : {}),
    safety: {
      checks: spec.checks,
      checkFailureLimit: spec.checkFailureLimit,
      gates: spec.steps.flatMap((x, i) => (x.kind === 'analysis' ? [{ step: i, gate: x.gate }] : [])),
      prewarmSeconds: prewarmSeconds(spec),
      progressDeadlineSeconds: spec.progressDeadlineSeconds,
      keepPreviousWarmSeconds: spec.keepPreviousWarmSeconds,
      keepPreviousUntilSpecChanges: spec.keepPreviousUntilSpecChanges !== false,
      bakeSeconds,
      ...(shadowSeconds > 0 ? { shadowSeconds } : {}),
      gpus: spec.versions.map((v) => ({ version: v.name, gpusPerReplica: v.gpusPerReplica, ...(v.gpuProduct ? { product: v.gpuProduct } : {}) })),
    },
  };
}

/** The hash of everything that shapes the rollout (the construct path is left out: moving code changes nothing). */
export function specHash(spec: RolloutSpec): string {
  const { path: _path, ...rest } = spec;
  return hashOf(rest);
}

/** Human description of a step. */
export function describeStep(s: StepSpec): string {
  switch (s.kind) {
    case 'setWeight':
      return `set weight ${s.weight}%${s.note ? ` (${s.note})` : ''}`;
    case 'pause':
      return `pause ${formatSeconds(s.seconds)}`;
    case 'pauseUntilPromoted':
      return 'pause until promoted';
    case 'analysis':
      return `analysis "${s.gate.name}" (${s.gate.count} x ${formatSeconds(s.gate.intervalSeconds)})`;
    case 'shadow':
      return `shadow: mirror ${s.percent}% of requests to the canary until the error test passes (at most ${formatSeconds(s.maxSeconds)})`;
  }
}

/** `m:ss` (or `h:mm:ss`) for offsets and durations. */
export function formatSeconds(seconds: number): string {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}
