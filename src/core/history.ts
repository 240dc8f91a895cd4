/**
 * What changed between two states, as a person reads it: the phase changes that become Kubernetes Events and
 * notifications (`TRANSITIONS`), and the bounded decision trail the state keeps for `model-rollout history`.
 * Pure: the caller (the tick) passes the clock.
 *
 * The kinds follow Argo Rollouts' notification triggers (on-rollout-updated, on-rollout-step-completed,
 * on-rollout-paused, on-analysis-run-failed, on-rollout-aborted, on-rollout-completed) and Flagger's alert events
 * (canary started, waiting for promotion, rollback, promotion completed):
 * @see https://argoproj.github.io/argo-rollouts/features/notifications/ (the built-in triggers)
 * @see https://docs.flagger.app/usage/alerting
 */
import { canonicalJson } from './hash';
import { RolloutSpec } from './spec';
import { ControllerState, HistoryEntry } from './state';
import { Weights } from './weights';

/** Phase changes, by Kubernetes Event reason (CamelCase, as the Event API asks of `reason`). */
export const TRANSITIONS = {
  RolloutStarted: { type: 'Normal', trigger: 'started' },
  RolloutRetried: { type: 'Normal', trigger: 'started' },
  StepAdvanced: { type: 'Normal', trigger: 'step' },
  RolloutPaused: { type: 'Normal', trigger: 'paused' },
  RolloutResumed: { type: 'Normal', trigger: 'resumed' },
  GateFailed: { type: 'Warning', trigger: 'gateFailed' },
  RolloutAborted: { type: 'Warning', trigger: 'aborted' },
  RolloutPromoted: { type: 'Normal', trigger: 'promoted' },
  RolloutCompleted: { type: 'Normal', trigger: 'completed' },
} as const;

/** A Kubernetes Event reason of a phase change. */
export type TransitionReason = keyof typeof TRANSITIONS;

/** The notification triggers a person can subscribe to (`Notifier`'s `events`). */
export type Trigger = typeof TRANSITIONS[TransitionReason]['trigger'];

/** One phase change: what a Kubernetes Event, a status annotation and a notification say. */
export interface Transition {
  readonly reason: TransitionReason;
  readonly type: 'Normal' | 'Warning';
  readonly trigger: Trigger;
  /** One sentence: what happened, at which step, with which weights and why. */
  readonly message: string;
}

/** Entries the history keeps (the oldest go first). */
export const HISTORY_ENTRIES = 50;
/** Bytes of JSON the history may take in the state (the state ConfigMap holds 1 MiB, a DynamoDB item 400 KB). */
export const HISTORY_BYTES = 16 * 1024;
/** Characters of a decision's reasons kept in an entry. */
export const HISTORY_REASON_CHARS = 240;

/** The phase changes from `prior` to `next` (`prior` undefined: the first tick). */
export function transitions(spec: RolloutSpec, prior: ControllerState | undefined, next: ControllerState, reason: string): Transition[] {
  const out: TransitionReason[] = [];
  const restarted = !prior || prior.specHash !== next.specHash;
  if (restarted) {
    if (next.phase !== 'promoted' || !prior || prior.phase !== 'promoted') out.push('RolloutStarted');
  } else if (prior.phase === 'aborted' && next.phase !== 'aborted') {
    out.push('RolloutRetried');
  }
  const same = !restarted && prior;
  if (same && next.stepIndex > prior.stepIndex && next.phase !== 'aborted') out.push('StepAdvanced');
  if (same && failures(next) > failures(prior)) out.push('GateFailed');
  else if (next.phase === 'aborted' && prior?.phase !== 'aborted' && !/^cancelled|progress deadline/.test(`${next.reason ?? ''}`) && !next.cancelled) out.push('GateFailed');
  if (next.phase === 'paused' && prior?.phase !== 'paused') out.push('RolloutPaused');
  if (same && prior.phase === 'paused' && next.phase === 'progressing') out.push('RolloutResumed');
  if (next.phase === 'aborted' && prior?.phase !== 'aborted') out.push('RolloutAborted');
  if (next.phase === 'promoted' && prior?.phase !== 'promoted') out.push('RolloutPromoted');
  if (next.phase === 'completed' && prior?.phase !== 'completed') out.push('RolloutCompleted');
  return out.map((r) => ({ reason: r, ...TRANSITIONS[r], message: describe(spec, r, next, reason) }));
}

function failures(s: ControllerState): number {
  return (s.gate?.failures ?? 0) + s.checkFailures;
}

function describe(spec: RolloutSpec, r: TransitionReason, s: ControllerState, reason: string): string {
  const step = `step ${Math.min(s.stepIndex + 1, spec.steps.length)}/${spec.steps.length}`;
  const what: Record<TransitionReason, string> = {
    RolloutStarted: `${spec.name} started: ${spec.canaries.map((c) => c.version).join(', ')} against ${spec.stable}`,
    RolloutRetried: `${spec.name} restarted from the first step after an abort`,
    StepAdvanced: `${spec.name} moved to ${s.stepIndex >= spec.steps.length ? 'the end of its steps' : step}`,
    RolloutPaused: `${spec.name} paused at ${step}${s.reason ? `: ${s.reason}` : ''}`,
    RolloutResumed: `${spec.name} resumed at ${step}`,
    GateFailed: `${spec.name}: a check failed at ${step}`,
    RolloutAborted: `${spec.name} aborted${s.reason ? `: ${s.reason}` : ''}; every canary goes back to 0 %`,
    RolloutPromoted: `${spec.name} promoted: ${s.servingVersion ?? spec.canaries[0]?.version} serves 100 %`,
    RolloutCompleted: `${spec.name} completed: the canaries hold their final weights`,
  };
  return `${what[r]} (weights ${formatWeights(s.weights)}; ${shorten(reason, 160)})`;
}

/**
 * The state to store with its history: the prior history, plus one entry when the decision changed the phase,
 * the step, the weights, the pause reason or handled a command (an idle tick adds nothing), bounded to the last
 * `HISTORY_ENTRIES` and `HISTORY_BYTES`. The history survives a spec change (a restart keeps the trail).
 */
export function withHistory(
  prior: ControllerState | undefined, next: ControllerState, reason: string, events: readonly Transition[],
): ControllerState {
  if (prior === next) return next;
  const before = prior?.history ?? [];
  if (prior && !events.length && !significant(prior, next)) return sameHistory(next, before);
  const entry: HistoryEntry = {
    at: next.updatedAt,
    phase: next.phase,
    ...(next.pauseReason ? { pauseReason: next.pauseReason } : {}),
    step: next.stepIndex,
    weights: { ...next.weights },
    reason: shorten(reason, HISTORY_REASON_CHARS),
    ...(events.length ? { events: events.map((e) => e.reason) } : {}),
  };
  const kept = [...before, entry].slice(-HISTORY_ENTRIES);
  while (kept.length > 1 && JSON.stringify(kept).length > HISTORY_BYTES) kept.shift();
  return { ...next, history: kept };
}

function sameHistory(next: ControllerState, history: readonly HistoryEntry[]): ControllerState {
  if (next.history === history || (history.length === 0 && !next.history)) return next;
  return { ...next, history };
}

function significant(a: ControllerState, b: ControllerState): boolean {
  return a.phase !== b.phase || a.stepIndex !== b.stepIndex || a.pauseReason !== b.pauseReason || a.specHash !== b.specHash
    || a.commandSeq !== b.commandSeq || a.lastCommandId !== b.lastCommandId || !sameWeights(a.weights, b.weights);
}

function sameWeights(a: Weights, b: Weights): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function shorten(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function formatWeights(w: Weights): string {
  return Object.entries(w).map(([v, n]) => `${v}=${n}`).join(',');
}

/** The HTTPRoute annotation with the rollout's status (JSON), for dashboards. */
export const ANNOTATION_STATUS = 'model-rollout.dev/status';

/**
 * The status annotation a dashboard reads on the route (`model-rollout.dev/status`): phase, step, weights and
 * when, as compact JSON.
 */
export function statusAnnotation(spec: RolloutSpec, s: ControllerState): string {
  return JSON.stringify({
    rollout: spec.name,
    phase: s.phase,
    ...(s.pauseReason ? { pauseReason: s.pauseReason } : {}),
    step: s.stepIndex,
    steps: spec.steps.length,
    weights: s.weights,
    ...(s.reason ? { reason: s.reason } : {}),
    updatedAt: new Date(s.updatedAt).toISOString(),
  });
}
