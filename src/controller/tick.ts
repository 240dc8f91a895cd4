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
import { Ports } from './ports';
import { decide } from '../core/decide';
import { Transition, transitions, withHistory } from '../core/history';
import { isRuntimeError } from '../core/runtime-errors';
import { RolloutSpec } from '../core/spec';
import { Action, ControllerState, Decision } from '../core/state';
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
export const SINK_TIMEOUT_MS = 5_000;

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
      return { ...r, applied, conflict: first.conflict ?? r.conflict, fenced: first.fenced ?? r.fenced };
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
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
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

async function tickPass(ports: TickPorts, now: number): Promise<{ result: TickResult; published?: Published }> {
  const out: { published?: Published } = {};
  const result = await tickPassInner(ports, now, out);
  return { result, published: out.published };
}

async function tickPassInner(ports: TickPorts, now: number, out: { published?: Published }): Promise<TickResult> {
  const started = Date.now();
  const stored = await ports.store.read();
  const { spec } = stored;
  const prior = stored.state;
  // versions leaving the spec stay observed until they are scaled down (their floors are repaired too)
  const versions = [...new Set([
    spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : []),
    ...Object.keys(prior?.floors ?? {}), ...Object.keys(prior?.lowering ?? {}),
  ])];
  const canaries = spec.canaries.map((c) => c.version);
  // Floors are read best-effort: an unreadable floor (an EKS API that answers 401, a network split) only means the
  // engine cannot repair floors at this tick; it must not keep an abort from moving the route.
  // Live replicas likewise: unreadable, the engine sizes from the plan's stable replicas (and the recorded peak).
  const [[routerWeights, routerMirrors], readyReplicas, floors, metrics, desiredReplicas] = await Promise.all([
    // the mirrors come from the same read of the route as the weights
    ports.router.readWeights().then(async (w) => [w, w && ports.router.readMirrors ? await ports.router.readMirrors() : undefined] as const),
    ports.capacity.readyReplicas(versions),
    ports.capacity.floors ? ports.capacity.floors(versions).catch((e: Error) => {
      ports.log({ level: 'warn', rollout: spec.name, msg: `replica floors could not be read: ${e.message}` });
      return undefined;
    }) : Promise.resolve(undefined),
    ports.metrics.measure(spec, canaries),
    ports.capacity.desiredReplicas ? ports.capacity.desiredReplicas(versions).catch((e: Error) => {
      ports.log({ level: 'warn', rollout: spec.name, msg: `live replicas could not be read: ${e.message}` });
      return undefined;
    }) : Promise.resolve(undefined),
  ]);
  const observed = {
    routerWeights,
    ...(routerMirrors ? { routerMirrors } : {}),
    readyReplicas,
    floors,
    metrics,
    command: stored.command,
    commands: stored.commands,
    ...(desiredReplicas ? { desiredReplicas } : {}),
  };
  const decided = decide(spec, stored.state, observed, now);
  // the trail: phase changes (Events, notifications) and one history entry per change a person cares about
  const events = decided.state !== prior ? transitions(spec, prior, decided.state, decided.reason) : [];
  const decision: Decision = { ...decided, state: withHistory(prior, decided.state, decided.reason, events) };
  const changed = lastEntry(decision.state) !== lastEntry(prior);

  const base = {
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
  };

  let written = stored.version;
  if (decision.state !== stored.state) {
    try {
      written = (await ports.store.writeState(decision.state, stored.version)) ?? written;
      // stored: its phase changes are published once the actions ran (or stopped), never for a conflicting write
      out.published = { spec, state: decision.state, events, changed };
    } catch (e) {
      if (isRuntimeError(e, 'conflict') || (e as Error).name === 'ConflictError') {
        const result: TickResult = { decision, applied: [], conflict: (e as Error).message, millis: Date.now() - started };
        ports.log({ ...base, level: 'warn', conflict: result.conflict, actions: [], millis: result.millis });
        return result;
      }
      throw e;
    }
  }

  const applied: Action[] = [];
  const fence = async (next: string, always = false): Promise<TickResult | undefined> => {
    if (!ports.store.currentVersion || (decision.actions.length === 0 && !always)) return undefined;
    const current = await ports.store.currentVersion();
    if (current === written) return undefined;
    const fenced = `the state changed after this tick wrote it (version ${written} -> ${current}): a command or another tick came in; ${next}`;
    const result: TickResult = { decision, applied, fenced, millis: Date.now() - started };
    ports.log({ ...base, level: 'warn', fenced, actions: applied, millis: result.millis });
    return result;
  };
  // A failed floor action does not stop a weight change that only moves traffic back toward stable (an abort must
  // reach the router even when the cluster's API is down); anything that raises a canary stops at the failure.
  let floorFailure: { action: Action; error: string } | undefined;
  let fenced: TickResult | undefined;
  for (const action of decision.actions) {
    fenced = fenced ?? await fence(`stopping before ${action.kind}`);
    // once fenced, only actions toward stable still run (see towardStable), then the tick stops
    if (fenced && !towardStable(spec, prior, routerWeights, action)) break;
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
      const result: TickResult = { decision, applied, failed, millis: Date.now() - started };
      ports.log({ ...base, level: 'error', actions: applied, failed: result.failed, millis: result.millis });
      return result;
    }
  }
  if (fenced) return { ...fenced, applied, ...(floorFailure ? { failed: floorFailure } : {}) };
  if (floorFailure) {
    const result: TickResult = { decision, applied, failed: floorFailure, millis: Date.now() - started };
    ports.log({ ...base, level: 'error', actions: applied, failed: floorFailure, millis: result.millis });
    return result;
  }
  // a command that landed during the last action: decide again now rather than at the next tick
  // the phase changes of this pass go out before the last look: a command that lands while they are posted is
  // decided at once, like one that lands during an action
  const publishing = out.published;
  if (publishing) {
    out.published = undefined;
    await publish(ports, publishing);
  }
  const late = await fence('deciding again', publishing !== undefined && (publishing.changed || publishing.events.length > 0) && !!ports.sinks?.length);
  if (late) return late;
  const result: TickResult = { decision, applied, millis: Date.now() - started };
  ports.log({ ...base, level: 'info', actions: applied, millis: result.millis });
  return result;
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
