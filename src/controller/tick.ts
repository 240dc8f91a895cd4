/**
 * One tick of the step controller, shared by the CronJob main and the Lambda handler:
 * read once, observe, decide (pure), write the state once with optimistic concurrency, then act in order.
 *
 * Writing before acting means two ticks at once cannot both act (the second write conflicts and that tick
 * stops), and a crash between actions leaves a state the next tick repairs: it sees the router or a floor differ
 * from what the state records and sends it again.
 */
import { Ports } from './ports';
import { decide } from '../core/decide';
import { Action, Decision } from '../core/state';

/** The outcome of a tick, also logged as one JSON line. */
export interface TickResult {
  readonly decision?: Decision;
  /** Actions carried out (all of them unless one failed). */
  readonly applied: readonly Action[];
  /** Why the tick did nothing: a conflicting write. */
  readonly conflict?: string;
  /** The action that failed, with its error: the next tick repairs. */
  readonly failed?: { readonly action: Action; readonly error: string };
  readonly millis: number;
}

/** Run one tick at `now` (ms since epoch). */
export async function tick(ports: Ports, now: number): Promise<TickResult> {
  const started = Date.now();
  const stored = await ports.store.read();
  const { spec } = stored;
  const versions = [spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : [])];
  const canaries = spec.canaries.map((c) => c.version);
  const [routerWeights, readyReplicas, floors, metrics] = await Promise.all([
    ports.router.readWeights(),
    ports.capacity.readyReplicas(versions),
    ports.capacity.floors ? ports.capacity.floors(versions) : Promise.resolve(undefined),
    ports.metrics.measure(spec, canaries),
  ]);
  const decision = decide(spec, stored.state, { routerWeights, readyReplicas, floors, metrics, command: stored.command }, now);

  const base = {
    rollout: spec.name,
    phase: decision.state.phase,
    step: decision.state.stepIndex,
    steps: spec.steps.length,
    weights: decision.state.weights,
    floors: decision.state.floors,
    verdicts: decision.verdicts,
    reason: decision.reason,
    wakeAt: new Date(decision.wakeAt).toISOString(),
  };

  if (decision.state !== stored.state) {
    try {
      await ports.store.writeState(decision.state, stored.version);
    } catch (e) {
      if ((e as Error).name === 'ConflictError') {
        const result: TickResult = { decision, applied: [], conflict: (e as Error).message, millis: Date.now() - started };
        ports.log({ ...base, level: 'warn', conflict: result.conflict, actions: [], millis: result.millis });
        return result;
      }
      throw e;
    }
  }

  const applied: Action[] = [];
  for (const action of decision.actions) {
    try {
      await apply(ports, action);
      applied.push(action);
    } catch (e) {
      const result: TickResult = { decision, applied, failed: { action, error: (e as Error).message }, millis: Date.now() - started };
      ports.log({ ...base, level: 'error', actions: applied, failed: result.failed, millis: result.millis });
      return result;
    }
  }
  const result: TickResult = { decision, applied, millis: Date.now() - started };
  ports.log({ ...base, level: 'info', actions: applied, millis: result.millis });
  return result;
}

async function apply(ports: Ports, action: Action): Promise<void> {
  switch (action.kind) {
    case 'setFloor':
      return ports.capacity.setFloor(action.version, action.replicas);
    case 'setWeights':
      return ports.router.setWeights(action.weights);
    case 'scaleDown':
      return ports.capacity.scaleDown(action.version);
  }
}
