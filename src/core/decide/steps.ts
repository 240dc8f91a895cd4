/**
 * The schedule: as many steps as can complete at this tick, then the end of the rollout (promotion or a held
 * split), and what follows it (the previous version's keep-warm window, re-sending the abort weights).
 */
import { runGate } from './analysis';
import { moveTo } from './capacity-gate';
import { TickContext } from './context';
import { progressAfter } from '../schedule';
import { Phase } from '../state';
import { abortWeights, weightsAt } from '../weights';

/** Run the steps as far as they go at this tick. */
export function runSteps(t: TickContext): void {
  const { spec, s, now } = t;
  for (let guard = 0; s.phase === 'progressing' && guard <= spec.steps.length + 1; guard++) {
    if (s.stepIndex >= spec.steps.length) {
      if (!moveTo(t, weightsAt(spec, 100))) break;
      if (finish(t) === 'promoted' && spec.keepPreviousWarmSeconds === 0) {
        t.actions.push({ kind: 'scaleDown', version: spec.stable });
        s.previousScaledDown = true;
      }
      break;
    }
    const step = spec.steps[s.stepIndex];
    if (step.kind === 'setWeight') {
      if (!moveTo(t, weightsAt(spec, step.weight))) break;
      // served since they were sent (verified only now): the next step's clock starts then
      t.advance(s.weightsSetAt ?? now);
      continue;
    }
    // every other step runs at the weights of the progress reached so far
    if (!moveTo(t, weightsAt(spec, progressAfter(spec.steps, s.stepIndex)))) break;
    if (step.kind === 'pause') {
      const end = s.stepStartedAt + step.seconds * 1000;
      if (now < end) {
        t.wakeAt = end;
        break;
      }
      t.advance(end);
      continue;
    }
    if (step.kind === 'pauseUntilPromoted') {
      t.pause('manualStep', `step ${s.stepIndex} waits for \`model-rollout promote\` or \`resume\``);
      break;
    }
    if (!runGate(t, step.gate)) break;
    t.advance(now);
  }
}

/** Every step done and the final weights served: promoted (one canary at 100 %) or completed (a held split). */
function finish(t: TickContext): Phase {
  const { spec, s, now } = t;
  const single = spec.canaries.length === 1 && spec.canaries[0].ramp && spec.canaries[0].targetWeight === 100;
  s.phase = single ? 'promoted' : 'completed';
  s.finishedAt = now;
  s.gate = undefined;
  s.capacityWaitSince = undefined;
  if (single) {
    s.previousVersion = spec.stable;
    s.previousScaledDown = false;
    t.reasons.push(`promoted: ${spec.canaries[0].version} is the stable version`);
  } else {
    t.reasons.push('completed: the canaries hold their final weights');
  }
  return s.phase;
}

/** Aborted: the router must keep serving the abort weights; send them again once per tick while it does not. */
export function holdAbort(t: TickContext): void {
  const back = abortWeights(t.spec);
  if (!t.routerServes(back) && t.tickSince(t.s.weightsSetAt)) {
    t.reasons.push('aborted, but the router still sends traffic to a canary: sending the abort weights again');
    t.sendWeights(back);
  }
}

/** Promoted: the previous version is scaled down once its keep-warm window is over. */
export function afterPromotion(t: TickContext): void {
  const { spec, s, now } = t;
  if (s.phase !== 'promoted' || !s.previousVersion || s.previousScaledDown) return;
  const due = (s.finishedAt ?? now) + spec.keepPreviousWarmSeconds * 1000;
  if (now >= due) {
    t.actions.push({ kind: 'scaleDown', version: s.previousVersion });
    s.previousScaledDown = true;
    t.reasons.push(`keep-warm window over: scaling ${s.previousVersion} down`);
  } else {
    t.wakeAt = due;
  }
}
