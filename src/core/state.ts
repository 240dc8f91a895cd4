/**
 * The step controller's data: its persisted state, what it observes at a tick, and the actions it asks for.
 * Plain JSON; stored in the state ConfigMap (Kubernetes) or the state item of the rollout's DynamoDB table (AWS).
 */
import type { CounterSnapshot, SeriesValues } from './counters';
import { Weights } from './weights';

/** Lifecycle of a rollout. */
export type Phase =
  /** Moving through the steps. */
  | 'progressing'
  /** Holding: by command, at a `pauseUntilPromoted` step, or because a gate lacks data. */
  | 'paused'
  /** Done: the only canary serves 100 % and is now the stable version. */
  | 'promoted'
  /** Done: several canaries (or a partial target) hold their final split. */
  | 'completed'
  /** Rolled back: every canary at 0. */
  | 'aborted';

/** Why a rollout is paused. */
export type PauseReason = 'command' | 'manualStep' | 'inconclusive';

/** Progress of the analysis gate of the current step. */
export interface GateProgress {
  readonly measurements: number;
  readonly failures: number;
  readonly inconclusive: number;
  /** When the last measurement was taken (ms since epoch). */
  readonly lastAt?: number;
}

/** The persisted state. */
export interface ControllerState {
  /** Hash of the spec this state belongs to; a different spec hash restarts the schedule. */
  readonly specHash: string;
  readonly phase: Phase;
  readonly pauseReason?: PauseReason;
  /** Index of the step being executed; `steps.length` once every step is done. */
  readonly stepIndex: number;
  /** When the current step started (ms since epoch). */
  readonly stepStartedAt: number;
  /** Weights last sent to the router (or, right after a (re)start, the weights it served then). */
  readonly weights: Weights;
  /** When `weights` were last sent (ms), to retry an unverified change once per tick, not more. */
  readonly weightsSetAt?: number;
  /** The latest time weights were sent (ms; never goes back with a skewed clock): scale-downs wait a delay after it. */
  readonly routeChangedAt?: number;
  /**
   * Replica floors last set, by version; 0 means the controller scaled it down and keeps it down (repaired when
   * found up). Versions leaving the spec stay here until scaled down.
   */
  readonly floors: Record<string, number>;
  /** Since when the controller waits for a canary's replicas (ms); over the progress deadline it aborts. */
  readonly capacityWaitSince?: number;
  readonly gate?: GateProgress;
  /** Failed continuous-check measurements so far. */
  readonly checkFailures: number;
  /** When the continuous checks were last measured (ms): once per tick at most. */
  readonly lastCheckAt?: number;
  /** When floors were last sent (ms), to repair a lost floor once per tick, not more. */
  readonly floorsSetAt?: number;
  /** Id of the last command handled (legacy single-slot commands without `seq`). */
  readonly lastCommandId?: string;
  /**
   * Sequence number of the last command handled: the queue's commands with a higher `seq` are new. Carried over
   * a spec change, so a command recorded before the first tick or with a new spec is handled, never dropped.
   */
  readonly commandSeq?: number;
  /** A cancel was handled: sticky until the spec changes (a new deploy), nothing resumes or promotes. */
  readonly cancelled?: boolean;
  /** When the rollout was paused (ms): time paused does not count toward the progress deadline. */
  readonly pausedAt?: number;
  /**
   * The version that serves the environment: the spec's stable until promotion, then the promoted canary. A spec
   * change after promotion starts from it, so no traffic goes back to a version that was scaled down.
   */
  readonly servingVersion?: string;
  /** Whether the last continuous-check measurement failed: the weights hold at every tick until one passes. */
  readonly checkFailing?: boolean;
  /** When a continuous-check failure was last counted (ms): counted once per tick, so a retried tick is idempotent. */
  readonly checkCountedAt?: number;
  /** Why the rollout aborted, or why it is paused. */
  readonly reason?: string;
  /** When the rollout finished (ms): start of the previous version's keep-warm window. */
  readonly finishedAt?: number;
  /** The version that was stable before promotion (scaled down after its keep-warm window). */
  readonly previousVersion?: string;
  readonly previousScaledDown?: boolean;
  /**
   * Versions to scale down, with the earliest time (ms): canaries after an abort, the previous version after its
   * keep-warm window, versions that left the spec. Each goes down once the router serves the recorded weights
   * without it and the propagation delay after the last route change has passed.
   */
  readonly lowering?: Record<string, number>;
  /**
   * The live load, in replicas of the stable version at 100 % (`liveReplicas()` in capacity.ts), as last
   * estimated: floors are sized from it (never below `spec.stableReplicas`).
   */
  readonly liveReplicas?: number;
  /**
   * The stable version's share before each route change within its autoscaler's window (`at` in ms): its desired
   * replicas are the highest recommendation of that window, made at the highest of these shares (live sizing).
   */
  readonly stableShares?: ReadonlyArray<{ readonly at: number; readonly share: number }>;
  /**
   * The rollout is finished and the engine verified, at the tick that decided this state, that nothing is left to
   * do: no command pending, nothing waiting to be scaled down, the router serving the recorded weights (and a re-apply
   * of the target's manifests unable to move them) and every observable floor as recorded. A tick that finds it with the
   * same spec and no new command reads nothing else and writes nothing (`needsTick`); any command or spec change
   * decides again in full.
   */
  readonly settled?: boolean;
  /** When this state was decided (ms). */
  readonly updatedAt: number;
  /**
   * The sequential tests so far, by `version/metric` (`sequential.ts`'s state, and when it last took a window:
   * a retried tick adds no evidence twice).
   */
  readonly sequential?: Record<string, {
    readonly llr: number;
    readonly canary: { readonly requests: number; readonly errors: number };
    readonly stable: { readonly requests: number; readonly errors: number };
    readonly failed?: boolean;
    /** Sums over stable's windows for its dispersion (`sequential.ts` `dispersion`). */
    readonly spread?: { readonly ee: number; readonly en: number; readonly nn: number };
    readonly at: number;
    /** End (ms) of the last window taken, when the adapter evaluates on a grid (`MetricObservation.counts.windowEnd`). */
    readonly windowEnd?: number;
    /** The last counter readings of a test on raw totals (`SequentialTestSpec.totals`, `counters.ts`). */
    readonly totals?: CounterTotalsState;
  }>;
  /** The canary mirror (shadow step) last sent with the weights; absent: none. */
  readonly shadow?: ShadowRoute;
  /** When (ms) the router was first seen mirroring to the canary in the current shadow step. */
  readonly shadowFrom?: number;
  /** Canary requests the error test had counted when it first passed in the current shadow step. */
  readonly shadowPassCopies?: number;
  /** Since when (ms) the checks could not be measured, in a row (they hold the weights; too long aborts). */
  readonly measurementErrorsSince?: number;
  /** Since when a canary has had weight, and when it last reported requests (`gates.ts`, the no-data rule). */
  readonly dataWatch?: { readonly weightSince?: number; readonly lastDataAt?: number };
  /**
   * The last decisions that changed something a person cares about (phase, step, weights, a command), oldest
   * first, bounded (`history.ts`): the trail `model-rollout history` prints, kept past the controller Job's life.
   */
  readonly history?: readonly HistoryEntry[];
}

/** One decision in the state's history. */
export interface HistoryEntry {
  /** When it was decided (ms since epoch). */
  readonly at: number;
  readonly phase: Phase;
  readonly pauseReason?: PauseReason;
  /** Index of the step being executed then. */
  readonly step: number;
  /** Weights recorded then. */
  readonly weights: Weights;
  /** The decision's reasons (shortened). */
  readonly reason: string;
  /** What changed, as Kubernetes Event reasons (`history.ts` `TRANSITIONS`). */
  readonly events?: readonly string[];
}

/** A command from a person (CLI): handled once, in `seq` order (or by id, for a legacy single command). */
export interface Command {
  readonly id: string;
  readonly kind: 'pause' | 'resume' | 'promote' | 'cancel' | 'retry';
  /** When it was issued (ms). */
  readonly at: number;
  /** Position in the command queue (1, 2, ...), set by the CLI under optimistic concurrency. */
  readonly seq?: number;
}

/** A copy of `percent` % of all requests to `version`, answers discarded (a shadow step's mirror). */
export interface ShadowRoute {
  readonly version: string;
  readonly percent: number;
}

/** Key of `Observations.routerWeights` for the share served by backends outside the rollout's target. */
export const UNKNOWN_BACKEND = '(unknown backend)';

/** The last readings of a sequential test's four counter queries (`counters.ts`). */
export interface CounterTotalsState {
  readonly canary: { readonly requests: CounterSnapshot; readonly errors: CounterSnapshot };
  readonly stable: { readonly requests: CounterSnapshot; readonly errors: CounterSnapshot };
}

/** One reading of a sequential test's four counter queries: every series' value, by series key (`seriesKey`). */
export interface CounterTotalsReading {
  readonly canary: { readonly requests: SeriesValues; readonly errors: SeriesValues };
  readonly stable: { readonly requests: SeriesValues; readonly errors: SeriesValues };
  /** When the values were read (ms: the queries' evaluation time, on the tick grid): a reading is taken once. */
  readonly at: number;
}

/** One metric's measurement for one canary. */
export interface MetricObservation {
  /** The value (Prometheus); absent when the query returned no data. */
  readonly value?: number;
  /** Samples behind the value (the minimum-sample guard's query). */
  readonly samples?: number;
  /** CloudWatch alarm state. */
  readonly alarmState?: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  /** The query failed (server down, timeout, bad answer): inconclusive, never a failure. */
  readonly error?: string;
  /** The stable version's value over the same window (metrics with a `baseline`). */
  readonly baseline?: number;
  /** Samples behind `baseline` (the minimum-sample guard's query for the stable version). */
  readonly baselineSamples?: number;
  /** Errors and requests of the canary and of stable in this window (metrics with a `sequential` test). */
  readonly counts?: {
    readonly canary: { readonly requests: number; readonly errors: number };
    readonly stable: { readonly requests: number; readonly errors: number };
    /**
     * End of the window (ms) when the adapter evaluates the counts on a grid of ticks (Prometheus `time=`): the
     * engine takes each window once, so two ticks in one window never count its requests twice. Absent: once per
     * tick by the clock.
     */
    readonly windowEnd?: number;
  };
  /**
   * Raw counter totals of canary and stable (metrics whose sequential test has `totals`): the engine takes the
   * differences with the previous reading it kept (`counters.ts`).
   */
  readonly totals?: CounterTotalsReading;
}

/** What the adapters saw at this tick. */
export interface Observations {
  /** Ready replicas of each version. */
  readonly readyReplicas: Record<string, number>;
  /**
   * Weights the router serves now, by version: every backend it sends to, including versions outside the spec
   * and `UNKNOWN_BACKEND` for backends outside the target. Absent when the route cannot be read: then nothing
   * counts as served (a change is not verified and is sent again, through the capacity gate).
   */
  readonly routerWeights?: Weights;
  /**
   * Every `RequestMirror` of the route to a version of the rollout's canaries, when the adapter can read mirrors
   * (Gateway API); absent when it cannot (an ALB has none). A shadow step's mirror is served only once seen here.
   */
  readonly routerMirrors?: readonly ShadowRoute[];
  /**
   * Replicas each version's autoscaler wants now (HPA `status.desiredReplicas`, else the Deployment's
   * `spec.replicas`), when the adapter can read them: the live load the floors are sized from.
   */
  readonly desiredReplicas?: Record<string, number>;
  /** Replica floors in place now, by version, when the adapter can read them. */
  readonly floors?: Record<string, number>;
  /**
   * The lowest floor each version's workload can hold, when the adapter knows it: 0 for a KEDA ScaledObject's
   * `minReplicaCount` or a Deployment's `replicas`, 1 for an HPA's `minReplicas` (which must be at least 1 unless the
   * HPAScaleToZero feature gate is on). A version recorded as scaled down and seen above it is scaled down again.
   * Absent: 1 (the HPA's bound, the conservative one).
   */
  readonly lowestFloors?: Record<string, number>;
  /** Measurements by canary version, then by metric name. */
  readonly metrics: Record<string, Record<string, MetricObservation>>;
  /** The pending command (legacy single slot), if any. */
  readonly command?: Command;
  /** The command queue, oldest first; the ones the state has handled are skipped. */
  readonly commands?: readonly Command[];
}

/** What the adapters must do, in order. */
export type Action =
  | { readonly kind: 'setFloor'; readonly version: string; readonly replicas: number }
  | { readonly kind: 'setWeights'; readonly weights: Weights; readonly shadow?: ShadowRoute }
  | { readonly kind: 'scaleDown'; readonly version: string };

/** Outcome of one measurement. */
export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** The result of one `decide()`. */
export interface Decision {
  readonly state: ControllerState;
  readonly actions: readonly Action[];
  /** When the controller should look again (ms); the schedule ticks every minute regardless. */
  readonly wakeAt: number;
  /** Why, in one line, for the log. */
  readonly reason: string;
  /** Verdicts of the metrics measured at this tick, `version/metric` -> verdict. */
  readonly verdicts: Record<string, Verdict>;
}
