/**
 * The schedule: as many steps as can complete at this tick, then the end of the rollout (promotion or a held
 * split), and what follows it (the previous version's keep-warm window, re-sending the abort weights).
 */
import { runGate } from './analysis';
import { moveTo, sameWeights } from './capacity-gate';
import { TickContext } from './context';
import { canaryFits } from './floors';
import { windowHolds } from './windows';
import { progressAfter } from '../schedule';
import { requestsToClimb, sprtBounds } from '../sequential';
import { SequentialTestSpec } from '../spec';
import { Phase, ShadowRoute } from '../state';
import { abortWeights, Weights, weightsAt } from '../weights';

/** Run the steps as far as they go at this tick. */
export function runSteps(t: TickContext): void {
  const { spec, s, now } = t;
  for (let guard = 0; s.phase === 'progressing' && guard <= spec.steps.length + 1; guard++) {
    if (s.stepIndex >= spec.steps.length) {
      if (raises(t, 100) && windowHolds(t, 'the last step to the final weights')) break;
      if (!moveTo(t, weightsAt(spec, 100))) break;
      finish(t);
      break;
    }
    const step = spec.steps[s.stepIndex];
    if (step.kind === 'setWeight') {
      if (raises(t, step.weight) && windowHolds(t, `step ${s.stepIndex} (${step.weight} %)`)) break;
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
    if (step.kind === 'shadow') {
      const want = t.desiredShadow();
      if (want && !t.routerShadows(want)) {
        // the copies' replicas first (moveTo above sends the mirror with the weights once they are ready)
        if (!shadowCapacity(t, want)) break;
        if (!moveTo(t, weightsAt(spec, progressAfter(spec.steps, s.stepIndex)))) break;
      }
      // the step's clock starts once the mirror is served
      s.shadowFrom = s.shadowFrom ?? now;
      const end = s.shadowFrom + step.maxSeconds * 1000;
      const verdict = shadowVerdict(t);
      if (verdict === undefined && now < end) {
        t.wakeAt = Math.min(t.wakeAt, end);
        break;
      }
      t.reasons.push(verdict ?? `shadow step: no verdict within ${step.maxSeconds} s of mirroring: the ramp goes on, the checks keep judging`);
      t.advance(now);
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

/** Whether moving to `progress` raises a canary's share above what the router was last sent. */
function raises(t: TickContext, progress: number): boolean {
  const want = weightsAt(t.spec, progress);
  return t.spec.canaries.some((c) => (want[c.version] ?? 0) > (t.s.weights[c.version] ?? 0));
}

/**
 * The canary's replicas for a shadow step's copies: raised, then waited for (toward the progress deadline, like a
 * weight step's). Returns true once they are ready. In surge mode, copies that do not fit the GPU budget skip the
 * step: the ramp then judges the canary on the requests it answers, as without the step (never a rollout stuck, or
 * aborted, for a safety net it cannot have).
 */
function shadowCapacity(t: TickContext, want: ShadowRoute): boolean {
  const { spec, s, now } = t;
  const need = t.shadowNeed(want);
  const fits = canaryFits(t, want.version);
  if (fits < need) {
    t.reasons.push(`shadow step skipped: ${need} replicas of ${want.version} for the copies do not fit the GPU budget (${fits} do); the ramp goes on`);
    t.advance(now);
    return false;
  }
  t.ensureFloor(want.version, need);
  if (t.ready(want.version) >= need) return true;
  s.capacityWaitSince = s.capacityWaitSince ?? now;
  if (now - s.capacityWaitSince > spec.progressDeadlineSeconds * 1000) {
    t.abort(`not ready within the progress deadline of ${spec.progressDeadlineSeconds} s (${want.version} ${t.ready(want.version)}/${need} ready for the shadow step's copies)`);
    return false;
  }
  t.reasons.push(`waiting for capacity before mirroring (${want.version} ${t.ready(want.version)}/${need} ready)`);
  return false;
}

/**
 * Why the shadow step is done at this tick, if it is: every sequential test of the continuous checks (the presets'
 * error test) passed on the mirrored requests at this tick, and no check failed. Without a sequential test there is
 * no early verdict: the step mirrors for its whole `maxSeconds`.
 */
function shadowVerdict(t: TickContext): string | undefined {
  const { spec } = t;
  const tests = spec.checks.filter((m) => m.provider === 'prometheus' && m.sequential);
  if (tests.length === 0) return undefined;
  const keys = spec.canaries.flatMap((c) => tests.map((m) => ({ key: `${c.version}/${m.name}`, test: (m as { sequential: SequentialTestSpec }).sequential })));
  // the test's own verdict (its LLR at the pass bound), not the metric's: a metric whose test still collects
  // evidence reports its absolute ceiling's verdict (`judgeMetric`), which passes long before the test can
  const passed = ({ key, test }: { key: string; test: SequentialTestSpec }) => {
    const st = t.s.sequential?.[key];
    return st !== undefined && !st.failed && st.canary.requests > 0 && st.llr <= sprtBounds(test.falseAbortRate, test.missRate).lower;
  };
  if (!keys.every(passed) || Object.values(t.verdicts).some((v) => v === 'fail')) return undefined;
  // more evidence after the first pass, the test still passing at the end: as many copies again, and at least as
  // many as a canary at H1 needs on average to climb from the pass bound to the fail bound (`requestsToClimb`). A
  // canary somewhat worse than H1 reaches the pass bound by chance about once in 10 (its miss rate) but rarely stays
  // there that long, and copies cost no user anything (bench/rollout-sim: a 2 % canary at 50 requests/s escaped
  // the step in 7 of 1,000 runs with "as many copies again" alone, in 1 with the baseline's lower confidence bound
  // added (core/sequential.ts `lowerBound`), in none with this as well)
  const copies = keys.reduce((n, k) => n + (t.s.sequential?.[k.key]?.canary.requests ?? 0), 0);
  t.s.shadowPassCopies = t.s.shadowPassCopies ?? copies;
  const climb = Math.max(...keys.map((k) => requestsToClimb(k.test, t.s.sequential![k.key].stable, t.s.sequential![k.key].spread)));
  const until = t.s.shadowPassCopies + Math.max(t.s.shadowPassCopies, climb);
  if (copies < until) {
    t.reasons.push(`shadow step: the error test passed after ${t.s.shadowPassCopies} copies; mirroring until ${until} (${copies} so far)`);
    return undefined;
  }
  return `shadow step: the sequential test passed on ${copies} mirrored requests (${keys.map((k) => k.key).join(', ')}): the ramp starts`;
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
    // the promoted canary serves the environment from now on: spec changes and cancels start from it
    s.servingVersion = spec.canaries[0].version;
    s.previousVersion = spec.stable;
    s.previousScaledDown = false;
    s.lowering = { ...(s.lowering ?? {}), [spec.stable]: now + spec.keepPreviousWarmSeconds * 1000 };
    t.reasons.push(`promoted: ${spec.canaries[0].version} is the stable version`);
  } else {
    t.reasons.push('completed: the canaries hold their final weights');
  }
  return s.phase;
}

/**
 * Aborted: the router must keep serving the abort weights; send them again once per tick while it does not. When it
 * serves them and the state still records other weights, the state takes them: an abort held because stable had
 * no ready replica, whose earlier write had been lost, finds the router already back at 100/0 and sends nothing
 * (otherwise the state would record the canary's last weight for good, and its status and floors with it).
 */
export function holdAbort(t: TickContext): void {
  const back = abortWeights(t.spec);
  if (t.routerServes(back)) {
    if (!sameWeights(t.s.weights, back)) {
      t.reasons.push('the router serves the abort weights: recorded');
      t.s.weights = back;
    }
    return;
  }
  if (!t.tickSince(t.s.weightsSetAt)) return;
  t.reasons.push('aborted, but the router does not serve the abort weights: sending them again');
  t.sendAbortWeights();
}

/**
 * Promoted or completed: the router must keep serving the final weights the state records; repaired toward the
 * state through the capacity gate (a version that lost its replicas does not get traffic back blindly).
 */
export function holdFinal(t: TickContext, holdCanaries = false): void {
  if (!t.routerServes(t.s.weights)) moveTo(t, t.s.weights, { deadline: false, holdCanaries });
}

/**
 * Paused: no step moves, but the router must serve what the state records, and nothing above what the plan
 * allows at this step (after a spec change, the weights served at the restart come down to the plan here too).
 * Through the capacity gate; paused time never counts toward the progress deadline.
 */
export function holdPaused(t: TickContext, holdCanaries = false): void {
  const { spec, s } = t;
  const allowed = weightsAt(spec, s.stepIndex >= spec.steps.length ? 100 : progressAfter(spec.steps, s.stepIndex + 1));
  const desired: Weights = { [spec.stable]: 0 };
  let total = 0;
  for (const c of spec.canaries) {
    desired[c.version] = Math.min(s.weights[c.version] ?? 0, allowed[c.version]);
    total += desired[c.version];
  }
  desired[spec.stable] = 100 - total;
  const target = sameWeights(desired, s.weights) ? s.weights : desired;
  if (!sameWeights(target, s.weights) || !t.routerServes(target)) moveTo(t, target, { deadline: false, holdCanaries });
}
