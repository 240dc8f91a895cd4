/**
 * The step controller's decision: pure, over plain data, no clock reads and no I/O.
 *
 *   decide(spec, state, observations, now) -> { state, actions, wakeAt, reason, verdicts }
 *
 * The entrypoints (Lambda handler, CronJob main) read the spec, the state and the observations, call this,
 * write the returned state once (optimistic concurrency), then carry out the actions in order. Writing first
 * means two concurrent ticks cannot both act (the loser's write conflicts), and a crash between actions is
 * repaired by the next tick, which sees the router or the floors differ from the recorded state.
 *
 * One tick, in order (each part in its own file):
 * 1. commands (`commands.ts`): pause, resume, promote, cancel, each handled once;
 * 2. floors (`floors.ts`): repair lost floors, hold the mirror's;
 * 3. by phase: aborted keeps the abort weights, promoted scales the previous version down after its keep-warm
 *    window (`steps.ts`); progressing runs the continuous checks (`analysis.ts`), pre-warms canaries for the
 *    look-ahead window (`floors.ts`, with `desiredFloors()` shared with the plan), then the steps (`steps.ts`),
 *    whose weight changes pass the capacity gate (`capacity-gate.ts`) and whose analysis steps run their gates.
 *
 * Rules: capacity first (floors rise and replicas are ready before a weight rises; not ready within the progress
 * deadline aborts); a weight step completes only once the router serves it; analysis measures at most once per
 * tick, and no data is inconclusive, never a failure; abort restores the stable floor first, then every canary
 * goes to 0 at once; a changed spec restarts from the first step, no canary keeping more than the new plan allows
 * there; the same tick twice changes nothing; every action is recorded in the state.
 */
import { runContinuousChecks } from './analysis';
import { applyCommand } from './commands';
import { Draft, TickContext } from './context';
import { holdMirrorFloor, prewarm, repairFloors } from './floors';
import { afterPromotion, holdAbort, runSteps } from './steps';
import { progressAfter } from '../schedule';
import { RolloutSpec } from '../spec';
import { ControllerState, Decision, Observations } from '../state';
import { abortWeights, Weights, weightsAt } from '../weights';

export { judge } from './analysis';
export { lookAheadWeights } from '../capacity';

/** Decide what to do at `now` (ms since epoch). */
export function decide(spec: RolloutSpec, previous: ControllerState | undefined, obs: Observations, now: number): Decision {
  const t = new TickContext(spec, previous, obs, now, (hash) => start(spec, previous, hash, obs, now));
  applyCommand(t);
  repairFloors(t);
  holdMirrorFloor(t);
  switch (t.s.phase) {
    case 'aborted':
      holdAbort(t);
      break;
    case 'promoted':
    case 'completed':
      afterPromotion(t);
      break;
    case 'progressing':
      if (runContinuousChecks(t) || t.s.phase !== 'progressing') break;
      prewarm(t);
      runSteps(t);
      break;
    case 'paused':
      break;
  }
  return t.result();
}

/** The state a new (or changed) spec starts from. No canary keeps more than the new plan allows at its start. */
function start(spec: RolloutSpec, previous: ControllerState | undefined, hash: string, obs: Observations, now: number): Draft {
  const allowed = weightsAt(spec, progressAfter(spec.steps, 0));
  const current = obs.routerWeights ?? previous?.weights ?? abortWeights(spec);
  const weights: Weights = { [spec.stable]: 0 };
  let canaryTotal = 0;
  for (const c of spec.canaries) {
    const w = Math.min(current[c.version] ?? 0, allowed[c.version]);
    weights[c.version] = w;
    canaryTotal += w;
  }
  weights[spec.stable] = 100 - canaryTotal;
  const known = new Set([spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : [])]);
  const floors: Record<string, number> = {};
  for (const [v, n] of Object.entries(previous?.floors ?? {})) if (known.has(v)) floors[v] = n;
  return {
    specHash: hash,
    phase: 'progressing',
    stepIndex: 0,
    stepStartedAt: now,
    weights,
    floors,
    checkFailures: 0,
    lastCommandId: previous?.lastCommandId ?? obs.command?.id,
    updatedAt: now,
  };
}
