/**
 * Building a validated `RolloutSpec` from construct props: shared by the Kubernetes and AWS rollouts and by
 * `RolloutPlan.compute()`, so both targets check and plan a rollout the same way.
 */
import { DEFAULT_PROGRESS_DEADLINE_SECONDS } from '../../core/constants';
import * as errors from '../../core/errors';
import { validateDns1123Label } from '../../core/names';
import { fillSynthPlaceholders, notFilledAtRunTime, queriesOf, SynthPlaceholderValues } from '../../core/placeholders';
import { resolveShadowSteps, validateGate } from '../../core/schedule';
import { MetricSpec, rolloutVersions, RolloutSpec, VersionSpec } from '../../core/spec';
import { resolveCanaries } from '../../core/weights';
import { Metric } from '../analysis';
import { CanaryOptions, MirrorOptions } from '../canary';
import { RolloutCapacity } from '../capacity';
import { ReleaseWindow } from '../release-window';
import { validateSurgeBudget } from './capacity-rules';
import { Steps } from '../steps';

/** What a target passes to `buildRolloutSpec`. */
export interface RolloutSpecInput {
  readonly name: string;
  readonly stable: string;
  readonly canaries: readonly CanaryOptions[];
  readonly steps?: Steps;
  readonly stableReplicas?: number;
  /** Versions the rollout may name, with their GPUs. Unknown canary/mirror names are errors. */
  readonly versions: readonly VersionSpec[];
  readonly mirror?: MirrorOptions;
  /**
   * Versions the target's pins lead to (already validated as known versions). Absent: the target has no pins, so a
   * canary at weight 0 is refused with a fix that does not offer one.
   */
  readonly pinnedVersions?: readonly string[];
  /** When steps may raise the canaries' share; absent: any time. */
  readonly allowedWindows?: readonly ReleaseWindow[];
  readonly checks?: readonly Metric[];
  readonly checkFailureLimit?: number;
  readonly progressDeadlineSeconds?: number;
  readonly keepPreviousWarmSeconds?: number;
  /** Capacity look-ahead; absent: the engine's default. */
  readonly prewarmSeconds?: number;
  /** false: the target's deploys never reset the route, so the previous version may go down after promotion. */
  readonly keepPreviousUntilSpecChanges?: boolean;
  /** How the rollout uses GPUs; absent: full. */
  readonly capacity?: RolloutCapacity;
  /**
   * What the target's router can mirror, for shadow steps, with the target's errors for a shadow step it cannot run.
   * Absent: no mirroring (the default shadow step is left out, an explicit one is an error).
   */
  readonly shadows?: ShadowSupport;
  /**
   * Where the rollout runs (model, environment, namespace): filled into every query of the spec, so the controller
   * reads the values (`core/placeholders.ts`); a synth-time placeholder the target cannot fill is refused.
   * Absent: a spec no controller runs (a plan computed from props).
   */
  readonly placeholders?: Partial<SynthPlaceholderValues>;
}

/** A target's mirroring, for shadow steps. */
export interface ShadowSupport {
  readonly canMirror: boolean;
  readonly partialMirror: boolean;
  readonly unsupported: (property: string) => Error;
  readonly partial: (property: string, percent: number) => Error;
}

/** Validate and resolve. Throws `RolloutConfigError` naming `path`. */
export function buildRolloutSpec(path: string, input: RolloutSpecInput): RolloutSpec {
  validateDns1123Label(path, 'name', input.name);
  const known = input.versions.map((v) => v.name);
  const seen = new Set<string>();
  input.versions.forEach((v, i) => {
    validateDns1123Label(path, `versions[${i}]`, v.name);
    if (seen.has(v.name)) throw errors.duplicateVersion(path, `versions[${i}]`, v.name);
    seen.add(v.name);
  });
  if (!seen.has(input.stable)) throw errors.unknownVersion(path, 'stable', input.stable, known);
  const pinned = [...new Set(input.pinnedVersions ?? [])];
  const canaries = resolveCanaries(path, input.stable, input.canaries);
  canaries.forEach((c, i) => {
    if (!seen.has(c.version)) throw errors.unknownVersion(path, `canaries[${i}].version`, c.version, known);
    // a canary at weight 0 and without a pin never gets a request, so its checks never conclude and its GPUs idle;
    // with a pin it serves the pinned requests only (Wallaroo's key split)
    if (c.targetWeight === 0 && !pinned.includes(c.version)) {
      throw errors.canaryWeightZero(path, `canaries[${i}].weight`, c.version, input.pinnedVersions !== undefined);
    }
  });
  if (input.mirror) {
    const m = input.mirror;
    if (m.version === input.stable) throw errors.mirrorToStable(path, 'mirror.version', m.version);
    if (canaries.some((c) => c.version === m.version)) throw errors.mirrorToCanary(path, 'mirror.version', m.version);
    if (!seen.has(m.version)) throw errors.unknownVersion(path, 'mirror.version', m.version, known);
    if (!Number.isInteger(m.percent) || m.percent < 1 || m.percent > 100) throw errors.mirrorPercentInvalid(path, 'mirror.percent', m.percent);
  }
  const stableReplicas = input.stableReplicas ?? 1;
  if (!Number.isInteger(stableReplicas) || stableReplicas < 1) throw errors.replicasInvalid(path, 'stableReplicas', stableReplicas, 1);

  const shadows = input.shadows;
  const steps = (input.steps ?? Steps.equal())._bind(path, 'steps', (list) => resolveShadowSteps(path, 'steps', list, {
    canaries,
    stableReplicas,
    canMirror: shadows?.canMirror ?? false,
    partialMirror: shadows?.partialMirror ?? false,
  }, {
    unsupported: shadows?.unsupported ?? ((p) => errors.shadowUnsupported(path, p)),
    partial: shadows?.partial ?? ((p) => errors.shadowUnsupported(path, p)),
  }));
  const checks: MetricSpec[] = (input.checks ?? []).map((m) => m._spec());
  const checkFailureLimit = input.checkFailureLimit ?? 0;
  if (checks.length > 0) {
    // the same rules as a gate's metrics
    validateGate(path, 'checks', { name: 'checks', metrics: checks, intervalSeconds: 60, count: 1, failureLimit: checkFailureLimit, inconclusiveLimit: 0 });
  }
  const involved = new Set(rolloutVersions({ stable: input.stable, canaries, mirror: input.mirror, pinned }));
  const capacity = input.capacity?._spec(path, 'capacity');
  const spec: RolloutSpec = {
    name: input.name,
    path,
    stable: input.stable,
    canaries,
    versions: input.versions.filter((v) => involved.has(v.name)),
    steps,
    stableReplicas,
    checks,
    checkFailureLimit,
    progressDeadlineSeconds: input.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
    keepPreviousWarmSeconds: input.keepPreviousWarmSeconds ?? 0,
    mirror: input.mirror ? { version: input.mirror.version, percent: input.mirror.percent } : undefined,
    ...(pinned.length > 0 ? { pinned } : {}),
    ...(input.allowedWindows?.length ? { allowedWindows: input.allowedWindows.map((w, i) => w._spec(path, `allowedWindows[${i}]`)) } : {}),
    ...(input.prewarmSeconds !== undefined ? { prewarmSeconds: input.prewarmSeconds } : {}),
    ...(input.keepPreviousUntilSpecChanges === false ? { keepPreviousUntilSpecChanges: false } : {}),
    ...(capacity ? { capacity } : {}),
  };
  validateSurgeBudget(spec, 'capacity');
  return input.placeholders ? withSynthPlaceholders(path, spec, input.placeholders) : spec;
}

/**
 * The spec with the synth-time placeholders filled. Unknown names were refused with the metric's property
 * (`validateGate`); what is left for the controller must be only what it fills.
 */
function withSynthPlaceholders(path: string, spec: RolloutSpec, values: Partial<SynthPlaceholderValues>): RolloutSpec {
  const filled = fillSynthPlaceholders(spec, values);
  const metrics = [
    ...filled.checks.map((m, i) => ({ m, property: `checks[${i}]` })),
    ...filled.steps.flatMap((s, i) => (s.kind === 'analysis' ? s.gate.metrics.map((m, j) => ({ m, property: `steps[${i}].gate.metrics[${j}]` })) : [])),
  ];
  for (const { m, property } of metrics) {
    for (const q of queriesOf(m)) {
      const left = notFilledAtRunTime(q.query);
      if (left.length > 0) throw errors.placeholderUnknown(path, `${property}.${q.property}`, q.query, left);
    }
  }
  return filled;
}

