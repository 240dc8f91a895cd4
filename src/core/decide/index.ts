/**
 * The step controller's decision: pure, over plain data, no clock reads and no I/O.
 *
 *   decide(spec, state, observations, now) -> { state, actions, wakeAt, reason, verdicts }
 *
 * The entrypoints (Lambda handler, CronJob main) read the spec, the state and the observations, call this,
 * write the returned state once (optimistic concurrency), then carry out the actions in order, checking before
 * each that nobody wrote the state since (fencing). Writing first means two concurrent ticks cannot both act
 * (the loser's write conflicts), and a crash between actions is repaired by the next tick, which sees the
 * router or the floors differ from the recorded state.
 *
 * One tick, in order (each part in its own file):
 * 1. a changed spec restarts (`start()` below), or stays promoted when it changes nothing about who serves;
 * 2. commands (`commands.ts`): every command not handled yet, in order; cancel wins;
 * 3. floors (`floors.ts`): repair floors found different from the state, hold the mirror's;
 * 4. by phase: aborted keeps the abort weights, promoted/completed keep their final weights, paused keeps the
 *    recorded weights within the plan (`steps.ts`); progressing runs the continuous checks (`analysis.ts`),
 *    pre-warms canaries (`floors.ts`, `desiredFloors()` shared with the plan), then the steps (`steps.ts`),
 *    whose analysis steps run their gates;
 * 5. capacity that follows the route (`floors.ts`): surge mode shrinks the stable version to its share, an
 *    aborted surge rollout releases canary replicas as traffic goes back, a promoted version's floor returns to
 *    the plan's once it serves everything (its autoscaler holds the live load);
 * 6. delayed scale-downs (`floors.ts`): never in a tick that changes the route, never before the router serves
 *    the recorded weights without the version, never before `scaleDownDelaySeconds` after the last route change;
 * 7. a finished rollout with nothing left to do is recorded as settled (`settle.ts`): the next ticks skip it.
 *
 * Rules: every weight send passes the capacity gate (`capacity-gate.ts`): a version's share rises only once its
 * replicas are ready, measured against what the router serves; a weight step completes only once the router
 * serves exactly the recorded weights (a backend outside the spec, or a route that cannot be read, is not
 * "served"); continuous checks are measured at every progressing tick and a failing one holds the weights
 * until it passes; no data is inconclusive, never a failure; abort raises (never lowers) the stable floor
 * to the live load and sends every canary to 0 at once once the stable's ready replicas carry it (before, the
 * share they carry, as they come back; nothing while it has none); paused time does not count toward
 * the progress deadline; the same tick twice changes nothing; every action is recorded in the state.
 */
import { checksHold, runContinuousChecks } from './analysis';
import { applyCommands } from './commands';
import { copy, Draft, TickContext } from './context';
import { holdMirrorFloor, lowerFloors, prewarm, releaseAbortedCanaries, releasePromotedFloor, repairFloors, shrinkStable } from './floors';
import { holdPinFloors } from './pins';
import { settle } from './settle';
import { holdAbort, holdFinal, holdPaused, runSteps } from './steps';
import { RolloutSpec } from '../spec';
import { ControllerState, Decision, Observations } from '../state';
import { abortWeights, Weights } from '../weights';

export { needsTick } from './settle';

/** Decide what to do at `now` (ms since epoch). */
export function decide(spec: RolloutSpec, previous: ControllerState | undefined, obs: Observations, now: number): Decision {
  const reasons: string[] = [];
  const t = new TickContext(spec, previous, obs, now, (hash) => start(spec, previous, hash, obs, now, reasons));
  t.reasons.push(...reasons);
  applyCommands(t);
  repairFloors(t);
  holdMirrorFloor(t);
  holdPinFloors(t);
  switch (t.s.phase) {
    case 'aborted':
      holdAbort(t);
      break;
    case 'promoted':
      // the promoted canary serves: holding it back on a failing check would send traffic to a scaled-down version
      holdFinal(t);
      break;
    case 'completed':
      holdFinal(t, checksHold(t));
      break;
    case 'progressing':
      if (runContinuousChecks(t) || t.s.phase !== 'progressing') break;
      prewarm(t);
      runSteps(t);
      break;
    case 'paused': {
      // a paused canary still serves: its checks still run (and may abort), and hold any repair that raises it
      const hold = runContinuousChecks(t);
      if (t.s.phase === 'paused') holdPaused(t, hold);
      break;
    }
  }
  // capacity follows the route (live sizing and surge mode, `floors.ts`): only once the router serves it
  if ((t.s.phase === 'progressing' || t.s.phase === 'paused') && !t.s.checkFailing) shrinkStable(t);
  releaseAbortedCanaries(t);
  releasePromotedFloor(t);
  lowerFloors(t);
  settle(t);
  return t.result();
}

/** The version serving the environment in a state (older states did not record it). */
function servingOf(s: ControllerState): string | undefined {
  if (s.servingVersion) return s.servingVersion;
  if (s.phase === 'promoted') return Object.entries(s.weights).find(([, w]) => w === 100)?.[0];
  return undefined;
}

/**
 * The state a new (or changed) spec starts from.
 *
 * A promoted rollout whose new spec names the same stable version and the same single canary (a threshold, the
 * steps, `stableReplicas` changed) stays promoted: restarting would send traffic back to a version scaled to
 * zero. Otherwise the rollout starts from the first step with the weights the router serves now (not clamped
 * here: the steps bring them to the plan through the capacity gate, so the version taking traffic back must
 * have ready replicas first). Floors, pending scale-downs and the handled-command position carry over;
 * versions leaving the spec are scaled down once nothing routes to them.
 */
function start(spec: RolloutSpec, previous: ControllerState | undefined, hash: string, obs: Observations, now: number, reasons: string[]): Draft {
  const serving = previous ? servingOf(previous) : undefined;
  const single = spec.canaries.length === 1 && spec.canaries[0].ramp && spec.canaries[0].targetWeight === 100 ? spec.canaries[0].version : undefined;
  if (previous && previous.phase === 'promoted' && serving && serving === single && previous.previousVersion === spec.stable) {
    reasons.push(`spec changed (${previous.specHash} -> ${hash}) after promotion: ${serving} already serves 100 %, staying promoted`);
    return { ...copy(previous), specHash: hash, servingVersion: serving };
  }
  if (previous) reasons.push(`spec changed (${previous.specHash} -> ${hash}): restarting from the first step`);
  const weights: Weights = obs.routerWeights ? { ...obs.routerWeights } : previous?.weights ? { ...previous.weights } : abortWeights(spec);
  const known = new Set([spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : [])]);
  const floors: Record<string, number> = { ...(previous?.floors ?? {}) };
  const lowering: Record<string, number> = { ...(previous?.lowering ?? {}) };
  for (const [v, n] of Object.entries(floors)) if (!known.has(v) && n > 0) lowering[v] = lowering[v] ?? now;
  // a deploy during the keep-warm window must not forget the previous version
  if (previous?.previousVersion && !previous.previousScaledDown && !known.has(previous.previousVersion)) {
    lowering[previous.previousVersion] = lowering[previous.previousVersion] ?? now;
  }
  for (const v of known) delete lowering[v];
  return {
    specHash: hash,
    phase: 'progressing',
    stepIndex: 0,
    stepStartedAt: now,
    weights,
    floors,
    ...(Object.keys(lowering).length > 0 ? { lowering } : {}),
    checkFailures: 0,
    servingVersion: spec.stable,
    // when the route last changed survives the restart: nothing goes down before the gateway propagated it
    ...(previous?.weightsSetAt !== undefined ? { weightsSetAt: previous.weightsSetAt } : {}),
    ...(previous?.routeChangedAt !== undefined || previous?.weightsSetAt !== undefined
      ? { routeChangedAt: Math.max(previous.routeChangedAt ?? -Infinity, previous.weightsSetAt ?? -Infinity) } : {}),
    ...(previous?.lastCommandId !== undefined ? { lastCommandId: previous.lastCommandId } : {}),
    ...(previous?.commandSeq !== undefined ? { commandSeq: previous.commandSeq } : {}),
    ...(previous?.previousVersion && !previous.previousScaledDown && !known.has(previous.previousVersion)
      ? { previousVersion: previous.previousVersion, previousScaledDown: false } : {}),
    // the live load does not change with the spec: a restart keeps the last estimate, so a tick that cannot read
    // the route (and so cannot estimate again) does not size from the plan (a promote in the restart tick would
    // send 100 % to a canary sized for the plan's load, not the live one); the stable's recent
    // shares still describe its autoscaler's window while it stays the stable version
    ...(previous?.liveReplicas !== undefined ? { liveReplicas: previous.liveReplicas } : {}),
    ...(previous?.stableShares && previous.servingVersion === spec.stable ? { stableShares: previous.stableShares } : {}),
    updatedAt: now,
  };
}
