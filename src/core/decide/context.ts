/**
 * The working state of one `decide()` call: the spec, what was observed, the draft state and the actions and
 * reasons collected so far, with the few primitives every part uses (set a floor, send weights, abort, pause,
 * advance). Pure: no clock, no I/O.
 */
import { DEFAULT_AUTOSCALER_WINDOW_SECONDS, liveReplicas, replicasForWeight, replicasOf } from '../capacity';
import { TICK_SECONDS } from '../constants';
import { sameData } from '../hash';
import { specHash } from '../plan/plan';
import { progressAfter } from '../schedule';
import { RolloutSpec } from '../spec';
import { Action, ControllerState, Decision, Observations, PauseReason, ShadowRoute, Verdict } from '../state';
import { abortWeights, Weights, weightsAt } from '../weights';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** The state being decided: a mutable copy of the previous one. */
export type Draft = Mutable<ControllerState>;

/** One tick, in milliseconds. */
export const TICK_MS = TICK_SECONDS * 1000;

/** One tick of `spec`'s rollout in ms: `tickSeconds` when set (sub-minute ticks), else one minute. */
export function tickMsOf(spec: Pick<RolloutSpec, 'tickSeconds'>): number {
  const s = spec.tickSeconds;
  return s !== undefined && Number.isFinite(s) && s > 0 ? s * 1000 : TICK_MS;
}

/** Default of `scaleDownDelaySeconds`: Argo Rollouts' `abortScaleDownDelaySeconds`/`scaleDownDelaySeconds` default. */
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30;

export class TickContext {
  public readonly actions: Action[] = [];
  public readonly reasons: string[] = [];
  public readonly verdicts: Record<string, Verdict> = {};
  /** Set when a sequential test failed at this tick: the rollout aborts (the test bounds its own false aborts). */
  public sequentialFailed?: string;
  /** Canary requests of the window each sequential test measured at this tick, by `version/metric`. */
  public readonly windowRequests: Record<string, number> = {};
  public wakeAt: number;
  /** One tick of this rollout, in ms (`spec.tickSeconds`, else `TICK_MS`). */
  public readonly tickMs: number;
  /**
   * "Once per tick" for this rollout: at least half a tick apart. A CronJob starts up to seconds late (a tick 58 s
   * after the previous one is the next tick, not the same one), while a retried tick comes within seconds (the same
   * tick).
   */
  public readonly oncePerTickMs: number;
  public readonly hash: string;
  public readonly s: Draft;
  /**
   * The live load in stable replicas at 100 % (`liveReplicas()`), the last estimate when nothing load-driven can
   * be read (recorded in the state); never below the plan's. Floors sized from it are never lowered while the
   * rollout runs. Frozen once the rollout is promoted, completed or aborted.
   */
  public base: number;

  constructor(
    public readonly spec: RolloutSpec,
    public readonly previous: ControllerState | undefined,
    public readonly obs: Observations,
    public readonly now: number,
    start: (hash: string) => Draft,
  ) {
    this.tickMs = tickMsOf(spec);
    this.oncePerTickMs = this.tickMs / 2;
    this.wakeAt = now + this.tickMs;
    this.hash = hashOfSpec(spec);
    this.s = previous && previous.specHash === this.hash ? copy(previous) : start(this.hash);
    if (!previous) this.reasons.push('rollout started');
    this.base = this.observeLoad();
  }

  /** Estimate the live load now (the phase decides whether it may change); `retry` calls it again. */
  public observeLoad(): number {
    const { s, obs, spec } = this;
    const recorded = Math.max(s.liveReplicas ?? spec.stableReplicas, spec.stableReplicas);
    if (s.phase !== 'progressing' && s.phase !== 'paused') return recorded;
    const seen = liveReplicas(spec, {
      desired: obs.desiredReplicas,
      served: obs.routerWeights,
      // the stable version's floor is the manifests' minimum until the controller sets one
      floors: { [spec.stable]: spec.stableReplicas, ...s.floors, ...(obs.floors ?? {}) },
      // the stable version's share fell at recent route changes: its autoscaler holds the count of the highest one
      heldShares: { [spec.stable]: Math.max(0, ...this.recentStableShares().map((x) => x.share)) },
    });
    // nothing load-driven to read (every version at its floor): the last estimate holds
    const base = seen ?? recorded;
    if (base !== recorded || (s.liveReplicas !== undefined && base !== s.liveReplicas)) {
      this.reasons.push(`live load ${base} replicas (plan ${spec.stableReplicas}): floors follow it`);
      s.liveReplicas = base;
    }
    return base;
  }

  /** The stable version's shares before the route changes within its autoscaler's window (plus two ticks of metric lag). */
  private recentStableShares(): Array<{ at: number; share: number }> {
    const window = ((this.spec.autoscalerWindowSeconds ?? DEFAULT_AUTOSCALER_WINDOW_SECONDS) + 2 * TICK_SECONDS) * 1000;
    return (this.s.stableShares ?? []).filter((x) => this.now - x.at < window);
  }

  /** Replicas that carry `weight` % of the live load. */
  public need(weight: number, version?: string): number {
    return version === undefined ? replicasForWeight(weight, this.base) : replicasOf(this.spec, version, weight, this.base);
  }

  /** Whether at least one tick has passed since `at` (or `at` never happened). */
  public tickSince(at: number | undefined): boolean {
    return at === undefined || this.now - at >= this.oncePerTickMs;
  }

  public setFloor(version: string, replicas: number): void {
    this.actions.push({ kind: 'setFloor', version, replicas });
    this.s.floors[version] = replicas;
    this.s.floorsSetAt = this.now;
  }

  /**
   * Make `version`'s floor at least `replicas`, never lowering it: a floor already as high (recorded, or seen in
   * place, e.g. raised by a person or an autoscaler) is only recorded. Returns whether an action was needed.
   */
  public ensureFloor(version: string, replicas: number): boolean {
    const recorded = this.s.floors[version] ?? 0;
    if (recorded >= replicas) return false;
    if ((this.obs.floors?.[version] ?? 0) >= replicas) {
      this.s.floors[version] = replicas;
      return false;
    }
    this.setFloor(version, replicas);
    return true;
  }

  /**
   * The canary mirror the route must carry now: a shadow step's while it runs (progressing or paused at it),
   * none otherwise, so every weight send after the step (the next step, an abort, a promote) takes it off.
   */
  public desiredShadow(): ShadowRoute | undefined {
    const { spec, s } = this;
    if (s.phase !== 'progressing' && s.phase !== 'paused') return undefined;
    const step = spec.steps[s.stepIndex];
    if (step?.kind !== 'shadow' || spec.canaries.length !== 1) return undefined;
    return { version: spec.canaries[0].version, percent: step.percent };
  }

  /**
   * Whether the route mirrors exactly as `shadow` says (none when undefined), apart from the rollout's own `mirror`
   * (its shadow version). A mirror to any other version counts, a canary that left the spec included: until the
   * route drops it, the route is not served, so nothing it still copies requests to is scaled down (a replaced
   * canary must not go down while the route still mirrors to it). An adapter that cannot read
   * mirrors serves none: only "no shadow" is served then.
   */
  public routerShadows(shadow: ShadowRoute | undefined): boolean {
    const seen = this.obs.routerMirrors;
    if (!seen) return shadow === undefined;
    const own = this.spec.mirror?.version;
    const onCanaries = seen.filter((m) => m.version !== own);
    if (!shadow) return onCanaries.length === 0;
    return onCanaries.length === 1 && onCanaries[0].version === shadow.version && onCanaries[0].percent === shadow.percent;
  }

  /** The shadow step's mirror once the router was seen serving it (its copies reach the canary), else undefined. */
  public mirroring(): ShadowRoute | undefined {
    return this.s.shadowFrom !== undefined ? this.desiredShadow() : undefined;
  }

  /**
   * The mirror weight sends carry now: the shadow step's once the canary has the ready replicas its copies need (or
   * the route already mirrors), else none. The copies wait for capacity on their own (the shadow step, steps.ts):
   * weights that must move meanwhile (traffic back to stable from a backend outside the rollout, a repair) are never
   * held back by them (a paused rollout must not leave traffic on an unknown backend while a new canary waits for
   * GPUs the surge budget does not have).
   */
  public routeShadow(): ShadowRoute | undefined {
    const want = this.desiredShadow();
    if (!want || this.routerShadows(want)) return want;
    // ready replicas are not enough: the floor must be the shadow step's (raised in `shadowCapacity`), or floor repair
    // may take them down as a leftover (a canary that left the spec and came back still has a recorded floor that
    // says "scaled down")
    const need = this.shadowNeed(want);
    return this.ready(want.version) >= need && (this.s.floors[want.version] ?? 0) >= need ? want : undefined;
  }

  /**
   * Replicas the canary needs while it answers the step's share and the copies of `shadow` (sized from the live load).
   * The share is the plan's at the step, not the weights recorded: those change within the tick (a send), and the
   * same tick decided again must want the same mirror (a retried tick must not send it again).
   */
  public shadowNeed(shadow: ShadowRoute): number {
    const share = weightsAt(this.spec, progressAfter(this.spec.steps, this.s.stepIndex))[shadow.version] ?? 0;
    return this.need(Math.min(100, share + shadow.percent), shadow.version);
  }

  /** Whether this tick's mirror is the one last sent. */
  public sameShadowSent(): boolean {
    const want = this.routeShadow();
    const sent = this.s.shadow;
    return want === undefined ? sent === undefined : sent !== undefined && sent.version === want.version && sent.percent === want.percent;
  }

  public sendWeights(weights: Weights): void {
    const shadow = this.routeShadow();
    this.actions.push({ kind: 'setWeights', weights, ...(shadow ? { shadow } : {}) });
    this.s.shadow = shadow;
    // the stable version's share before a change that lowers it, for live sizing (`observeLoad`)
    const before = this.served(this.spec.stable);
    if ((weights[this.spec.stable] ?? 0) < before) this.s.stableShares = [...this.recentStableShares(), { at: this.now, share: before }];
    this.s.weights = { ...weights };
    this.s.weightsSetAt = this.now;
    this.s.routeChangedAt = Math.max(this.s.routeChangedAt ?? this.now, this.now);
  }

  /** Share the router sends to `version` now: 0 when it cannot be read (nothing counts as served then). */
  public served(version: string): number {
    return this.obs.routerWeights?.[version] ?? 0;
  }

  /**
   * Whether the router serves exactly `weights`: every version at its weight and nothing anywhere else (a
   * backend outside the spec or the target means it does not). A route that cannot be read serves nothing known.
   */
  public routerServes(weights: Weights): boolean {
    const seen = this.obs.routerWeights;
    if (!seen) return false;
    // a shadow step's mirror is part of what the route must serve: on during the step (once the canary can answer
    // the copies), off after it
    if (!this.routerShadows(this.routeShadow())) return false;
    const keys = new Set([...Object.keys(weights), ...Object.keys(seen)]);
    return [...keys].every((v) => (seen[v] ?? 0) === (weights[v] ?? 0));
  }

  /** Ready replicas of `version` (0 when unknown). */
  public ready(version: string): number {
    return this.obs.readyReplicas[version] ?? 0;
  }

  /** Whether this tick changes the route (nothing is scaled down in such a tick: the gateway propagates first). */
  public routeChanging(): boolean {
    return this.actions.some((a) => a.kind === 'setWeights');
  }

  /** The propagation delay after a route change before anything it no longer sends to is scaled down. */
  public scaleDownDelayMs(): number {
    return (this.spec.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS) * 1000;
  }

  /**
   * Roll back: the stable floor first (raised, never lowered), then every canary to 0 at once, as soon as the
   * stable version has a ready replica (never all traffic to a version with none). The canaries' floors go down
   * later, once the router serves the abort weights and the propagation delay has passed (`floors.ts`).
   */
  public abort(reason: string): void {
    const { spec, s } = this;
    this.reasons.push(`abort: ${reason}`);
    // the stable version takes all the traffic back: at least what the live load needs (never lowered)
    this.ensureFloor(spec.stable, Math.max(spec.stableReplicas, this.base));
    s.phase = 'aborted';
    s.pauseReason = undefined;
    s.pausedAt = undefined;
    s.reason = reason;
    s.capacityWaitSince = undefined;
    s.gate = undefined;
    s.finishedAt = this.now;
    const lowering = { ...(s.lowering ?? {}) };
    for (const c of spec.canaries) if ((s.floors[c.version] ?? 0) > 0) lowering[c.version] = this.now;
    s.lowering = lowering;
    this.sendAbortWeights();
  }

  /**
   * Send the abort weights when the stable version can take them, else hold and say why. Its autoscaler shrank
   * it with its share (surge mode: the controller did), so the traffic goes back as fast as its ready replicas
   * come back: each tick it gets the share they carry (never less than it serves), all of it once they carry the
   * live load (`t.base`); the canaries release replicas as their shares fall (`floors.ts`,
   * `releaseAbortedCanaries`). Never all the traffic onto replicas that cannot serve it, never none: a stable
   * version without a ready replica gets nothing yet.
   */
  public sendAbortWeights(): void {
    const back = abortWeights(this.spec);
    const stable = this.spec.stable;
    if (this.ready(stable) < 1 && this.served(stable) < 100) {
      this.reasons.push(`holding the route: ${stable} has no ready replica to take the traffic back yet (floor ${this.s.floors[stable] ?? 0})`);
      return;
    }
    if (this.routerServes(back)) {
      this.s.weights = back;
      return;
    }
    if (this.ready(stable) < this.base) {
      const carried = Math.floor((this.ready(stable) * 100) / this.base);
      // a canary without a ready replica answers nothing (a crash loop): its share goes to the stable version now,
      // which has a ready replica here, rather than waiting for the stable's replicas to carry it
      const dead = this.spec.canaries.reduce((n, c) => n + (this.ready(c.version) < 1 ? this.served(c.version) : 0), 0);
      const share = Math.min(100, Math.max(carried, this.served(stable)) + dead);
      const partial = this.obs.routerWeights ? scaleCanaries(this.spec, share, this.obs.routerWeights, (v) => this.ready(v) >= 1) : undefined;
      if (!partial) {
        this.sendWeights(back);
        return;
      }
      if (!sameShares(partial, this.obs.routerWeights)) {
        this.reasons.push(`${stable} has ${this.ready(stable)}/${this.base} replicas ready: moving ${partial[stable]} % back now, the rest as they become ready`);
        this.sendWeights(partial);
      } else {
        this.reasons.push(`waiting for ${stable} to be ready before moving more traffic back (${this.ready(stable)}/${this.base} ready)`);
      }
      return;
    }
    this.sendWeights(back);
  }

  public pause(why: PauseReason, reason: string): void {
    this.s.phase = 'paused';
    this.s.pauseReason = why;
    this.s.reason = reason;
    this.s.pausedAt = this.now;
    this.reasons.push(`paused: ${reason}`);
  }

  /** Back to progressing; the progress deadline restarts (see `resume` in commands.ts). */
  public unpause(): void {
    const s = this.s;
    s.phase = 'progressing';
    s.pauseReason = undefined;
    s.pausedAt = undefined;
    s.reason = undefined;
    s.capacityWaitSince = undefined;
  }

  /** Move to the next step; its clock starts at `completedAt`, never earlier than the current step's start. */
  public advance(completedAt: number): void {
    // never backwards: a clock that goes back between ticks must not stretch or shrink a pause
    this.toStep(this.s.stepIndex + 1, Math.max(completedAt, this.s.stepStartedAt));
  }

  /**
   * Enter step `index` at `startedAt` with nothing of the previous step's progress: its gate's measurements, its wait
   * for capacity, a shadow step's clock and first pass. Every change of step goes through here (advance, `retry`,
   * `promote`): a retry after an abort during a shadow step ended it at once on the failed attempt's clock.
   */
  public toStep(index: number, startedAt: number): void {
    const s = this.s;
    s.stepIndex = index;
    s.stepStartedAt = startedAt;
    s.gate = undefined;
    s.capacityWaitSince = undefined;
    s.shadowFrom = undefined;
    s.shadowPassCopies = undefined;
  }

  /** The decision: the new state (the previous object when nothing changed), actions, wake-up time and reasons. */
  public result(): Decision {
    const { s, previous } = this;
    s.updatedAt = this.now;
    if (s.lowering && Object.keys(s.lowering).length === 0) s.lowering = undefined;
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

/**
 * The spec's hash, memoized per spec object: hashing the whole spec costs more than the rest of a tick's decision,
 * and a caller that decides many times over one (readonly) spec object (a simulator, a controller run ticking
 * every `tickSeconds`) hashes it once. Same input, same output: `decide` stays pure.
 */
const hashes = new WeakMap<RolloutSpec, string>();
function hashOfSpec(spec: RolloutSpec): string {
  let h = hashes.get(spec);
  if (h === undefined) {
    h = specHash(spec);
    hashes.set(spec, h);
  }
  return h;
}

/** A mutable copy of a state. */
export function copy(previous: ControllerState): Draft {
  return {
    ...previous,
    weights: { ...previous.weights },
    floors: { ...previous.floors },
    ...(previous.lowering ? { lowering: { ...previous.lowering } } : {}),
    ...(previous.stableShares ? { stableShares: [...previous.stableShares] } : {}),
  };
}

function sameState(a: ControllerState, b: ControllerState): boolean {
  return sameData({ ...a, updatedAt: 0 }, { ...b, updatedAt: 0 });
}

function describeIdle(spec: RolloutSpec, s: ControllerState): string {
  if (s.phase === 'progressing') return `step ${s.stepIndex}/${spec.steps.length} in progress`;
  return `${s.phase}${s.reason ? `: ${s.reason}` : ''}`;
}

/**
 * The weights giving the stable version `stableShare` % and the canaries the rest, split as they share it in
 * `current` (undefined when they have none to split).
 */
function scaleCanaries(
  spec: RolloutSpec, stableShare: number, current: Weights, serving: (version: string) => boolean = () => true,
): Weights | undefined {
  const all = spec.canaries.reduce((n, c) => n + (current[c.version] ?? 0), 0);
  // only over a route the rollout fully knows (a backend outside it: the whole abort weights, as before)
  if (all <= 0 || all + (current[spec.stable] ?? 0) !== 100) return undefined;
  // canaries that cannot answer keep nothing; the others split what the stable version does not take yet
  const live = spec.canaries.filter((c) => serving(c.version));
  const total = live.reduce((n, c) => n + (current[c.version] ?? 0), 0);
  const out: Weights = { [spec.stable]: 0 };
  for (const c of spec.canaries) out[c.version] = 0;
  let kept = 0;
  for (const c of live) {
    // every canary keeps at most its share, scaled down: none rises on the way back
    const w = total > 0 ? Math.floor(((current[c.version] ?? 0) * (100 - stableShare)) / total) : 0;
    out[c.version] = Math.min(w, current[c.version] ?? 0);
    kept += out[c.version];
  }
  // the rounding stays with the canaries (up to what they serve now), so the stable gets no more than asked
  for (const c of live) {
    const more = Math.min(100 - stableShare - kept, (current[c.version] ?? 0) - out[c.version]);
    if (more > 0) {
      out[c.version] += more;
      kept += more;
    }
  }
  out[spec.stable] = 100 - kept;
  return out;
}

function sameShares(a: Weights, b: Weights | undefined): boolean {
  if (!b) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((v) => (a[v] ?? 0) === (b[v] ?? 0));
}

/** `v1=90,v2=10`, for reasons. */
export function formatWeights(w: Weights): string {
  return Object.entries(w).map(([v, n]) => `${v}=${n}`).join(',');
}
