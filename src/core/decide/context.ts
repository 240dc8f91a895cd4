/**
 * The working state of one `decide()` call: the spec, what was observed, the draft state and the actions and
 * reasons collected so far, with the few primitives every part uses (set a floor, send weights, abort, pause,
 * advance). Pure: no clock, no I/O.
 */
import { TICK_SECONDS } from '../constants';
import { canonicalJson } from '../hash';
import { specHash } from '../plan/plan';
import { RolloutSpec } from '../spec';
import { Action, ControllerState, Decision, Observations, PauseReason, Verdict } from '../state';
import { abortWeights, Weights } from '../weights';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** The state being decided: a mutable copy of the previous one. */
export type Draft = Mutable<ControllerState>;

/** One tick, in milliseconds. */
export const TICK_MS = TICK_SECONDS * 1000;

export class TickContext {
  public readonly actions: Action[] = [];
  public readonly reasons: string[] = [];
  public readonly verdicts: Record<string, Verdict> = {};
  public wakeAt: number;
  public readonly hash: string;
  public readonly s: Draft;

  constructor(
    public readonly spec: RolloutSpec,
    public readonly previous: ControllerState | undefined,
    public readonly obs: Observations,
    public readonly now: number,
    start: (hash: string) => Draft,
  ) {
    this.wakeAt = now + TICK_MS;
    this.hash = specHash(spec);
    this.s = previous && previous.specHash === this.hash
      ? { ...previous, weights: { ...previous.weights }, floors: { ...previous.floors } }
      : start(this.hash);
    if (!previous) this.reasons.push('rollout started');
    else if (previous.specHash !== this.hash) this.reasons.push(`spec changed (${previous.specHash} -> ${this.hash}): restarting from the first step`);
  }

  /** Whether at least one tick has passed since `at` (or `at` never happened). */
  public tickSince(at: number | undefined): boolean {
    return at === undefined || this.now - at >= TICK_MS;
  }

  public setFloor(version: string, replicas: number): void {
    this.actions.push({ kind: 'setFloor', version, replicas });
    this.s.floors[version] = replicas;
    this.s.floorsSetAt = this.now;
  }

  public sendWeights(weights: Weights): void {
    this.actions.push({ kind: 'setWeights', weights });
    this.s.weights = { ...weights };
    this.s.weightsSetAt = this.now;
  }

  /** Whether the router serves `weights` (true when it cannot be read: changes then count as verified). */
  public routerServes(weights: Weights): boolean {
    const seen = this.obs.routerWeights;
    return !seen || Object.keys(weights).every((v) => (seen[v] ?? 0) === weights[v]);
  }

  /** Roll back: the stable floor first, then every canary to 0 at once, then the canaries' floors down. */
  public abort(reason: string): void {
    const { spec, s } = this;
    this.reasons.push(`abort: ${reason}`);
    if ((s.floors[spec.stable] ?? 0) < spec.stableReplicas) this.setFloor(spec.stable, spec.stableReplicas);
    this.sendWeights(abortWeights(spec));
    for (const c of spec.canaries) if ((s.floors[c.version] ?? 0) > 0) this.setFloor(c.version, 0);
    s.phase = 'aborted';
    s.pauseReason = undefined;
    s.reason = reason;
    s.capacityWaitSince = undefined;
    s.gate = undefined;
    s.finishedAt = this.now;
  }

  public pause(why: PauseReason, reason: string): void {
    this.s.phase = 'paused';
    this.s.pauseReason = why;
    this.s.reason = reason;
    this.reasons.push(`paused: ${reason}`);
  }

  /** Move to the next step; its clock starts at `completedAt`, never earlier than the current step's start. */
  public advance(completedAt: number): void {
    const s = this.s;
    s.stepIndex += 1;
    // never backwards: a clock that goes back between ticks must not stretch or shrink a pause
    s.stepStartedAt = Math.max(completedAt, s.stepStartedAt);
    s.gate = undefined;
    s.capacityWaitSince = undefined;
  }

  /** The decision: the new state (the previous object when nothing changed), actions, wake-up time and reasons. */
  public result(): Decision {
    const { s, previous } = this;
    s.updatedAt = this.now;
    const changed = this.actions.length > 0 || !previous || !sameState(previous, s);
    return {
      state: changed ? s : previous!,
      actions: this.actions,
      wakeAt: this.wakeAt,
      reason: this.reasons.join('; ') || describeIdle(this.spec, s),
      verdicts: this.verdicts,
    };
  }
}

function sameState(a: ControllerState, b: ControllerState): boolean {
  return canonicalJson({ ...a, updatedAt: 0 }) === canonicalJson({ ...b, updatedAt: 0 });
}

function describeIdle(spec: RolloutSpec, s: ControllerState): string {
  if (s.phase === 'progressing') return `step ${s.stepIndex}/${spec.steps.length} in progress`;
  return `${s.phase}${s.reason ? `: ${s.reason}` : ''}`;
}

/** `v1=90,v2=10`, for reasons. */
export function formatWeights(w: Weights): string {
  return Object.entries(w).map(([v, n]) => `${v}=${n}`).join(',');
}
