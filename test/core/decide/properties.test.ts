/**
 * Property suite: random rollouts with faults, where the model is the ROUTER and the replicas, not the recorded
 * state. Every decision is checked against what the router served and what was ready at that tick:
 * - every weight sent is whole and sums to 100; a share rises only on ready replicas (ceil(w x stable / 100)),
 *   an abort only onto a stable version with a ready replica;
 * - no weight rises while a continuous check fails at that tick;
 * - nothing is scaled down in a tick that changes the route, before the propagation delay after the last route
 *   change, or while the router still sends it traffic; a floor is never lowered above 0, except an aborted
 *   canary's, released as its share goes back (never below what the router sends it, never as the route changes);
 * - a retried tick (same inputs) acts on nothing;
 * - after the faults stop, the router serves what the state records, a cancel ends aborted with every canary at
 *   0 (when it was not promoted), and every command stored was handled.
 * Faults: crashes after each action, lost and failed route writes, node loss, an unreadable route, a backend
 * outside the target, NaN and empty metric answers, clock jitter, skew and hour-long gaps, retried ticks, spec
 * changes of every kind in every phase (steps, canary replaced, canary removed, stable changed, weights
 * lowered, stableReplicas, mirror) and commands (before the first tick, with spec changes, several per tick;
 * a retry after an abort goes through the same weight rules as any step).
 *
 * Properties return booleans (fast-check reports the counterexample and the failing rule's message).
 * PROPERTY_RUNS sets the number of rollouts (default 5,000); the seed follows test/support/property-seed.ts (fixed in
 * CI, drawn and printed locally). A counterexample found locally goes into REGRESSIONS below.
 */
import { readFileSync } from 'fs';
import * as fc from 'fast-check';
import { replicasForWeight } from '../../../src/core/capacity';
import { decide } from '../../../src/core/decide';
import { equalSteps } from '../../../src/core/schedule';
import { DEFAULT_SEQUENTIAL } from '../../../src/core/sequential';
import { MetricSpec, RolloutSpec, StepSpec } from '../../../src/core/spec';
import { Action, Command, ControllerState, MetricObservation, Observations, ShadowRoute } from '../../../src/core/state';
import { Weights } from '../../../src/core/weights';
import { SEED, SEED_DRAWN } from '../../support/property-seed';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const UNKNOWN = '(unknown backend)';
const RUNS = Number(process.env.PROPERTY_RUNS ?? 5000);

const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };
/** The presets' error check: the same metric judged by the sequential test (its verdict can end a shadow step early). */
const sequentialErrorRate: MetricSpec = { ...errorRate, sequential: { errorsQuery: 'e', requestsQuery: 'r', ...DEFAULT_SEQUENTIAL } };

type SpecChange = 'steps' | 'replaceCanary' | 'removeCanary' | 'stableToServing' | 'lowerWeights' | 'stableReplicas' | 'mirror' | 'threshold';

interface Event {
  readonly gap: 'tick' | 'jitter' | 'early' | 'retry' | 'hour' | 'back';
  readonly jitterMs: number;
  readonly health: 'good' | 'bad' | 'nan' | 'empty' | 'error';
  readonly crashAfter: number; // -1: no crash
  readonly lostWrite: boolean;
  readonly unreadable: boolean;
  readonly unknownBackend: boolean;
  readonly nodeLoss: number; // replicas lost by a random version
  readonly commands: ReadonlyArray<Command['kind']>;
  readonly specChange?: SpecChange;
}

const eventArb: fc.Arbitrary<Event> = fc.record({
  gap: fc.constantFrom('tick', 'tick', 'tick', 'jitter', 'jitter', 'early', 'retry', 'hour', 'back'),
  jitterMs: fc.integer({ min: 0, max: 5000 }),
  health: fc.constantFrom('good', 'good', 'good', 'good', 'bad', 'nan', 'empty', 'error'),
  crashAfter: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
  // about 7.5 % of ticks lose their weight write (deterministic: a seed replays, and fast-check can shrink it)
  lostWrite: fc.integer({ min: 0, max: 199 }).map((n) => n < 15),
  unreadable: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  unknownBackend: fc.integer({ min: 0, max: 29 }).map((n) => n === 0),
  nodeLoss: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
  commands: fc.oneof({ weight: 10, arbitrary: fc.constant([] as Command['kind'][]) }, { weight: 1, arbitrary: fc.array(fc.constantFrom('pause', 'resume', 'promote', 'cancel', 'retry'), { minLength: 1, maxLength: 2 }) }),
  specChange: fc.option(fc.constantFrom<SpecChange>('steps', 'replaceCanary', 'removeCanary', 'stableToServing', 'lowerWeights', 'stableReplicas', 'mirror', 'threshold'), { freq: 25, nil: undefined }),
});

interface Initial {
  readonly steps: StepSpec[];
  readonly twoCanaries: boolean;
  readonly stableReplicas: number;
  readonly checks: boolean;
  readonly coldTicks: number;
  readonly keepWarm: number;
  readonly commandsBeforeStart: Array<Command['kind']>;
  /** Live load above the plan, in replicas: the autoscalers want ceil(load x share / 100) (live sizing reads it). */
  readonly liveExtra: number;
  /** Surge mode (`RolloutCapacity.surge({ maxExtraGpus: 3 })`). */
  readonly surge: boolean;
  /** The check is the sequential test (counts of canary and stable per window); absent in older recorded cases. */
  readonly sequential?: boolean;
}

const initialArb: fc.Arbitrary<Initial> = fc.record({
  steps: fc.oneof(
    fc.integer({ min: 1, max: 6 }).map((n) => equalSteps(n, n * 60)),
    // a shadow step first (the default of Steps.equal() on Gateway API): copies of 50 % of requests for 2 minutes
    fc.integer({ min: 1, max: 4 }).map((n) => [{ kind: 'shadow', percent: 50, maxSeconds: 120 } as StepSpec, ...equalSteps(n, n * 60)]),
    fc.constant<StepSpec[]>([{ kind: 'setWeight', weight: 20 }, { kind: 'pauseUntilPromoted' }, { kind: 'setWeight', weight: 100 }]),
    fc.constant<StepSpec[]>([{ kind: 'setWeight', weight: 30 }, { kind: 'analysis', gate: { name: 'g', metrics: [errorRate], intervalSeconds: 60, count: 2, failureLimit: 1, inconclusiveLimit: 1 } }, { kind: 'setWeight', weight: 100 }]),
  ),
  twoCanaries: fc.boolean(),
  stableReplicas: fc.integer({ min: 1, max: 5 }),
  checks: fc.boolean(),
  coldTicks: fc.integer({ min: 0, max: 3 }),
  keepWarm: fc.constantFrom(0, 120),
  commandsBeforeStart: fc.array(fc.constantFrom<Command['kind']>('pause', 'cancel', 'resume'), { maxLength: 1 }),
  liveExtra: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }) }),
  surge: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  sequential: fc.boolean(),
});

type BaseOptions = {
  steps: StepSpec[]; twoCanaries: boolean; stableReplicas: number; checks: boolean; keepWarm: number; surge?: boolean; sequential?: boolean;
};

function baseSpec(i: BaseOptions): RolloutSpec {
  return rolloutSpec({
    ...(i.surge ? { capacity: { mode: 'surge', maxExtraGpus: 3 } } : {}),
    steps: i.steps,
    stableReplicas: i.stableReplicas,
    checks: i.checks ? [i.sequential ? sequentialErrorRate : errorRate] : [],
    keepPreviousWarmSeconds: i.keepWarm,
    checkFailureLimit: 2,
    progressDeadlineSeconds: 600,
    canaries: i.twoCanaries
      ? [{ version: 'v2', targetWeight: 30, ramp: true }, { version: 'v3', targetWeight: 20, ramp: false }]
      : [{ version: 'v2', targetWeight: 100, ramp: true }],
    versions: ['v1', 'v2', 'v3', 'v4', 'shadow'].map((name) => ({ name, gpusPerReplica: 1 })),
  });
}

function changeSpec(spec: RolloutSpec, change: SpecChange, st: ControllerState | undefined): RolloutSpec {
  switch (change) {
    case 'steps': return { ...spec, steps: spec.steps.length > 2 ? equalSteps(2, 120) : equalSteps(4, 240) };
    case 'replaceCanary': {
      // a valid spec: the new canary is neither the stable version nor another canary
      const taken = new Set([spec.stable, ...spec.canaries.map((c) => c.version)]);
      const fresh = ['v4', 'v2', 'v3', 'v1'].find((v) => !taken.has(v));
      return fresh ? { ...spec, canaries: spec.canaries.map((c, i) => (i === 0 ? { ...c, version: fresh } : c)) } : spec;
    }
    case 'removeCanary': return spec.canaries.length > 1 ? { ...spec, canaries: [spec.canaries[0]] } : spec;
    case 'stableToServing': {
      // the promoted canary becomes the stable version in code, a new canary follows
      if (st?.phase !== 'promoted' || !st.servingVersion) return spec;
      const next = ['v4', 'v3', 'v2', 'v1'].find((v) => v !== st.servingVersion)!;
      return { ...spec, stable: st.servingVersion, canaries: [{ version: next, targetWeight: 100, ramp: true }] };
    }
    case 'lowerWeights': return { ...spec, canaries: spec.canaries.map((c) => ({ ...c, targetWeight: Math.max(1, Math.floor(c.targetWeight / 2)) })) };
    case 'stableReplicas': return { ...spec, stableReplicas: spec.stableReplicas === 5 ? 3 : spec.stableReplicas + 1 };
    case 'mirror': return spec.mirror ? { ...spec, mirror: undefined } : { ...spec, mirror: { version: 'shadow', percent: 20 } };
    case 'threshold': return { ...spec, checks: spec.checks.map((m) => ({ ...m, threshold: (m as any).threshold === 0.05 ? 0.1 : 0.05 }) as MetricSpec) };
  }
}

/** The world: router, floors, replicas with cold starts (by tick count), a store with a command queue. */
class Model {
  public router: Weights;
  /** The route's mirrors to canaries (a shadow step's), as the last applied weight send left them. */
  public mirrors: ShadowRoute[] = [];
  public floors: Record<string, number>;
  public replicas: Record<string, number[]> = {}; // ready-at times
  public lastRouteChangeAt = -Infinity;
  public commands: Command[] = [];
  public seq = 0;
  constructor(public spec: RolloutSpec, private readonly coldMs: number) {
    this.router = { v1: 100, ...Object.fromEntries(spec.canaries.map((c) => [c.version, 0])) };
    this.floors = { v1: spec.stableReplicas };
    this.replicas.v1 = Array(spec.stableReplicas).fill(-Infinity);
  }
  public ready(v: string, now: number): number {
    return (this.replicas[v] ?? []).filter((t) => t <= now).length;
  }
  public scale(v: string, n: number, now: number): void {
    const list = this.replicas[v] ?? [];
    while (list.length < n) list.push(now + this.coldMs);
    list.length = Math.min(list.length, n);
    this.replicas[v] = list;
    this.floors[v] = n;
  }
  /** The autoscaler: a version grows to what its load wants (never below its floor; floors shrink it). */
  public autoscale(v: string, n: number, now: number): void {
    const list = this.replicas[v] ?? [];
    while (list.length < n) list.push(now + this.coldMs);
    this.replicas[v] = list;
  }
  /** What each version's autoscaler wants: its share of the live load, at least its floor. */
  public desired(load: number): Record<string, number> {
    const want = (v: string) => Math.max(this.floors[v] ?? 0, Math.ceil((load * (this.router[v] ?? 0)) / 100));
    return Object.fromEntries(Object.keys({ ...this.floors, ...this.router }).map((v) => [v, want(v)]));
  }
  public command(kind: Command['kind'], now: number): void {
    this.commands.push({ id: `c${++this.seq}`, kind, at: now, seq: this.seq });
  }
}

interface Verdict { ok: boolean; why?: string }

/** How often the capacity paths ran (the suite asserts they did): live-sized decisions, surge stable shrinks, partial abort moves. */
const exercised = { live: 0, surgeShrink: 0, abortRamp: 0, shadow: 0, shadowPass: 0 };

function checkDecision(
  model: Model, o: Observations, actions: readonly Action[], next: ControllerState, spec: RolloutSpec, now: number, checkFailed: boolean,
): Verdict {
  const sendsW = actions.filter((a): a is Extract<Action, { kind: 'setWeights' }> => a.kind === 'setWeights');
  const stable = spec.stable;
  for (const a of sendsW) {
    const w = a.weights;
    const values = Object.values(w);
    if (!values.every((x) => Number.isInteger(x) && x >= 0 && x <= 100) || values.reduce((s, x) => s + x, 0) !== 100) return { ok: false, why: `weights not whole or not 100: ${JSON.stringify(w)}` };
    const isAbort = next.phase === 'aborted' && spec.canaries.every((c) => (w[c.version] ?? 0) === 0);
    if (next.phase === 'aborted' && !isAbort) exercised.abortRamp++;
    for (const [v, x] of Object.entries(w)) {
      const served = model.router[v] ?? 0;
      const ready = o.readyReplicas[v] ?? 0;
      if (x <= served) continue;
      // an abort moves the share of a canary without a ready replica (it answers nothing) to the stable version at
      // once; the rest of the stable's rise still follows its ready replicas
      const dead = next.phase === 'aborted' && v === stable
        ? spec.canaries.reduce((n, c) => n + ((o.readyReplicas[c.version] ?? 0) < 1 ? (model.router[c.version] ?? 0) : 0), 0) : 0;
      if (isAbort && v === stable) {
        if (ready < 1) return { ok: false, why: `abort sent traffic to ${v} with no ready replica` };
      } else if (dead > 0 && ready >= 1 && (x - dead <= served || ready >= replicasForWeight(x - dead, spec.stableReplicas))) {
        continue;
      } else if (ready < replicasForWeight(x, spec.stableReplicas)) {
        return { ok: false, why: `${v} raised ${served} -> ${x} with ${ready} ready (router model)` };
      }
      if (checkFailed && next.phase !== 'promoted' && spec.canaries.some((c) => c.version === v) && !isAbort) return { ok: false, why: `${v} raised while a continuous check fails` };
    }
  }
  for (const a of sendsW) {
    // a shadow step's mirror: only while progressing or paused at it, and only onto replicas that can answer the copies
    if (!a.shadow) continue;
    exercised.shadow++;
    if (next.phase !== 'progressing' && next.phase !== 'paused') return { ok: false, why: `mirror ${JSON.stringify(a.shadow)} sent in phase ${next.phase}` };
    const mirroredBefore = model.mirrors.some((m) => m.version === a.shadow!.version && m.percent === a.shadow!.percent);
    const need = replicasForWeight(Math.min(100, (a.weights[a.shadow.version] ?? 0) + a.shadow.percent), spec.stableReplicas);
    if (!mirroredBefore && (o.readyReplicas[a.shadow.version] ?? 0) < need) return { ok: false, why: `mirror to ${a.shadow.version} with ${o.readyReplicas[a.shadow.version]} of ${need} ready` };
  }
  if ((next.liveReplicas ?? 0) > spec.stableReplicas) exercised.live++;
  for (const a of actions) {
    const down = (a.kind === 'setFloor' && a.replicas === 0) || a.kind === 'scaleDown';
    // an aborted rollout releases a canary's replicas as its share goes back to stable (capacity.ts): never in a tick
    // that changes the route, never below what the router still sends it
    const releasing = a.kind === 'setFloor' && next.phase === 'aborted' && spec.canaries.some((c) => c.version === a.version)
      && sendsW.length === 0 && a.replicas >= replicasForWeight(model.router[a.version] ?? 0, spec.stableReplicas);
    // surge mode: the stable version's floor follows its served share down (never below it, never as the route changes)
    const shrinking = a.kind === 'setFloor' && spec.capacity?.mode === 'surge' && a.version === spec.stable && sendsW.length === 0
      && a.replicas >= replicasForWeight(model.router[a.version] ?? 0, spec.stableReplicas);
    // promoted: a floor the live load raised returns to the plan's once the route serves it
    const handedBack = a.kind === 'setFloor' && next.phase === 'promoted' && a.version === next.servingVersion && sendsW.length === 0
      && a.replicas >= spec.stableReplicas;
    if (shrinking && a.replicas < (o.floors?.[a.version] ?? 0)) exercised.surgeShrink++;
    if (a.kind === 'setFloor' && a.replicas > 0 && a.replicas < (o.floors?.[a.version] ?? 0) && !releasing && !shrinking && !handedBack) return { ok: false, why: `floor of ${a.version} lowered ${o.floors?.[a.version]} -> ${a.replicas}` };
    if (!down) continue;
    const v = a.version;
    if (sendsW.length > 0) return { ok: false, why: `${v} scaled down in a tick that changes the route` };
    if ((model.router[v] ?? 0) > 0 || !o.routerWeights) return { ok: false, why: `${v} scaled down while the router may send it ${model.router[v]}` };
    if (model.mirrors.some((m) => m.version === v)) return { ok: false, why: `${v} scaled down while the route still mirrors to it` };
    if (now < model.lastRouteChangeAt + 30_000) return { ok: false, why: `${v} scaled down ${now - model.lastRouteChangeAt} ms after a route change` };
  }
  return { ok: true };
}

/** Whether a weight send changes the route's mirrors (a shadow step's mirror on or off). */
function mirrorsChange(model: Model, a: Extract<Action, { kind: 'setWeights' }>): boolean {
  return JSON.stringify(a.shadow ? [a.shadow] : []) !== JSON.stringify(model.mirrors);
}

function runRollout(init: Initial, events: readonly Event[]): Verdict {
  let spec = baseSpec(init);
  const model = new Model(spec, init.coldTicks * MIN);
  let st: ControllerState | undefined;
  let now = 1_000_000;
  for (const k of init.commandsBeforeStart) model.command(k, now);
  let lastObs: Observations | undefined;
  for (const e of events) {
    // time
    if (e.gap === 'retry' && lastObs && st) {
      const again = decide(spec, st, lastObs, now);
      if (process.env.PROPERTY_DEBUG) {
        console.log(JSON.stringify({ retry: now, state: st, obs: lastObs, actions: again.actions, reason: again.reason }));
      }
      if (again.actions.length > 0) return { ok: false, why: `a retried tick acted: ${JSON.stringify(again.actions)}` };
      continue;
    }
    now += e.gap === 'tick' ? MIN : e.gap === 'jitter' ? MIN + e.jitterMs : e.gap === 'early' ? MIN - e.jitterMs : e.gap === 'hour' ? 60 * MIN : -30_000;
    // the world changes
    if (e.specChange) spec = changeSpec(spec, e.specChange, st);
    for (const k of e.commands) model.command(k, now);
    if (e.nodeLoss > 0) {
      const victims = Object.keys(model.replicas).filter((v) => model.ready(v, now) > 0);
      const v = victims[Math.floor(e.jitterMs / 8) % Math.max(1, victims.length)];
      if (v) {
        const list = model.replicas[v];
        for (let i = 0; i < Math.min(e.nodeLoss, list.length); i++) list[i] = now + model['coldMs' as never] as unknown as number + MIN;
      }
    }
    if (e.unknownBackend && (model.router[spec.stable] ?? 0) >= 10) {
      model.router = { ...model.router, [spec.stable]: model.router[spec.stable] - 10, [UNKNOWN]: (model.router[UNKNOWN] ?? 0) + 10 };
    }
    const inSpec = [spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : [])];
    const versions = [...new Set([...inSpec, ...Object.keys(model.floors)])];
    // one tick's window of a sequential check: 200 canary requests against 2,000 of stable
    const counts = (errors: number) => (init.sequential
      ? { counts: { canary: { requests: 200, errors }, stable: { requests: 2000, errors: 2 } } } : {});
    const metric = (): MetricObservation => {
      switch (e.health) {
        case 'good': return { value: 0.001, samples: 1000, ...counts(0) };
        case 'bad': return { value: 0.5, samples: 1000, ...counts(30) };
        case 'nan': return { value: 0.5, samples: NaN };
        case 'empty': return {};
        case 'error': return { error: 'ECONNREFUSED' };
      }
    };
    const desired = model.desired(spec.stableReplicas + init.liveExtra);
    for (const [v, n] of Object.entries(desired)) model.autoscale(v, n, now);
    const o: Observations = {
      readyReplicas: Object.fromEntries(versions.map((v) => [v, model.ready(v, now)])),
      routerWeights: e.unreadable ? undefined : { ...model.router },
      ...(e.unreadable ? {} : { routerMirrors: [...model.mirrors] }),
      floors: Object.fromEntries(versions.map((v) => [v, model.floors[v] ?? 0])),
      ...(init.liveExtra > 0 ? { desiredReplicas: desired } : {}),
      metrics: Object.fromEntries(spec.canaries.map((c) => [c.version, { 'error-rate': metric() }])),
      commands: [...model.commands],
    };
    lastObs = o;
    const d = decide(spec, st, o, now);
    if (d.reason.includes('shadow step: the sequential test passed')) exercised.shadowPass++;
    if (process.env.PROPERTY_DEBUG) {
      const versionsNow = [spec.stable, spec.canaries.map((c) => c.version)];
      const seen = { r: o.routerWeights, ready: o.readyReplicas };
      console.log(JSON.stringify({ now, spec: versionsNow, o: seen, prev: st?.weights, w: d.state.weights, actions: d.actions, reason: d.reason }));
    }
    const verdict = checkDecision(model, o, d.actions, d.state, spec, now, spec.checks.length > 0 && e.health === 'bad');
    if (!verdict.ok) return verdict;
    st = d.state;
    // act, with faults
    const actions = e.crashAfter >= 0 ? d.actions.slice(0, e.crashAfter) : d.actions;
    for (const a of actions) {
      if (a.kind === 'setWeights') {
        if (e.lostWrite) continue;
        const changed = JSON.stringify(a.weights) !== JSON.stringify(model.router) || mirrorsChange(model, a);
        model.router = { ...a.weights };
        model.mirrors = a.shadow ? [a.shadow] : [];
        if (changed) model.lastRouteChangeAt = now;
      } else if (a.kind === 'setFloor') {
        model.scale(a.version, a.replicas, now);
      } else {
        model.scale(a.version, 0, now);
      }
    }
    model.commands = model.commands.filter((c) => (c.seq ?? 0) > (st!.commandSeq ?? 0));
  }
  // faults stop: quiet ticks, every version ready eventually
  for (let i = 0; i < 12; i++) {
    now += MIN;
    const versions = [...new Set([spec.stable, ...spec.canaries.map((c) => c.version), ...Object.keys(model.floors)])];
    const desired = model.desired(spec.stableReplicas + init.liveExtra);
    for (const [v, n] of Object.entries(desired)) model.autoscale(v, n, now);
    for (const v of versions) model.replicas[v] = (model.replicas[v] ?? []).map((t) => Math.min(t, now));
    const o: Observations = {
      readyReplicas: Object.fromEntries(versions.map((v) => [v, model.ready(v, now)])),
      routerWeights: { ...model.router },
      routerMirrors: [...model.mirrors],
      floors: Object.fromEntries(versions.map((v) => [v, model.floors[v] ?? 0])),
      ...(init.liveExtra > 0 ? { desiredReplicas: desired } : {}),
      metrics: Object.fromEntries(spec.canaries.map((c) => [c.version, {
        'error-rate': { value: 0.001, samples: 1000, ...(init.sequential ? { counts: { canary: { requests: 200, errors: 0 }, stable: { requests: 2000, errors: 2 } } } : {}) },
      }])),
      commands: [...model.commands],
    };
    const d = decide(spec, st, o, now);
    if (process.env.PROPERTY_DEBUG) {
      const seen = { r: o.routerWeights, m: o.routerMirrors, ready: o.readyReplicas, floors: o.floors };
      console.log(JSON.stringify({ quiet: now, o: seen, w: d.state.weights, phase: d.state.phase, actions: d.actions, reason: d.reason }));
    }
    if (d.reason.includes('shadow step: the sequential test passed')) exercised.shadowPass++;
    const verdict = checkDecision(model, o, d.actions, d.state, spec, now, false);
    if (!verdict.ok) return verdict;
    st = d.state;
    for (const a of d.actions) {
      if (a.kind === 'setWeights') {
        if (JSON.stringify(a.weights) !== JSON.stringify(model.router) || mirrorsChange(model, a)) model.lastRouteChangeAt = now;
        model.router = { ...a.weights };
        model.mirrors = a.shadow ? [a.shadow] : [];
      } else {model.scale(a.version, a.kind === 'setFloor' ? a.replicas : 0, now);}
    }
    model.commands = model.commands.filter((c) => (c.seq ?? 0) > (st!.commandSeq ?? 0));
  }
  if (!st) return { ok: true };
  const served = Object.entries(model.router).filter(([, w]) => w > 0);
  const recorded = Object.entries(st.weights).filter(([, w]) => w > 0);
  if (JSON.stringify(Object.fromEntries(served.sort())) !== JSON.stringify(Object.fromEntries(recorded.sort()))) {
    return { ok: false, why: `router ${JSON.stringify(model.router)} and state ${JSON.stringify(st.weights)} disagree after the faults stopped (${st.phase}: ${st.reason ?? ''})` };
  }
  if (model.commands.length > 0) return { ok: false, why: `commands never handled: ${JSON.stringify(model.commands)}` };
  if (st.cancelled && st.phase !== 'promoted' && spec.canaries.some((c) => (model.router[c.version] ?? 0) > 0) && st.phase !== 'aborted') {
    return { ok: false, why: `cancelled but ${st.phase} with canary traffic` };
  }
  for (const [v, w] of served) if (model.ready(v, now) < 1) return { ok: false, why: `${v} serves ${w} % with no ready replica` };
  return { ok: true };
}

// counterexamples the suite found, kept as regressions
const REGRESSIONS: Record<string, string> = {
  // a spec change and a promote in a tick that cannot read the route: the restart forgot the live load, sized from
  // the plan and sent 100 % to a canary with 2 of the 7 replicas the load needed
  'a restart keeps the live load estimate': '[{"steps":[{"kind":"setWeight","weight":20},{"kind":"pauseUntilPromoted"},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":1,"checks":false,"coldTicks":0,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":4,"surge":true},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":false,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":false,"unreadable":true,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":false,"unreadable":true,"unknownBackend":false,"nodeLoss":0,"commands":["promote"],"specChange":"stableReplicas"}]]',
  // a retry restarts an aborted rollout: the tick estimated no live load while aborted, sized the restart from the
  // plan, and the same tick decided again raised the canary's floor
  'traffic back to stable is not held for a shadow step\'s replicas': '[{"steps":[{"kind":"shadow","percent":50,"maxSeconds":120},{"kind":"pause","seconds":60},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":1,"checks":false,"coldTicks":0,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":1,"surge":true,"sequential":false},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"mirror"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"stableReplicas"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":false,"unknownBackend":true,"nodeLoss":1,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"replaceCanary"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["pause"],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null}]]',
  'the stable floor does not shrink below what comes back to it': '[{"steps":[{"kind":"setWeight","weight":20},{"kind":"pauseUntilPromoted"},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":1,"checks":false,"coldTicks":2,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":0,"surge":true,"sequential":false},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":1,"commands":["promote"],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"stableReplicas"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":true,"unreadable":false,"unknownBackend":true,"nodeLoss":0,"commands":["promote","pause"],"specChange":"replaceCanary"},{"gap":"retry","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":1,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["pause"],"specChange":null}]]',
  'a retried tick wants the same mirror': '[{"steps":[{"kind":"shadow","percent":50,"maxSeconds":120},{"kind":"pause","seconds":60},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":2,"checks":false,"coldTicks":0,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":3,"surge":true,"sequential":false},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":false,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":"mirror"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":false,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"stableReplicas"},{"gap":"retry","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null}]]',
  'no mirror onto a canary whose floor says scaled down': '[{"steps":[{"kind":"shadow","percent":50,"maxSeconds":120},{"kind":"pause","seconds":60},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":2,"checks":false,"coldTicks":0,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":0,"surge":true,"sequential":false},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":true,"unreadable":false,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":"replaceCanary"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["pause"],"specChange":"replaceCanary"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":1,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["pause"],"specChange":null}]]',
  'a retry sizes from the live load': '[{"steps":[{"kind":"pause","seconds":60},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":1,"checks":false,"coldTicks":0,"keepWarm":0,"commandsBeforeStart":["cancel"],"liveExtra":1,"surge":true},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["retry"],"specChange":null},{"gap":"retry","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":false,"unreadable":false,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"retry","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["pause"],"specChange":null}]]',
  // a promote whose write was lost, the canary's floor capped by the GPU budget below what 100 % needs: the partial
  // move waited for the router to serve the weights it never got, until the progress deadline aborted
  'a partial move starts from what the router serves after a lost write': '[{"steps":[{"kind":"setWeight","weight":30},{"kind":"analysis","gate":{"name":"g","metrics":[{"provider":"prometheus","name":"error-rate","query":"q","comparison":"lt","threshold":0.05,"sampleQuery":"s","minSamples":50}],"intervalSeconds":60,"count":2,"failureLimit":1,"inconclusiveLimit":1}},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":1,"checks":false,"coldTicks":0,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":1,"surge":true,"sequential":false},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"mirror"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":["pause"],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":false,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":"stableReplicas"},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":false,"nodeLoss":1,"commands":["promote"],"specChange":null}]]',
  // found by a local run's drawn seed (1432345231): the 30 % write lost, stable's only replica lost, then the
  // sequential test failed the canary while the route could not be read and held the abort. Once stable was back,
  // the router already served 100/0 (the write never landed), so the abort had nothing to send, and the state kept
  // recording 70/30 for good: status, CLI and floors read a canary still at 30 %
  'an abort the router already serves is recorded': '[{"steps":[{"kind":"setWeight","weight":30},{"kind":"analysis","gate":{"name":"g","metrics":[{"provider":"prometheus","name":"error-rate","query":"q","comparison":"lt","threshold":0.05,"sampleQuery":"s","minSamples":50}],"intervalSeconds":60,"count":2,"failureLimit":1,"inconclusiveLimit":1}},{"kind":"setWeight","weight":100}],"twoCanaries":false,"stableReplicas":1,"checks":true,"coldTicks":1,"keepWarm":0,"commandsBeforeStart":[],"liveExtra":0,"surge":true,"sequential":true},[{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":0,"lostWrite":true,"unreadable":false,"unknownBackend":false,"nodeLoss":1,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"bad","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":false,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":false,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"tick","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":false,"unknownBackend":false,"nodeLoss":0,"commands":[],"specChange":null},{"gap":"retry","jitterMs":0,"health":"good","crashAfter":-1,"lostWrite":true,"unreadable":true,"unknownBackend":true,"nodeLoss":0,"commands":[],"specChange":null}]]',
};
for (const [name, json] of Object.entries(REGRESSIONS)) {
  test(`regression: ${name}`, () => {
    const [init, events] = JSON.parse(json);
    expect(runRollout(init, events)).toEqual({ ok: true });
  });
}

if (process.env.PROPERTY_CASE) {
  test('replay one counterexample (PROPERTY_CASE=file.json)', () => {
    const [init, events] = JSON.parse(readFileSync(process.env.PROPERTY_CASE!, 'utf8'));
    expect(runRollout(init, events)).toEqual({ ok: true });
  });
}

test(`properties: ${RUNS} random rollouts with faults, checked against the router and the replicas`, () => {
  const started = Date.now();
  let ticks = 0;
  let why: string | undefined;
  fc.assert(fc.property(initialArb, fc.array(eventArb, { minLength: 5, maxLength: 45 }), (init, events) => {
    ticks += events.length + 12;
    const v = runRollout(init, events);
    if (!v.ok) why = v.why;
    return v.ok;
  }), {
    numRuns: RUNS,
    seed: SEED,
    path: process.env.PROPERTY_PATH,
    reporter: (out) => {
      if (out.failed) throw new Error(`${why}\n${fc.defaultReportMessage(out)}`);
    },
  });
  console.log(`property suite: ${RUNS} rollouts (seed ${SEED}${SEED_DRAWN ? ', drawn for this run' : ''}), ${ticks} ticks in ${((Date.now() - started) / 1000).toFixed(1)} s; `
    + `capacity paths: ${exercised.live} live-sized decisions, ${exercised.surgeShrink} surge shrinks, ${exercised.abortRamp} partial abort moves, ${exercised.shadow} mirror sends, ${exercised.shadowPass} shadow steps ended by the error test`);
  const paths = [exercised.live, exercised.surgeShrink, exercised.abortRamp, exercised.shadow, exercised.shadowPass];
  if (RUNS >= 1000) expect(Math.min(...paths)).toBeGreaterThan(0);
});
