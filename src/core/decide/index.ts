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
 * Rules:
 * - capacity first: before a canary's weight rises, its replica floor rises to what the new weight needs and
 *   the weight moves only once those replicas are ready; not ready within the progress deadline aborts;
 * - a weight step completes only once the router serves it (verified at the next tick);
 * - analysis steps measure once per interval, at most once per tick (after missed ticks the controller catches
 *   up one gate at a time, never past an unmet gate); too few samples or no data is inconclusive: wait, never fail;
 * - abort and cancel: the stable floor is restored first, then every canary goes to 0 at once;
 * - a changed spec (hash) restarts from the first step; no canary keeps more than the new plan allows there;
 * - look-ahead: floors rise for the weights the schedule reaches within `prewarmSeconds`, so GPU cold starts
 *   overlap the steps (only the first one delays the schedule);
 * - the same tick twice changes nothing; every action is recorded in the state.
 */
import { replicasForWeight } from '../capacity';
import { DEFAULT_PREWARM_SECONDS, TICK_SECONDS } from '../constants';
import { Action, Command, ControllerState, Phase, Decision, MetricObservation, Observations, PauseReason, Verdict } from '../state';
import { canonicalJson } from '../hash';
import { specHash } from '../plan/plan';
import { progressAfter, stepSeconds } from '../schedule';
import { MetricSpec, RolloutSpec } from '../spec';
import { abortWeights, Weights, weightsAt } from '../weights';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<ControllerState>;

const TICK_MS = TICK_SECONDS * 1000;

/** Decide what to do at `now` (ms since epoch). */
export function decide(spec: RolloutSpec, previous: ControllerState | undefined, obs: Observations, now: number): Decision {
  const hash = specHash(spec);
  const actions: Action[] = [];
  const reasons: string[] = [];
  const verdicts: Record<string, Verdict> = {};
  let wakeAt = now + TICK_MS;

  const s: Draft = previous && previous.specHash === hash
    ? { ...previous, weights: { ...previous.weights }, floors: { ...previous.floors } }
    : start(spec, previous, hash, obs, now);
  if (!previous) reasons.push('rollout started');
  else if (previous.specHash !== hash) reasons.push(`spec changed (${previous.specHash} -> ${hash}): restarting from the first step`);

  // ---- helpers over the draft ----------------------------------------------------------------------------
  const setFloor = (version: string, replicas: number) => {
    actions.push({ kind: 'setFloor', version, replicas });
    s.floors[version] = replicas;
    s.floorsSetAt = now;
  };
  const sendWeights = (weights: Weights) => {
    actions.push({ kind: 'setWeights', weights });
    s.weights = { ...weights };
    s.weightsSetAt = now;
  };
  const routerServes = (weights: Weights) =>
    !obs.routerWeights || Object.keys(weights).every((v) => (obs.routerWeights![v] ?? 0) === weights[v]);
  const abort = (reason: string) => {
    reasons.push(`abort: ${reason}`);
    if ((s.floors[spec.stable] ?? 0) < spec.stableReplicas) setFloor(spec.stable, spec.stableReplicas);
    sendWeights(abortWeights(spec));
    for (const c of spec.canaries) if ((s.floors[c.version] ?? 0) > 0) setFloor(c.version, 0);
    s.phase = 'aborted';
    s.pauseReason = undefined;
    s.reason = reason;
    s.capacityWaitSince = undefined;
    s.gate = undefined;
    s.finishedAt = now;
  };
  const pause = (why: PauseReason, reason: string) => {
    s.phase = 'paused';
    s.pauseReason = why;
    s.reason = reason;
    reasons.push(`paused: ${reason}`);
  };
  const advance = (completedAt: number) => {
    s.stepIndex += 1;
    // never backwards: a clock that goes back between ticks must not stretch or shrink a pause
    s.stepStartedAt = Math.max(completedAt, s.stepStartedAt);
    s.gate = undefined;
    s.capacityWaitSince = undefined;
  };

  /**
   * Bring the router to `desired`: raise floors and wait for ready replicas before any increase, send the
   * weights, then wait for the router to serve them. Returns true once the router serves `desired`.
   */
  const moveTo = (desired: Weights): boolean => {
    const same = Object.keys(desired).every((v) => (s.weights[v] ?? 0) === desired[v]);
    if (same) {
      if (routerServes(desired)) return true;
      if (s.weightsSetAt === undefined || now - s.weightsSetAt >= TICK_MS) {
        reasons.push('router does not serve the recorded weights yet: sending them again');
        sendWeights(desired);
      }
      return false;
    }
    const rising = spec.canaries.filter((c) => desired[c.version] > (s.weights[c.version] ?? 0));
    let waiting = false;
    for (const c of rising) {
      const need = replicasForWeight(desired[c.version], spec.stableReplicas);
      if ((s.floors[c.version] ?? 0) < need) {
        setFloor(c.version, need);
        waiting = true;
      } else if ((obs.readyReplicas[c.version] ?? 0) < need) {
        waiting = true;
      }
    }
    if (waiting) {
      s.capacityWaitSince = s.capacityWaitSince ?? now;
      const waited = now - s.capacityWaitSince;
      if (waited > spec.progressDeadlineSeconds * 1000) {
        const late = rising.map((c) => `${c.version} ${obs.readyReplicas[c.version] ?? 0}/${replicasForWeight(desired[c.version], spec.stableReplicas)} ready`).join(', ');
        abort(`canary not ready within the progress deadline of ${spec.progressDeadlineSeconds} s (${late})`);
      } else {
        reasons.push(`waiting for capacity before raising weights (${rising.map((c) => `${c.version} ${obs.readyReplicas[c.version] ?? 0}/${s.floors[c.version]} ready`).join(', ')})`);
      }
      return false;
    }
    s.capacityWaitSince = undefined;
    reasons.push(`weights ${fmt(s.weights)} -> ${fmt(desired)}`);
    sendWeights(desired);
    return false;
  };

  /** Measure `metrics` for every canary with traffic (all canaries when none has any). */
  const measure = (metrics: readonly MetricSpec[]): Verdict => {
    const live = spec.canaries.filter((c) => (s.weights[c.version] ?? 0) > 0);
    const judged = live.length > 0 ? live : spec.canaries;
    let verdict: Verdict = 'pass';
    for (const c of judged) {
      for (const m of metrics) {
        const v = judge(m, obs.metrics[c.version]?.[m.name]);
        verdicts[`${c.version}/${m.name}`] = v;
        if (v === 'fail') verdict = 'fail';
        else if (v === 'inconclusive' && verdict === 'pass') verdict = 'inconclusive';
      }
    }
    return verdict;
  };

  // ---- commands ------------------------------------------------------------------------------------------
  const command = newCommand(obs.command, s.lastCommandId);
  if (command) {
    s.lastCommandId = command.id;
    reasons.push(`command ${command.kind}`);
    const active = s.phase === 'progressing' || s.phase === 'paused';
    if (command.kind === 'cancel' && active) {
      abort('cancelled by command');
    } else if (command.kind === 'pause' && s.phase === 'progressing') {
      pause('command', 'paused by command');
    } else if (command.kind === 'resume' && s.phase === 'paused') {
      if (s.pauseReason === 'manualStep') advance(now);
      if (s.pauseReason === 'inconclusive') s.gate = undefined;
      s.phase = 'progressing';
      s.pauseReason = undefined;
      s.reason = undefined;
    } else if (command.kind === 'promote' && active) {
      s.stepIndex = spec.steps.length;
      s.stepStartedAt = now;
      s.gate = undefined;
      s.phase = 'progressing';
      s.pauseReason = undefined;
      s.reason = undefined;
    } else {
      reasons.push(`command ${command.kind} ignored in phase ${s.phase}`);
    }
  }

  // ---- repair floors the router's objects lost (a crash or an operator between ticks) ---------------------
  if (obs.floors && (s.phase === 'progressing' || s.phase === 'paused') && (s.floorsSetAt === undefined || now - s.floorsSetAt >= TICK_MS)) {
    for (const [version, floor] of Object.entries(s.floors)) {
      const seen = obs.floors[version];
      if (floor > 0 && seen !== undefined && seen < floor) {
        reasons.push(`floor of ${version} is ${seen}, recorded ${floor}: setting it again`);
        setFloor(version, floor);
      }
    }
  }
  if (spec.mirror && s.phase !== 'aborted') {
    const need = replicasForWeight(spec.mirror.percent, spec.stableReplicas);
    if ((s.floors[spec.mirror.version] ?? 0) < need) setFloor(spec.mirror.version, need);
  }

  // ---- phases --------------------------------------------------------------------------------------------
  if (s.phase === 'aborted') {
    const back = abortWeights(spec);
    if (!routerServes(back) && (s.weightsSetAt === undefined || now - s.weightsSetAt >= TICK_MS)) {
      reasons.push('aborted, but the router still sends traffic to a canary: sending the abort weights again');
      sendWeights(back);
    }
  } else if (s.phase === 'promoted' || s.phase === 'completed') {
    if (s.phase === 'promoted' && s.previousVersion && !s.previousScaledDown) {
      const due = (s.finishedAt ?? now) + spec.keepPreviousWarmSeconds * 1000;
      if (now >= due) {
        actions.push({ kind: 'scaleDown', version: s.previousVersion });
        s.previousScaledDown = true;
        reasons.push(`keep-warm window over: scaling ${s.previousVersion} down`);
      } else {
        wakeAt = due;
      }
    }
  } else if (s.phase === 'progressing') {
    // continuous checks, at most once per tick; a failing check holds the weights for this tick
    let holding = false;
    if (spec.checks.length > 0 && (s.lastCheckAt === undefined || now - s.lastCheckAt >= TICK_MS)
      && spec.canaries.some((c) => (s.weights[c.version] ?? 0) > 0)) {
      s.lastCheckAt = now;
      if (measure(spec.checks) === 'fail') {
        s.checkFailures += 1;
        holding = true;
        reasons.push(`continuous check failed (${s.checkFailures}/${spec.checkFailureLimit} tolerated): holding the weights`);
        if (s.checkFailures > spec.checkFailureLimit) abort(`continuous checks failed ${s.checkFailures} times`);
      }
    }
    // look-ahead: raise floors now for what the schedule needs soon (cold starts overlap the steps)
    if (s.phase === 'progressing' && !holding) {
      const ahead = lookAheadWeights(spec, s.stepIndex, Math.max(0, now - s.stepStartedAt) / 1000);
      for (const c of spec.canaries) {
        const need = replicasForWeight(ahead[c.version], spec.stableReplicas);
        if ((s.floors[c.version] ?? 0) < need) {
          reasons.push(`pre-warming ${c.version}: floor ${need} for ${ahead[c.version]}% within ${spec.prewarmSeconds ?? DEFAULT_PREWARM_SECONDS} s`);
          setFloor(c.version, need);
        }
      }
    }
    // the steps: as far as they go at this tick
    for (let guard = 0; s.phase === 'progressing' && !holding && guard <= spec.steps.length + 1; guard++) {
      if (s.stepIndex >= spec.steps.length) {
        if (!moveTo(weightsAt(spec, 100))) break;
        const ended: Phase = finish(spec, s, now, reasons);
        if (ended === 'promoted' && spec.keepPreviousWarmSeconds === 0) {
          actions.push({ kind: 'scaleDown', version: spec.stable });
          s.previousScaledDown = true;
        }
        break;
      }
      const step = spec.steps[s.stepIndex];
      if (step.kind === 'setWeight') {
        if (!moveTo(weightsAt(spec, step.weight))) break;
        // served since they were sent (verified only now): the next step's clock starts then
        advance(s.weightsSetAt ?? now);
        continue;
      }
      // every other step runs at the weights of the progress reached so far
      if (!moveTo(weightsAt(spec, progressAfter(spec.steps, s.stepIndex)))) break;
      if (step.kind === 'pause') {
        const end = s.stepStartedAt + step.seconds * 1000;
        if (now < end) {
          wakeAt = end;
          break;
        }
        advance(end);
        continue;
      }
      if (step.kind === 'pauseUntilPromoted') {
        pause('manualStep', `step ${s.stepIndex} waits for \`model-rollout promote\` or \`resume\``);
        break;
      }
      // analysis gate: one measurement per interval, the first one interval after the step started
      const gate = s.gate ?? { measurements: 0, failures: 0, inconclusive: 0 };
      const due = (gate.lastAt ?? s.stepStartedAt) + step.gate.intervalSeconds * 1000;
      if (now < due) {
        s.gate = gate;
        wakeAt = due;
        break;
      }
      const verdict = measure(step.gate.metrics);
      const next = {
        measurements: gate.measurements + (verdict === 'inconclusive' ? 0 : 1),
        failures: gate.failures + (verdict === 'fail' ? 1 : 0),
        inconclusive: gate.inconclusive + (verdict === 'inconclusive' ? 1 : 0),
        lastAt: now,
      };
      s.gate = next;
      reasons.push(`analysis "${step.gate.name}": ${verdict} (${next.measurements}/${step.gate.count} measured, ${next.failures} failed, ${next.inconclusive} inconclusive)`);
      if (next.failures > step.gate.failureLimit) {
        abort(`analysis "${step.gate.name}" failed ${next.failures} times (limit ${step.gate.failureLimit})`);
      } else if (next.inconclusive > step.gate.inconclusiveLimit) {
        pause('inconclusive', `analysis "${step.gate.name}" had no conclusive data ${next.inconclusive} times: resume to measure again, or cancel`);
      } else if (next.measurements >= step.gate.count) {
        advance(now);
        continue;
      } else {
        wakeAt = now + step.gate.intervalSeconds * 1000;
      }
      break;
    }
  }

  s.updatedAt = now;
  const changed = actions.length > 0 || !previous || !sameState(previous, s);
  return {
    state: changed ? s : previous!,
    actions,
    wakeAt,
    reason: reasons.join('; ') || describeIdle(spec, s),
    verdicts,
  };
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

/**
 * The highest weights the schedule reaches from step `index` (already `elapsed` seconds into it) within the
 * look-ahead window. A manual pause ends the look-ahead: nobody knows when it is released.
 */
export function lookAheadWeights(spec: RolloutSpec, index: number, elapsed: number): Weights {
  const window = spec.prewarmSeconds ?? DEFAULT_PREWARM_SECONDS;
  let progress = progressAfter(spec.steps, index);
  let t = -elapsed;
  for (let i = index; i < spec.steps.length && t <= window; i++) {
    const step = spec.steps[i];
    if (step.kind === 'setWeight') progress = Math.max(progress, step.weight);
    if (step.kind === 'pauseUntilPromoted') break;
    t += stepSeconds(step);
  }
  return weightsAt(spec, progress);
}

/** Every step done and the final weights served. */
function finish(spec: RolloutSpec, s: Draft, now: number, reasons: string[]): Phase {
  const single = spec.canaries.length === 1 && spec.canaries[0].ramp && spec.canaries[0].targetWeight === 100;
  s.phase = single ? 'promoted' : 'completed';
  s.finishedAt = now;
  s.gate = undefined;
  s.capacityWaitSince = undefined;
  if (single) {
    s.previousVersion = spec.stable;
    s.previousScaledDown = false;
    reasons.push(`promoted: ${spec.canaries[0].version} is the stable version`);
  } else {
    reasons.push('completed: the canaries hold their final weights');
  }
  return s.phase;
}

/** Verdict of one measurement. No data, an error, or too few samples are inconclusive, never a failure. */
export function judge(metric: MetricSpec, m: MetricObservation | undefined): Verdict {
  if (!m || m.error) return 'inconclusive';
  if (metric.provider === 'cloudwatchAlarm') {
    if (m.alarmState === 'ALARM') return 'fail';
    return m.alarmState === 'OK' ? 'pass' : 'inconclusive';
  }
  if (m.value === undefined || Number.isNaN(m.value)) return 'inconclusive';
  if (metric.minSamples && (m.samples === undefined || m.samples < metric.minSamples)) return 'inconclusive';
  switch (metric.comparison) {
    case 'lt': return m.value < metric.threshold ? 'pass' : 'fail';
    case 'lte': return m.value <= metric.threshold ? 'pass' : 'fail';
    case 'gt': return m.value > metric.threshold ? 'pass' : 'fail';
    case 'gte': return m.value >= metric.threshold ? 'pass' : 'fail';
  }
}

function newCommand(command: Command | undefined, lastId: string | undefined): Command | undefined {
  return command && command.id !== lastId ? command : undefined;
}

function sameState(a: ControllerState, b: ControllerState): boolean {
  return canonicalJson({ ...a, updatedAt: 0 }) === canonicalJson({ ...b, updatedAt: 0 });
}

function describeIdle(spec: RolloutSpec, s: ControllerState): string {
  if (s.phase === 'progressing') return `step ${s.stepIndex}/${spec.steps.length} in progress`;
  return `${s.phase}${s.reason ? `: ${s.reason}` : ''}`;
}

function fmt(w: Weights): string {
  return Object.entries(w).map(([v, n]) => `${v}=${n}`).join(',');
}
