import * as fc from 'fast-check';
import '../../support/property-seed';
import { lookAheadWeights, replicasForWeight } from '../../../src/core/capacity';
import { decide } from '../../../src/core/decide';
import { judge } from '../../../src/core/decide/analysis';
import { canonicalJson } from '../../../src/core/hash';
import { specHash } from '../../../src/core/plan/plan';
import { equalSteps, linearSteps, progressAfter } from '../../../src/core/schedule';
import { AnalysisGateSpec, MetricSpec, RolloutSpec, StepSpec } from '../../../src/core/spec';
import { ControllerState, Decision, Observations } from '../../../src/core/state';
import { weightsAt } from '../../../src/core/weights';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };

function spec(overrides: Partial<RolloutSpec> = {}): RolloutSpec {
  return rolloutSpec(overrides);
}

function obs(overrides: Partial<Observations> = {}): Observations {
  return { readyReplicas: { v1: 4, v2: 4 }, routerWeights: { v1: 100, v2: 0 }, metrics: {}, ...overrides };
}

function state(s: RolloutSpec, overrides: Partial<ControllerState> = {}): ControllerState {
  return {
    specHash: specHash(s),
    phase: 'progressing',
    stepIndex: 0,
    stepStartedAt: 0,
    weights: { v1: 100, v2: 0 },
    floors: {},
    checkFailures: 0,
    updatedAt: 0,
    ...overrides,
  };
}

describe('decide: one tick', () => {
  test('the first tick records the start and pre-warms the canary for the weights of the next 5 minutes', () => {
    const s = spec();
    const d = decide(s, undefined, obs(), 0);
    expect(d.state.phase).toBe('progressing');
    expect(d.state.stepIndex).toBe(0);
    // within 300 s the schedule reaches 50 %: ceil(50 x 4 / 100) = 2 replicas
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 2 }]);
    expect(d.wakeAt).toBe(MIN);
  });

  test('a weight step moves the route once the replicas it needs are ready', () => {
    const s = spec();
    const d = decide(s, state(s, { stepIndex: 1, stepStartedAt: MIN, floors: { v2: 2 } }), obs({ readyReplicas: { v1: 4, v2: 2 } }), MIN);
    expect(d.actions).toContainEqual({ kind: 'setWeights', weights: { v1: 90, v2: 10 } });
    // the step completes only when the router serves it
    expect(d.state.stepIndex).toBe(1);
  });

  test('a weight step waits while the canary is not ready, and the route does not move', () => {
    const s = spec();
    const d = decide(s, state(s, { stepIndex: 1, stepStartedAt: MIN, floors: { v2: 2 } }), obs({ readyReplicas: { v1: 4, v2: 0 } }), MIN);
    expect(d.actions.filter((a) => a.kind === 'setWeights')).toEqual([]);
    expect(d.state.capacityWaitSince).toBe(MIN);
    expect(d.reason).toMatch(/waiting for capacity/);
  });

  test('a canary not ready within the progress deadline aborts', () => {
    const s = spec({ progressDeadlineSeconds: 600 });
    const d = decide(s, state(s, { stepIndex: 1, floors: { v2: 2 }, capacityWaitSince: 0 }), obs({ readyReplicas: { v1: 4, v2: 0 } }), 601_000);
    expect(d.state.phase).toBe('aborted');
    expect(d.state.reason).toMatch(/not ready within the progress deadline of 600 s \(v2 0\/1 ready\)/);
  });

  test('the step completes once the router serves its weights; the next pause counts from when they were sent', () => {
    const s = spec();
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: MIN });
    const d = decide(s, prev, obs({ routerWeights: { v1: 90, v2: 10 } }), MIN + 30_000);
    expect(d.state.stepIndex).toBe(2);
    expect(d.state.stepStartedAt).toBe(MIN);
    expect(d.actions).toEqual([]);
    expect(d.wakeAt).toBe(2 * MIN);
  });

  test('weights the router did not take are sent again, once per tick', () => {
    const s = spec();
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: MIN });
    expect(decide(s, prev, obs(), MIN + 10_000).actions).toEqual([]);
    expect(decide(s, prev, obs(), 2 * MIN).actions).toEqual([{ kind: 'setWeights', weights: { v1: 90, v2: 10 } }]);
  });

  test.each([
    ['cancel', 'aborted'],
    ['pause', 'paused'],
    ['promote', 'progressing'],
  ])('the %s command moves a progressing rollout to %s', (kind, phase) => {
    const s = spec();
    const d = decide(s, state(s, { stepIndex: 5, weights: { v1: 70, v2: 30 }, floors: { v2: 2 } }),
      obs({ routerWeights: { v1: 70, v2: 30 }, command: { id: 'c1', kind: kind as any, at: 0 } }), 10 * MIN);
    expect(d.state.phase).toBe(phase);
    expect(d.state.lastCommandId).toBe('c1');
  });

  test('cancel restores the stable floor first, then sends every canary to 0 at once; the canary goes down a tick later, once the router serves it', () => {
    const s = spec();
    const d = decide(s, state(s, { stepIndex: 5, weights: { v1: 70, v2: 30 }, floors: { v2: 2 } }),
      obs({ routerWeights: { v1: 70, v2: 30 }, command: { id: 'c1', kind: 'cancel', at: 0 } }), 10 * MIN);
    expect(d.actions).toEqual([
      { kind: 'setFloor', version: 'v1', replicas: 4 },
      { kind: 'setWeights', weights: { v1: 100, v2: 0 } },
    ]);
    expect(d.state.reason).toBe('cancelled by command');
    // the gateway propagates first (scaleDownDelaySeconds, default 30 s): not before, and not while the router still sends to it
    expect(decide(s, d.state, obs({ routerWeights: { v1: 100, v2: 0 } }), 10 * MIN + 20_000).actions).toEqual([]);
    expect(decide(s, d.state, obs({ routerWeights: { v1: 70, v2: 30 } }), 11 * MIN).actions).toEqual([{ kind: 'setWeights', weights: { v1: 100, v2: 0 } }]);
    expect(decide(s, d.state, obs({ routerWeights: { v1: 100, v2: 0 } }), 11 * MIN).actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 0 }]);
  });

  test('a command is handled once', () => {
    const s = spec();
    const prev = state(s, { phase: 'paused', pauseReason: 'command', lastCommandId: 'c1' });
    const d = decide(s, prev, obs({ command: { id: 'c1', kind: 'pause', at: 0 } }), MIN);
    expect(d.state).toBe(prev);
    expect(d.actions).toEqual([]);
  });

  test('promote skips the remaining steps, still through the capacity gate', () => {
    const s = spec();
    const d = decide(s, state(s, { stepIndex: 3, weights: { v1: 80, v2: 20 }, floors: { v2: 1 } }),
      obs({ routerWeights: { v1: 80, v2: 20 }, readyReplicas: { v1: 4, v2: 1 }, command: { id: 'p', kind: 'promote', at: 0 } }), 5 * MIN);
    expect(d.state.stepIndex).toBe(s.steps.length);
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 4 }]);
  });

  test('the last step served promotes the canary and scales the previous version down after its keep-warm window', () => {
    const s = spec({ keepPreviousWarmSeconds: 600 });
    const last = state(s, { stepIndex: 19, weights: { v1: 0, v2: 100 }, floors: { v2: 4 }, weightsSetAt: 0 });
    const done = decide(s, last, obs({ routerWeights: { v1: 0, v2: 100 } }), 10 * MIN);
    expect(done.state.phase).toBe('promoted');
    expect(done.state.previousVersion).toBe('v1');
    expect(done.actions).toEqual([]);
    const early = decide(s, done.state, obs({ routerWeights: { v1: 0, v2: 100 } }), 15 * MIN);
    expect(early.actions).toEqual([]);
    expect(early.wakeAt).toBe(20 * MIN);
    const late = decide(s, early.state, obs({ routerWeights: { v1: 0, v2: 100 } }), 20 * MIN);
    expect(late.actions).toEqual([{ kind: 'scaleDown', version: 'v1' }]);
  });

  test('a changed spec restarts from the first step without more canary traffic than the new plan allows there', () => {
    const old = spec();
    const changed = spec({ steps: equalSteps(5, 1500) });
    const d = decide(changed, state(old, { stepIndex: 9, weights: { v1: 50, v2: 50 } }), obs({ routerWeights: { v1: 50, v2: 50 } }), 10 * MIN);
    expect(d.state.specHash).toBe(specHash(changed));
    expect(d.state.stepIndex).toBe(0);
    expect(d.state.weights).toEqual({ v1: 100, v2: 0 });
    // the stable version takes the traffic back: its floor first (it is ready), then the weights
    expect(d.actions.slice(-2)).toEqual([{ kind: 'setFloor', version: 'v1', replicas: 4 }, { kind: 'setWeights', weights: { v1: 100, v2: 0 } }]);
    expect(d.reason).toMatch(/spec changed/);
  });

  test('the same tick twice changes nothing', () => {
    const s = spec();
    const first = decide(s, undefined, obs(), 0);
    const second = decide(s, first.state, obs(), 0);
    expect(second.actions).toEqual([]);
    expect(second.state).toBe(first.state);
  });
});

describe('decide: analysis gates', () => {
  const gate: AnalysisGateSpec = { name: 'errors', metrics: [errorRate], intervalSeconds: 60, count: 3, failureLimit: 1, inconclusiveLimit: 2 };
  const steps: StepSpec[] = [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis', gate }, { kind: 'setWeight', weight: 100 }];
  const s = spec({ steps });
  const at20 = state(s, { stepIndex: 1, stepStartedAt: 0, weights: { v1: 80, v2: 20 }, floors: { v2: 4 } });
  const seen = (value: number | undefined, samples = 500) => obs({ routerWeights: { v1: 80, v2: 20 }, metrics: { v2: { 'error-rate': { value, samples } } } });

  test('measures first one interval after the step started', () => {
    const d = decide(s, at20, seen(0.5), 30_000);
    expect(d.state.gate).toEqual({ measurements: 0, failures: 0, inconclusive: 0 });
    expect(d.wakeAt).toBe(MIN);
  });

  test('passes after `count` good measurements', () => {
    let st: ControllerState = at20;
    for (const t of [1, 2, 3]) st = decide(s, st, seen(0.01), t * MIN).state;
    expect(st.stepIndex).toBe(2);
  });

  test('fails when failures exceed the limit, and aborts', () => {
    const first = decide(s, at20, seen(0.2), MIN);
    expect(first.state.phase).toBe('progressing');
    expect(first.verdicts).toEqual({ 'v2/error-rate': 'fail' });
    const second = decide(s, first.state, seen(0.2), 2 * MIN);
    expect(second.state.phase).toBe('aborted');
    expect(second.state.reason).toBe('analysis "errors" failed 2 times (limit 1)');
  });

  test('too few samples is inconclusive: the gate waits, then pauses for a person, never aborts', () => {
    let d = decide(s, at20, seen(0.9, 10), MIN);
    expect(d.verdicts).toEqual({ 'v2/error-rate': 'inconclusive' });
    d = decide(s, d.state, seen(0.9, 10), 2 * MIN);
    d = decide(s, d.state, seen(undefined), 3 * MIN);
    expect(d.state.phase).toBe('paused');
    expect(d.state.pauseReason).toBe('inconclusive');
  });

  test('after an hour of missed ticks, one measurement per tick: never past an unmet gate', () => {
    const d = decide(s, at20, seen(0.01), 60 * MIN);
    expect(d.state.stepIndex).toBe(1);
    expect(d.state.gate?.measurements).toBe(1);
  });
});

describe('judge', () => {
  test.each([
    ['lt passes below', { ...errorRate }, { value: 0.01, samples: 100 }, 'pass'],
    ['lt fails at the threshold', { ...errorRate }, { value: 0.05, samples: 100 }, 'fail'],
    ['lte passes at the threshold', { ...errorRate, comparison: 'lte' }, { value: 0.05, samples: 100 }, 'pass'],
    ['gt fails below', { ...errorRate, comparison: 'gt' }, { value: 0.01, samples: 100 }, 'fail'],
    ['gte passes at', { ...errorRate, comparison: 'gte' }, { value: 0.05, samples: 100 }, 'pass'],
    ['too few samples', { ...errorRate }, { value: 0.9, samples: 49 }, 'inconclusive'],
    ['no data', { ...errorRate }, {}, 'inconclusive'],
    ['Prometheus down', { ...errorRate }, { error: 'ECONNREFUSED' }, 'inconclusive'],
    ['alarm in ALARM', { provider: 'cloudwatchAlarm', name: 'a', alarmName: 'a' }, { alarmState: 'ALARM' }, 'fail'],
    ['alarm OK', { provider: 'cloudwatchAlarm', name: 'a', alarmName: 'a' }, { alarmState: 'OK' }, 'pass'],
    ['alarm without data', { provider: 'cloudwatchAlarm', name: 'a', alarmName: 'a' }, { alarmState: 'INSUFFICIENT_DATA' }, 'inconclusive'],
  ])('%s', (_name, metric, observation, verdict) => {
    expect(judge(metric as MetricSpec, observation as any)).toBe(verdict);
  });
});

describe('look-ahead', () => {
  test('covers the weights reached within the window and stops at a manual pause', () => {
    expect(lookAheadWeights(spec(), 0, 0).v2).toBe(50);
    expect(lookAheadWeights(spec({ prewarmSeconds: 60 }), 0, 0).v2).toBe(10);
    const manual = spec({ steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'pauseUntilPromoted' }, { kind: 'setWeight', weight: 100 }] });
    expect(lookAheadWeights(manual, 0, 0).v2).toBe(10);
  });
});

// ---- properties -----------------------------------------------------------------------------------------------

const schedules: fc.Arbitrary<StepSpec[]> = fc.oneof(
  fc.integer({ min: 1, max: 12 }).chain((n) => fc.integer({ min: n * 60, max: n * 300 }).map((over) => equalSteps(n, over))),
  fc.integer({ min: 5, max: 60 }).map((p) => linearSteps(p, 120)),
  fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 5 }).map((ws) => {
    const sorted = [...ws].sort((a, b) => a - b);
    const steps: StepSpec[] = [];
    for (const w of sorted) {
      steps.push({ kind: 'setWeight', weight: w });
      if (w < 100) steps.push({ kind: 'analysis', gate: { name: 'g', metrics: [errorRate], intervalSeconds: 60, count: 2, failureLimit: 1, inconclusiveLimit: 3 } });
    }
    if (sorted[sorted.length - 1] !== 100) steps.push({ kind: 'setWeight', weight: 100 });
    return steps;
  }),
);

const events = fc.array(fc.record({
  gapMs: fc.oneof(fc.constant(MIN), fc.integer({ min: 1, max: 3 * MIN }), fc.constant(60 * MIN)),
  readyExtra: fc.integer({ min: -2, max: 3 }),
  errorRate: fc.oneof(fc.constant(0.001), fc.constant(0.5), fc.constant(undefined)),
  routerTakes: fc.boolean(),
  command: fc.option(fc.constantFrom('pause', 'resume', 'promote', 'cancel'), { freq: 8 }),
}), { minLength: 1, maxLength: 40 });

test('properties: weights whole and summing to 100, within the plan, rising only with ready capacity, falling only by abort, abort at 0, no action without a state change', () => {
  fc.assert(fc.property(schedules, fc.integer({ min: 1, max: 8 }), events, (steps, replicas, evs) => {
    const s = spec({ steps, stableReplicas: replicas, checks: [errorRate] });
    let now = 0;
    let router = { v1: 100, v2: 0 };
    let st: ControllerState | undefined;
    let floor = 0;
    let n = 0;
    for (const e of evs) {
      now += e.gapMs;
      n++;
      const ready = Math.max(0, floor + e.readyExtra);
      const o = obs({
        readyReplicas: { v1: replicas, v2: ready },
        routerWeights: router,
        metrics: { v2: { 'error-rate': e.errorRate === undefined ? {} : { value: e.errorRate, samples: 1000 } } },
        command: e.command ? { id: `c${n}`, kind: e.command as any, at: now } : undefined,
      });
      const d: Decision = decide(s, st, o, now);
      const w = d.state.weights;
      // the checks return false rather than call expect() in the loop (issue 17: fast-check reports the failing
      // case and its shrunk counterexample; matchers cost more than the decisions here)
      // whole, in range, summing to 100
      if (!Object.values(w).every((x) => Number.isInteger(x) && x >= 0 && x <= 100)) return false;
      if (w.v1 + w.v2 !== 100) return false;
      // never above the plan at the state's position
      if (d.state.phase === 'progressing' || d.state.phase === 'paused') {
        if (!(w.v2 <= weightsAt(s, progressAfter(s.steps, d.state.stepIndex + 1)).v2)) return false;
      }
      // rising only with ready capacity; falling only by abort
      const before = st?.weights.v2 ?? 0;
      for (const a of d.actions) {
        if (a.kind !== 'setWeights') continue;
        if (a.weights.v2 > before && !(ready >= replicasForWeight(a.weights.v2, replicas))) return false;
        if (a.weights.v2 < before && d.state.phase !== 'aborted') return false;
      }
      if (d.state.phase === 'aborted' && w.v2 !== 0) return false;
      // no action without a state change
      if (d.actions.length > 0 && canonicalJson(d.state) === canonicalJson(st ?? null)) return false;
      // apply
      for (const a of d.actions) {
        if (a.kind === 'setWeights' && e.routerTakes) router = { v1: a.weights.v1, v2: a.weights.v2 };
        if (a.kind === 'setFloor' && a.version === 'v2') floor = a.replicas;
      }
      st = d.state;
    }
    return true;
  }), { numRuns: 1000 });
});
