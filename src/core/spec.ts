/**
 * The rollout spec: plain, JSON-serializable data that describes one rollout completely.
 *
 * The constructs build it at synth time (from `Steps`, `Metric`, versions and environments), the plan is
 * computed from it, and it travels to the step controller (ConfigMap on Kubernetes, SSM parameter on AWS)
 * where `decide()` reads it at every tick. Its hash (see `hash.ts`) tells the controller the plan changed.
 *
 * Units are always explicit in names (`Seconds`, `Percent`). Nothing here may hold functions or classes.
 */

/** One step of a schedule. Weights are the canary's share of its target, in percent (see `weights.ts`). */
export type StepSpec =
  | { readonly kind: 'setWeight'; readonly weight: number; readonly note?: string }
  | { readonly kind: 'pause'; readonly seconds: number }
  | { readonly kind: 'pauseUntilPromoted' }
  | { readonly kind: 'analysis'; readonly gate: AnalysisGateSpec }
  | ShadowStepSpec;

/**
 * A shadow step: the router mirrors `percent` of all requests to the (single) canary, whose answers are discarded,
 * at the weights reached so far; the continuous checks judge the canary on those copies. The step ends once
 * every sequential test of the checks has passed and held over as many copies again, and no fewer than
 * `requestsToClimb` (core/sequential.ts; `shadowVerdict` in decide/steps.ts), or `maxSeconds` after the router first
 * mirrored (then the ramp goes on and the tests keep judging real traffic); a test that fails aborts with no request
 * answered by the canary.
 * Gateway API `RequestMirror` (Flagger's "traffic mirroring as a pre-stage in a Canary", Argo's `setMirrorRoute`).
 */
export interface ShadowStepSpec {
  readonly kind: 'shadow';
  /** Share of all requests copied to the canary, whole percent 1..100. */
  readonly percent: number;
  /** Longest the step mirrors before the ramp goes on without a verdict. */
  readonly maxSeconds: number;
  /** The library's default shadow step (`Steps.equal()`): a target that cannot mirror leaves it out. */
  readonly auto?: boolean;
}

/** How a metric's value is compared with its threshold: the measurement passes when `value <op> threshold`. */
export type ComparisonSpec = 'lt' | 'lte' | 'gt' | 'gte';

/** One metric checked by an analysis gate or continuously. */
export type MetricSpec =
  | {
    readonly provider: 'prometheus';
    readonly name: string;
    /** PromQL instant query returning one sample (scalar or one-element vector). `{{version}}` etc. are substituted. */
    readonly query: string;
    readonly comparison: ComparisonSpec;
    readonly threshold: number;
    /**
     * Minimum-sample guard: a PromQL query that counts the requests behind the measurement.
     * Below `minSamples`, the measurement is inconclusive (wait), never a failure.
     */
    readonly sampleQuery?: string;
    readonly minSamples?: number;
    /**
     * Canary versus stable: the same measurement of the stable version over the same window; the canary fails when
     * it is worse by more than both `maxRatio` and `maxDifference` (see `gates.ts`, `judgeWithBaseline`).
     */
    readonly baseline?: BaselineSpec;
    /**
     * A sequential test of canary errors against stable errors (see `sequential.ts`). When set, the metric's verdict
     * is the test's (`sequentialStep`); `query`/`threshold` remain an absolute ceiling judged as before.
     */
    readonly sequential?: SequentialTestSpec;
  }
  | {
    readonly provider: 'cloudwatchAlarm';
    readonly name: string;
    /** A measurement fails while the alarm is in ALARM; INSUFFICIENT_DATA is inconclusive. */
    readonly alarmName: string;
  };

/** Compare a canary's value with the stable version's over the same window (spec data, JSON). */
export interface BaselineSpec {
  /**
   * PromQL of the stable version's value; absent: the metric's own query with `{{version}}` set to the stable version
   * (the adapter also substitutes `{{stable}}` in every query).
   */
  readonly query?: string;
  /** The canary fails when its value is worse than stable's by more than this factor ... */
  readonly maxRatio: number;
  /** ... and by more than this absolute difference (both must be exceeded: tiny values do not fail on ratio alone). */
  readonly maxDifference: number;
}

/** What happens when a canary with traffic reports no data (spec data, JSON). */
export interface NoDataPolicySpec {
  /** Seconds of silence (canary with weight, zero requests measured) after which the weights hold. */
  readonly holdAfterSeconds: number;
  /** Seconds of silence after which the rollout aborts. */
  readonly abortAfterSeconds: number;
}

/** The sequential error test of a metric (spec data, JSON). */
export interface SequentialTestSpec {
  /**
   * PromQL: errors of `{{version}}`. With `totals`: the raw counter series (an instant selector, any number of
   * series), whose differences between ticks the controller takes (`counters.ts`); without: the errors over the
   * last `{{window}}` (an `increase()`), one sample.
   */
  readonly errorsQuery: string;
  /** PromQL: requests of `{{version}}`, as `errorsQuery` (raw counter series with `totals`, else one window's). */
  readonly requestsQuery: string;
  /**
   * The queries return raw counter totals (every series), and the counts of a tick are their exact differences
   * since the previous tick (`counters.ts`); the metric's `query`, `sampleQuery` and `threshold` then apply to those
   * counts (value = errors / requests, samples = requests) and are not sent. Absent: window queries (`increase()`),
   * which Prometheus extrapolates.
   */
  readonly totals?: boolean;
  /** alpha: probability of aborting a canary whose error rate is at most p0 (Wald's bound). */
  readonly falseAbortRate: number;
  /** beta: probability of passing a canary at p1 (only relevant to the pass bound). */
  readonly missRate: number;
  /** Lowest baseline error rate assumed (stable often has no error at all in a window). */
  readonly baselineFloor: number;
  /** H0 is `baseline * (1 + tolerance)`: the canary may be that much worse than stable and still pass. */
  readonly tolerance: number;
  /** H1 is `p0 * detectRatio`. */
  readonly detectRatio: number;
  /** Below this many stable requests, stable's rate is taken at a 99 % lower bound (95 % from then on). */
  readonly minStableRequests: number;
}

/** An analysis gate: measure `count` times, `intervalSeconds` apart; more than `failureLimit` failures fails it. */
export interface AnalysisGateSpec {
  readonly name: string;
  readonly metrics: readonly MetricSpec[];
  readonly intervalSeconds: number;
  readonly count: number;
  readonly failureLimit: number;
  /** Inconclusive measurements (too few samples) tolerated before the gate keeps waiting past `count`. */
  readonly inconclusiveLimit: number;
}

/** Per-version data the plan and the controller need. */
export interface VersionSpec {
  readonly name: string;
  /** GPUs per replica (0 for CPU-only). */
  readonly gpusPerReplica: number;
  /** GPU product, for display (`A10G`), if any. */
  readonly gpuProduct?: string;
  /**
   * The version's own fewest replicas while it serves (per-version autoscaling, above or below the environment's):
   * a share that needs fewer still gets these. Absent: none of its own.
   */
  readonly minReplicas?: number;
  /** The version's own most replicas: a share never asks for more (`replicasOf`). Absent: none of its own. */
  readonly maxReplicas?: number;
}

/** A canary of a rollout. */
export interface CanarySpec {
  readonly version: string;
  /** Weight the canary reaches at the end of the schedule (percent of all requests). */
  readonly targetWeight: number;
  /** true: follows the schedule up to its target; false: holds its target weight from the start (a fixed split). */
  readonly ramp: boolean;
}

/**
 * How a rollout uses GPUs (spec data, JSON). `full`: the stable version keeps every replica until promotion and
 * the canary gets its own on top (up to twice the GPUs). `surge`: the rollout never uses more than `maxExtraGpus`
 * above the stable version's current GPUs; the stable version shrinks as the canary grows (see `capacity.ts`).
 */
export interface CapacitySpec {
  readonly mode: 'full' | 'surge';
  /** surge: GPUs the rollout may use above what the stable version uses now. */
  readonly maxExtraGpus?: number;
  /**
   * surge: replicas the stable version keeps above what its share of traffic needs, so an abort moves traffic
   * back at once for the share they carry while the rest cold-starts. Absent: 1.
   */
  readonly reserveReplicas?: number;
}

/** A release window (`windows.ts`): starts where `cron` matches in `timeZone` (IANA), lasts `durationSeconds`. */
export interface ReleaseWindowSpec {
  readonly cron: string;
  readonly durationSeconds: number;
  readonly timeZone: string;
}

/** Everything one rollout needs, provider-neutral. */
export interface RolloutSpec {
  /** Name of the rollout (used in file names and logs). */
  readonly name: string;
  /** The construct path that declared it, for messages. */
  readonly path: string;
  /** The version currently serving the environment. */
  readonly stable: string;
  readonly canaries: readonly CanarySpec[];
  /** Every version the rollout involves (stable first, then canaries, then shadows). */
  readonly versions: readonly VersionSpec[];
  /** Steps, in order. After the last step, ramped canaries stand at their targets. */
  readonly steps: readonly StepSpec[];
  /** Replicas the stable version runs with before the rollout (the baseline for capacity arithmetic). */
  readonly stableReplicas: number;
  /** Checks evaluated at every tick during the whole rollout (in addition to analysis steps). */
  readonly checks: readonly MetricSpec[];
  /** Failed continuous-check measurements tolerated before aborting. */
  readonly checkFailureLimit: number;
  /** A canary not ready within this many seconds after its replica floor was raised aborts the rollout. */
  readonly progressDeadlineSeconds: number;
  /**
   * Capacity look-ahead: the canary's replica floor rises to what the schedule needs within this many seconds,
   * so GPU cold starts overlap the steps instead of delaying each one. Default 300.
   */
  readonly prewarmSeconds?: number;
  /** After promotion, the previous version stays warm this long before it is scaled to zero. */
  readonly keepPreviousWarmSeconds: number;
  /**
   * After the route stops sending traffic to a version (abort, promotion, a replaced canary), wait this long
   * before scaling it down, so the gateway has propagated the route and in-flight requests finish. Default 30
   * (Argo Rollouts' `abortScaleDownDelaySeconds` / `scaleDownDelaySeconds` default). Optional: the constructs
   * may leave it out.
   */
  readonly scaleDownDelaySeconds?: number;
  /**
   * Checks that cannot be measured (an error, not an empty answer) hold the weights; this long in a row aborts.
   * Absent: 600 s.
   */
  readonly measurementErrorAbortSeconds?: number;
  /**
   * false: after promotion the previous version may be scaled down although the spec still names it as stable
   * (a target whose deploys never reset the route, or an operator who accepts the risk). Absent or true: it keeps
   * its replicas until the spec names the new version, because re-applying the manifests routes to it.
   */
  readonly keepPreviousUntilSpecChanges?: boolean;
  /**
   * Versions pins lead to (requests with a given header or query value, whatever the weights). Each keeps at least
   * one replica while the rollout runs, so a pinned request never reaches a version scaled to zero; a canary with
   * weight 0 is accepted only when it is here (a key split: it serves pinned requests only). Absent: no pins.
   */
  readonly pinned?: readonly string[];
  /**
   * Shadow traffic: a copy of `percent` of the requests of the rollout's route (pinned ones included, except those
   * pinned to the mirrored version itself) goes to `version`; answers are discarded.
   */
  readonly mirror?: { readonly version: string; readonly percent: number };
  /**
   * A canary with weight and no data: hold after `holdAfterSeconds`, abort after `abortAfterSeconds`
   * (`gates.ts`, `noDataDecision`). Absent: `DEFAULT_NO_DATA` once wired; measurement errors always hold.
   */
  readonly noData?: NoDataPolicySpec;
  /**
   * Seconds between two controller ticks while a rollout is in progress: divides 60, at least 10. The schedule
   * (CronJob, EventBridge) fires once a minute and the controller ticks again within that run every
   * `tickSeconds`. The sequential test's windows (`{{window}}` in its queries) are one tick. Absent: 60 (one tick
   * a minute, once per run of the schedule).
   */
  readonly tickSeconds?: number;
  /**
   * The scale-down stabilization window of the versions' autoscalers (an HPA keeps its highest recommendation of
   * this long): after its share falls, a version's desired replicas overstate its load this long, so live sizing
   * does not read them. Absent: 300 (the HPA default).
   */
  readonly autoscalerWindowSeconds?: number;
  /** How the rollout uses GPUs. Absent: `full` (see `CapacitySpec`). */
  readonly capacity?: CapacitySpec;
  /**
   * Release windows: steps that raise the canaries' share, and the promotion, happen only inside one (`windows.ts`).
   * Absent: any time.
   */
  readonly allowedWindows?: readonly ReleaseWindowSpec[];
}

/**
 * The versions a rollout involves, each once, in a fixed order: stable, canaries, the mirror, then `extra`
 * (pinned versions). Every target renders, binds and grants exactly these.
 */
export function rolloutVersions(spec: Pick<RolloutSpec, 'stable' | 'canaries' | 'mirror' | 'pinned'>, extra: readonly string[] = []): string[] {
  const all = [spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : []), ...(spec.pinned ?? []), ...extra];
  return all.filter((v, i) => all.indexOf(v) === i);
}
