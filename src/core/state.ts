/**
 * The step controller's data: its persisted state, what it observes at a tick, and the actions it asks for.
 * Plain JSON; stored in the state ConfigMap (Kubernetes) or the state SSM parameter (AWS).
 */
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
  /** Weights last sent to the router. */
  readonly weights: Weights;
  /** When `weights` were last sent (ms), to retry an unverified change once per tick, not more. */
  readonly weightsSetAt?: number;
  /** Replica floors last set, by version. */
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
  /** Id of the last command handled (commands are handled once). */
  readonly lastCommandId?: string;
  /** Why the rollout aborted, or why it is paused. */
  readonly reason?: string;
  /** When the rollout finished (ms): start of the previous version's keep-warm window. */
  readonly finishedAt?: number;
  /** The version that was stable before promotion (scaled down after its keep-warm window). */
  readonly previousVersion?: string;
  readonly previousScaledDown?: boolean;
  /** When this state was decided (ms). */
  readonly updatedAt: number;
}

/** A command from a person (CLI): handled once, by id. */
export interface Command {
  readonly id: string;
  readonly kind: 'pause' | 'resume' | 'promote' | 'cancel';
  /** When it was issued (ms). */
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
}

/** What the adapters saw at this tick. */
export interface Observations {
  /** Ready replicas of each version. */
  readonly readyReplicas: Record<string, number>;
  /** Weights the router serves now; absent when the router cannot be read (then changes count as verified). */
  readonly routerWeights?: Weights;
  /** Replica floors in place now, by version, when the adapter can read them. */
  readonly floors?: Record<string, number>;
  /** Measurements by canary version, then by metric name. */
  readonly metrics: Record<string, Record<string, MetricObservation>>;
  /** The pending command, if any. */
  readonly command?: Command;
}

/** What the adapters must do, in order. */
export type Action =
  | { readonly kind: 'setFloor'; readonly version: string; readonly replicas: number }
  | { readonly kind: 'setWeights'; readonly weights: Weights }
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
