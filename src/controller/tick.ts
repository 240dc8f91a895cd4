/**
 * One tick of the step controller, shared by the CronJob main and the Lambda handler:
 * read once, observe, decide (pure), write the state once with optimistic concurrency, then act in order.
 *
 * Writing before acting means two ticks at once cannot both act (the second write conflicts and that tick
 * stops), and a crash between actions leaves a state the next tick repairs: it sees the router or a floor differ
 * from what the state records and sends it again.
 *
 * Fencing: before each action the tick checks the stored state is still the version it wrote. A command (a
 * cancel) or another tick writing in between stops it: actions decided before a cancel never run after it.
 * A conflicting write is normal (exit 0); a write the store refuses for good (`rejected`) is an error.
 */
import { sinkTimedOut } from './errors';
import { Ports, StoredRollout } from './ports';
import { TICK_SECONDS } from '../core/constants';
import { decide, needsTick } from '../core/decide';
import { Transition, transitions, withHistory } from '../core/history';
import { isRuntimeError } from '../core/runtime-errors';
import { RolloutSpec } from '../core/spec';
import { Action, ControllerState, Decision, Observations } from '../core/state';
import { Weights } from '../core/weights';

/** The outcome of a tick, also logged as one JSON line. */
export interface TickResult {
  readonly decision?: Decision;
  /** Actions carried out (all of them unless one failed). */
  readonly applied: readonly Action[];
  /** Why the tick did nothing: a conflicting write. */
  readonly conflict?: string;
  /** Why the tick stopped acting: the state changed after its write (a command or another tick). */
  readonly fenced?: string;
  /** The action that failed, with its error: the next tick repairs. */
  readonly failed?: { readonly action: Action; readonly error: string };
  /**
   * The rollout is finished and settled, with no new command and the same spec: nothing was observed, decided or
   * written (`decision` is the stored state, unchanged).
   */
  readonly idle?: boolean;
  /** The state stored before this tick (its first pass read it). */
  readonly previous?: ControllerState;
  readonly millis: number;
}

/**
 * Where phase changes go once the state that records them is stored: Kubernetes Events and the route's status
 * annotation, webhooks, Slack, SNS. Best-effort: a sink that fails or hangs is logged and never fails the tick.
 */
export interface TransitionSink {
  publish(spec: RolloutSpec, state: ControllerState, events: readonly Transition[], changed: boolean): Promise<void>;
}

/** The ports of a tick, with optional sinks for phase changes. */
export interface TickPorts extends Ports {
  readonly sinks?: readonly TransitionSink[];
  /** How long the sinks may take (ms). @default SINK_TIMEOUT_MS */
  readonly sinkTimeoutMs?: number;
}

/** How long the sinks may take after a tick (they run after the actions, best-effort). */
const SINK_TIMEOUT_MS = 5_000;

/** Passes of one tick: a pass stopped by a conflict or the fence reads again, so a cancel lands within seconds. */
const PASSES = 3;

/**
 * Run one tick at `now` (ms since epoch). A pass that a conflict or the fence stopped (someone wrote the state:
 * usually a command) is followed by another, at most `PASSES` in all: the command is decided at once instead of
 * a minute later, and a pass that finds nothing to change writes and does nothing.
 */
export async function tick(ports: TickPorts, now: number): Promise<TickResult> {
  let first: TickResult | undefined;
  let applied: Action[] = [];
  for (let pass = 1; ; pass++) {
    const { result: r, published } = await tickPass(ports, now);
    if (published) await publish(ports, published);
    applied = [...applied, ...r.applied];
    first = first ?? r;
    if (!(r.conflict || r.fenced) || pass >= PASSES) {
      return { ...r, applied, conflict: first.conflict ?? r.conflict, fenced: first.fenced ?? r.fenced, previous: first.previous };
    }
  }
}

/** What a pass stored, for the sinks. */
interface Published {
  readonly spec: RolloutSpec;
  readonly state: ControllerState;
  readonly events: readonly Transition[];
  /** Whether the history got an entry (a change a dashboard shows). */
  readonly changed: boolean;
}

/** Hand a stored change to every sink, in parallel, bounded by `SINK_TIMEOUT_MS`; failures are logged only. */
async function publish(ports: TickPorts, p: Published): Promise<void> {
  if (!ports.sinks?.length || (!p.changed && p.events.length === 0)) return;
  await Promise.all(ports.sinks.map(async (sink) => {
    let timer: NodeJS.Timeout | undefined;
    const ms = ports.sinkTimeoutMs ?? SINK_TIMEOUT_MS;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(sinkTimedOut(ms)), ms);
    });
    try {
      await Promise.race([sink.publish(p.spec, p.state, p.events, p.changed), timeout]);
    } catch (e) {
      ports.log({ level: 'warn', rollout: p.spec.name, msg: `events not published: ${(e as Error).message}`, events: p.events.map((x) => x.reason) });
    } finally {
      clearTimeout(timer);
    }
  }));
}

/** What a pass did besides deciding: the result's fields, and the stored change the sinks have not had yet. */
interface PassEnd {
  readonly applied: readonly Action[];
  readonly conflict?: string;
  readonly fenced?: string;
  readonly failed?: { readonly action: Action; readonly error: string };
  readonly published?: Published;
}

/** One pass: read, observe, decide, write, act; its result is logged once, here. */
async function tickPass(ports: TickPorts, now: number): Promise<{ result: TickResult; published?: Published }> {
  const started = Date.now();
  const stored = await ports.store.read();
  const { spec } = stored;
  const prior = stored.state;
  if (prior && !needsTick(spec, prior, stored)) {
    // a finished rollout with nothing left to do: no route, capacity or metric reads, no write (core/decide/settle.ts)
    const idle: Decision = { state: prior, actions: [], wakeAt: now + (spec.tickSeconds ?? TICK_SECONDS) * 1000, reason: `${prior.phase}: settled, nothing left to do`, verdicts: {} };
    const result: TickResult = { decision: idle, applied: [], idle: true, previous: prior, millis: Date.now() - started };
    ports.log(logLine(spec, result, []));
    return { result };
  }
  const observed = await observe(ports, stored);
  const decided = decide(spec, prior, observed, now);
  // the trail: phase changes (Events, notifications) and one history entry per change a person cares about
  const events = decided.state !== prior ? transitions(spec, prior, decided.state, decided.reason) : [];
  const decision: Decision = { ...decided, state: withHistory(prior, decided.state, decided.reason, events) };
  const changed = lastEntry(decision.state) !== lastEntry(prior);
  const { published, ...end } = await writeThenAct(ports, stored, decision, { spec, state: decision.state, events, changed }, observed.routerWeights);
  const result: TickResult = { decision, ...end, previous: prior, millis: Date.now() - started };
  ports.log(logLine(spec, result, events));
  return { result, published };
}

/** The tick's JSON log line: where the rollout is, what was decided and what came of it. */
function logLine(spec: RolloutSpec, result: TickResult, events: readonly Transition[]): Record<string, unknown> {
  const decision = result.decision!;
  const level = result.conflict || result.fenced ? 'warn' : result.failed ? 'error' : 'info';
  return {
    rollout: spec.name,
    phase: decision.state.phase,
    step: decision.state.stepIndex,
    steps: spec.steps.length,
    weights: decision.state.weights,
    floors: decision.state.floors,
    verdicts: decision.verdicts,
    reason: decision.reason,
    ...(events.length ? { events: events.map((e) => e.reason) } : {}),
    wakeAt: new Date(decision.wakeAt).toISOString(),
    level,
    ...(result.conflict ? { conflict: result.conflict } : {}),
    ...(result.fenced ? { fenced: result.fenced } : {}),
    actions: result.applied,
    ...(result.failed ? { failed: result.failed } : {}),
    millis: result.millis,
  };
}

/**
 * What the engine sees: the route, replicas, floors and metrics, read in parallel. Floors are read best-effort: an
 * unreadable floor (an EKS API that answers 401, a network split) only means the engine cannot repair floors at
 * this tick; it must not keep an abort from moving the route. Live replicas likewise: unreadable, the engine sizes
 * from the plan's stable replicas (and the recorded peak).
 */
async function observe(ports: TickPorts, stored: StoredRollout): Promise<Observations> {
  const { spec, state: prior } = stored;
  // versions leaving the spec stay observed until they are scaled down (their floors are repaired too)
  const versions = [...new Set([
    spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : []),
    ...Object.keys(prior?.floors ?? {}), ...Object.keys(prior?.lowering ?? {}),
  ])];
  const canaries = spec.canaries.map((c) => c.version);
  const bestEffort = <T>(read: ((v: string[]) => Promise<T>) | undefined, what: string): Promise<T | undefined> =>
    (read ? read(versions).catch((e: Error) => {
      ports.log({ level: 'warn', rollout: spec.name, msg: `${what} could not be read: ${e.message}` });
      return undefined;
    }) : Promise.resolve(undefined));
  const [[routerWeights, routerMirrors], readyReplicas, floors, metrics, desiredReplicas] = await Promise.all([
    // the mirrors come from the same read of the route as the weights
    ports.router.readWeights().then(async (w) => [w, w && ports.router.readMirrors ? await ports.router.readMirrors() : undefined] as const),
    ports.capacity.readyReplicas(versions),
    bestEffort(ports.capacity.floors?.bind(ports.capacity), 'replica floors'),
    ports.metrics.measure(spec, canaries),
    bestEffort(ports.capacity.desiredReplicas?.bind(ports.capacity), 'live replicas'),
  ]);
  const lowestFloors = ports.capacity.lowestFloors?.(versions);
  return {
    routerWeights,
    ...(routerMirrors ? { routerMirrors } : {}),
    readyReplicas,
    floors,
    ...(lowestFloors ? { lowestFloors } : {}),
    metrics,
    command: stored.command,
    commands: stored.commands,
    ...(desiredReplicas ? { desiredReplicas } : {}),
  };
}

/**
 * Write the decided state (a conflicting write ends the pass), then act under the fence. A pass that ran all its
 * actions hands its phase changes to the sinks before its last look at the fence: a command that lands while they
 * are posted, or during the last action, is decided at once rather than at the next tick.
 */
async function writeThenAct(
  ports: TickPorts, stored: StoredRollout, decision: Decision, change: Published, served: Weights | undefined,
): Promise<PassEnd> {
  let written = stored.version;
  let published: Published | undefined;
  if (decision.state !== stored.state) {
    try {
      written = (await ports.store.writeState(decision.state, stored.version)) ?? written;
      // stored: its phase changes are published once the actions ran (or stopped), never for a conflicting write
      published = change;
    } catch (e) {
      if (isRuntimeError(e, 'conflict') || (e as Error).name === 'ConflictError') return { applied: [], conflict: (e as Error).message };
      throw e;
    }
  }
  const fence = new Fence(ports, decision, written);
  const acted = await act(ports, stored, decision, fence, served);
  if (acted.fenced || acted.failed) return { ...acted, published };
  if (published) await publish(ports, published);
  const late = await fence.check('deciding again', published !== undefined && (published.changed || published.events.length > 0) && !!ports.sinks?.length);
  return late ? { ...acted, fenced: late } : acted;
}

/** The fence: whether the stored state is still the version this pass wrote. */
class Fence {
  constructor(private readonly ports: TickPorts, private readonly decision: Decision, private readonly written: string) {}

  /** Why the pass must stop (`next` says what it stops), or undefined while the state is still its own. */
  public async check(next: string, always = false): Promise<string | undefined> {
    if (!this.ports.store.currentVersion || (this.decision.actions.length === 0 && !always)) return undefined;
    const current = await this.ports.store.currentVersion();
    if (current === this.written) return undefined;
    return `the state changed after this tick wrote it (version ${this.written} -> ${current}): a command or another tick came in; ${next}`;
  }
}

/**
 * The decided actions, in order, each behind the fence. A failed floor action does not stop a weight change that
 * only moves traffic back toward stable (an abort must reach the router even when the cluster's API is down);
 * anything that raises a canary stops at the failure. A failed weight change ends the pass.
 */
async function act(ports: TickPorts, stored: StoredRollout, decision: Decision, fence: Fence, served: Weights | undefined): Promise<PassEnd> {
  const { spec, state: prior } = stored;
  const applied: Action[] = [];
  let floorFailure: { action: Action; error: string } | undefined;
  let fenced: string | undefined;
  for (const action of decision.actions) {
    fenced = fenced ?? await fence.check(`stopping before ${action.kind}`);
    // once fenced, only actions toward stable still run (see towardStable), then the pass stops
    if (fenced && !towardStable(spec, prior, served, action)) break;
    if (floorFailure && (action.kind !== 'setWeights' || raisesCanary(spec, prior?.weights, action.weights))) continue;
    try {
      await apply(ports, action);
      applied.push(action);
    } catch (e) {
      const failed = { action, error: (e as Error).message };
      if (action.kind !== 'setWeights') {
        floorFailure = floorFailure ?? failed;
        continue;
      }
      return { applied, failed };
    }
  }
  return { applied, ...(fenced ? { fenced } : {}), ...(floorFailure ? { failed: floorFailure } : {}) };
}

/**
 * Actions no newer writer can make wrong, applied even after the fence: traffic back toward stable (no canary gets
 * more than the router serves now) and more replicas for the stable version. A command after an abort is ignored,
 * and a newer tick would send the same or raise through its own capacity gate. Without this, an abort whose state
 * was written when a command came in would wait a whole tick for its route: the state records its weights as sent
 * this tick, so the next pass does not send them again.
 */
function towardStable(spec: RolloutSpec, prior: ControllerState | undefined, served: Weights | undefined, action: Action): boolean {
  if (action.kind === 'setWeights') return !raisesCanary(spec, served, action.weights);
  if (action.kind === 'setFloor') return action.version === spec.stable && action.replicas >= (prior?.floors?.[action.version] ?? 0);
  return false;
}

/** Whether `next` gives any canary more than `before` did (a weight change that needs capacity). */
function raisesCanary(spec: RolloutSpec, before: Weights | undefined, next: Weights): boolean {
  return spec.canaries.some((c) => (next[c.version] ?? 0) > (before?.[c.version] ?? 0));
}

async function apply(ports: Ports, action: Action): Promise<void> {
  switch (action.kind) {
    case 'setFloor':
      return ports.capacity.setFloor(action.version, action.replicas);
    case 'setWeights':
      return ports.router.setWeights(action.weights, action.shadow);
    case 'scaleDown':
      return ports.capacity.scaleDown(action.version);
  }
}

function lastEntry(s: ControllerState | undefined) {
  return s?.history?.[s.history.length - 1];
}
