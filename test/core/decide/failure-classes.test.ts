/**
 * One test per class of failure found under adversarial testing of `decide()` (the numbering), each
 * failing on the engine before the fix. The observations are what the router and the workloads really show.
 */
import { decide } from '../../../src/core/decide';
import { judge } from '../../../src/core/decide/analysis';
import { specHash } from '../../../src/core/plan/plan';
import { AnalysisGateSpec, MetricSpec, RolloutSpec, StepSpec } from '../../../src/core/spec';
import { Action, ControllerState, Observations } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };
const UNKNOWN = '(unknown backend)';

function obs(overrides: Partial<Observations> = {}): Observations {
  return { readyReplicas: { v1: 4, v2: 4 }, routerWeights: { v1: 100, v2: 0 }, metrics: {}, ...overrides };
}

function state(s: RolloutSpec, overrides: Partial<ControllerState> = {}): ControllerState {
  return { specHash: specHash(s), phase: 'progressing', stepIndex: 0, stepStartedAt: 0, weights: { v1: 100, v2: 0 }, floors: {}, checkFailures: 0, updatedAt: 0, ...overrides };
}

const sends = (actions: readonly Action[]) => actions.filter((a): a is Extract<Action, { kind: 'setWeights' }> => a.kind === 'setWeights').map((a) => a.weights);

/** A promoted rollout: v2 serves 100 %, v1 (the previous stable) was scaled to zero. */
function promoted(s: RolloutSpec): ControllerState {
  return state(s, {
    phase: 'promoted',
    stepIndex: s.steps.length,
    weights: { v1: 0, v2: 100 },
    floors: { v1: 0, v2: 4 },
    weightsSetAt: 0,
    finishedAt: MIN,
    previousVersion: 'v1',
    previousScaledDown: true,
  });
}
const afterPromotion = obs({ readyReplicas: { v1: 0, v2: 4 }, routerWeights: { v1: 0, v2: 100 }, floors: { v1: 0, v2: 4 } });

describe('class 1: cancel after promotion', () => {
  test('class 1: a cancel after promotion never sends traffic to the scaled-down previous version', () => {
    const s = rolloutSpec();
    const d = decide(s, promoted(s), { ...afterPromotion, commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }] }, 30 * MIN);
    expect(sends(d.actions)).toEqual([]);
    expect(d.state.phase).toBe('promoted');
    expect(d.reason).toMatch(/cancel ignored: the rollout is promoted/);
  });

  test('class 1: after promotion the router is compared with the state at every tick and repaired toward it', () => {
    const s = rolloutSpec();
    // someone (an old CLI) moved the route back to v1 behind the controller's back
    const d = decide(s, promoted(s), { ...afterPromotion, routerWeights: { v1: 100, v2: 0 } }, 30 * MIN);
    expect(sends(d.actions)).toEqual([{ v1: 0, v2: 100 }]);
  });

  test('class 1: a cancel after completion rolls back through the state, so route and state agree', () => {
    const s = rolloutSpec({ canaries: [{ version: 'v2', targetWeight: 20, ramp: false }] });
    const done = state(s, { phase: 'completed', stepIndex: s.steps.length, weights: { v1: 80, v2: 20 }, floors: { v2: 1 }, weightsSetAt: 0 });
    const d = decide(s, done, obs({ routerWeights: { v1: 80, v2: 20 }, commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }] }), 30 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
    expect(d.state.weights).toEqual({ v1: 100, v2: 0 });
  });
});

describe('class 2: spec change after promotion', () => {
  test.each([
    ['a threshold', { checks: [{ ...errorRate, threshold: 0.01 }] }],
    ['the steps', { steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'setWeight', weight: 100 }] as StepSpec[] }],
    ['stableReplicas (the environment minReplicas)', { stableReplicas: 6 }],
  ])('class 2: changing %s after promotion sends nothing to the scaled-down previous version', (_what, change) => {
    const s = rolloutSpec();
    const d = decide({ ...s, ...change }, promoted(s), afterPromotion, 30 * MIN);
    expect(sends(d.actions)).toEqual([]);
    expect(d.state.phase).toBe('promoted');
    expect(d.state.servingVersion).toBe('v2');
  });

  test('class 2: a replaced canary after promotion moves traffic back to the stable only once it has ready replicas', () => {
    const s = rolloutSpec();
    const next = rolloutSpec({ canaries: [{ version: 'v3', targetWeight: 100, ramp: true }], versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }] });
    const seen = { ...afterPromotion, readyReplicas: { v1: 0, v2: 4, v3: 0 } };
    const d = decide(next, promoted(s), seen, 30 * MIN);
    expect(sends(d.actions)).toEqual([]);
    expect(d.actions).toContainEqual({ kind: 'setFloor', version: 'v1', replicas: 4 });
    expect(d.reason).toMatch(/waiting for capacity/);
    // v1 ready: now the traffic goes back, and v2 is not scaled down while it still serves
    const later = decide(next, d.state, { ...seen, readyReplicas: { v1: 4, v2: 4, v3: 0 } }, 32 * MIN);
    expect(sends(later.actions)).toEqual([{ v1: 100, v3: 0 }]);
    expect(later.actions.filter((a) => a.kind !== 'setWeights' && a.version === 'v2')).toEqual([]);
  });
});

describe('class 3: a replaced or removed canary on the route', () => {
  test('class 3: a backend outside the target is not "served": the step waits and the weights are sent again', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: MIN });
    const d = decide(s, prev, obs({ routerWeights: { v1: 70, v2: 0, [UNKNOWN]: 30 } }), 3 * MIN);
    expect(d.state.stepIndex).toBe(1);
    expect(sends(d.actions)).toEqual([{ v1: 90, v2: 10 }]);
  });

  test('class 3: a route that cannot be read is not "served" either', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: MIN });
    const d = decide(s, prev, obs({ routerWeights: undefined }), 3 * MIN);
    expect(d.state.stepIndex).toBe(1);
  });

  test('class 3: behind pauseUntilPromoted, a removed canary still on the route is taken off', () => {
    const s = rolloutSpec({ steps: [{ kind: 'setWeight', weight: 30 }, { kind: 'pauseUntilPromoted' }, { kind: 'setWeight', weight: 100 }] });
    const paused = state(s, { phase: 'paused', pauseReason: 'manualStep', stepIndex: 1, weights: { v1: 70, v2: 30 }, floors: { v2: 2 }, weightsSetAt: MIN });
    const d = decide(s, paused, obs({ routerWeights: { v1: 70, v2: 0, v9: 30 } }), 5 * MIN);
    expect(sends(d.actions)).toEqual([{ v1: 70, v2: 30 }]);
  });
});

describe('class 5: commands are not dropped', () => {
  test('class 5: a command recorded before the first tick is handled', () => {
    const d = decide(rolloutSpec(), undefined, obs({ commands: [{ id: 'p', kind: 'pause', at: 0, seq: 1 }] }), 0);
    expect(d.state.phase).toBe('paused');
  });

  test('class 5: a legacy single command recorded before the first tick is handled', () => {
    const d = decide(rolloutSpec(), undefined, obs({ command: { id: 'p', kind: 'pause', at: 0 } }), 0);
    expect(d.state.phase).toBe('paused');
  });

  test('class 5: a command arriving with a spec change is handled', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 3, weights: { v1: 80, v2: 20 }, floors: { v2: 2 } });
    const d = decide(rolloutSpec({ checkFailureLimit: 3 }), prev, obs({ routerWeights: { v1: 80, v2: 20 }, command: { id: 'c', kind: 'cancel', at: 0 } }), 5 * MIN);
    expect(d.state.phase).toBe('aborted');
  });

  test('class 5: cancel then pause: both handled in order, the cancel wins', () => {
    const s = rolloutSpec();
    const d = decide(s, state(s, { stepIndex: 3, weights: { v1: 80, v2: 20 }, floors: { v2: 2 } }), obs({
      routerWeights: { v1: 80, v2: 20 },
      commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }, { id: 'p', kind: 'pause', at: 1, seq: 2 }, { id: 'r', kind: 'resume', at: 2, seq: 3 }],
    }), 5 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(d.state.commandSeq).toBe(3);
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
  });
});

describe('class 6: failed or forgotten scale-downs and floors are repaired', () => {
  test('class 6: a failed scale-down after promotion is found and repaired', () => {
    const s = rolloutSpec();
    const d = decide(s, promoted(s), { ...afterPromotion, floors: { v1: 4, v2: 4 } }, 30 * MIN);
    expect(d.actions).toEqual([{ kind: 'scaleDown', version: 'v1' }]);
  });

  test('class 6: a lost floor is repaired after promotion too', () => {
    const s = rolloutSpec();
    const d = decide(s, promoted(s), { ...afterPromotion, floors: { v1: 0, v2: 1 } }, 30 * MIN);
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 4 }]);
  });

  test('class 6: a deploy during the keep-warm window still scales the previous version down', () => {
    const s = rolloutSpec({ keepPreviousWarmSeconds: 3600 });
    const warm = { ...promoted(s), floors: { v1: 4, v2: 4 }, previousScaledDown: false, lowering: { v1: MIN + 3600_000 } };
    const next = rolloutSpec({ stable: 'v2', canaries: [{ version: 'v3', targetWeight: 100, ramp: true }], versions: [{ name: 'v2', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }] });
    const seen = obs({ readyReplicas: { v1: 4, v2: 4, v3: 0 }, routerWeights: { v2: 100, v3: 0 }, floors: { v1: 4, v2: 4, v3: 0 } });
    const deployed = decide(next, warm, seen, 5 * MIN);
    // still warm: the keep-warm window is honoured across the deploy
    expect(deployed.actions.filter((a) => a.kind !== 'setWeights' && a.version === 'v1')).toEqual([]);
    expect(deployed.state.lowering?.v1).toBe(MIN + 3600_000);
    const due = decide(next, { ...deployed.state, capacityWaitSince: undefined }, seen, MIN + 3600_000);
    expect(due.actions).toContainEqual({ kind: 'scaleDown', version: 'v1' });
  });

  test('class 6: a replaced canary gives its raised floor back once the route no longer sends to it', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 5, weights: { v1: 70, v2: 30 }, floors: { v2: 2 }, weightsSetAt: 0 });
    const next = rolloutSpec({ canaries: [{ version: 'v3', targetWeight: 100, ramp: true }], versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }] });
    const ready = { v1: 4, v2: 2, v3: 0 };
    const floors = { v1: 4, v2: 2, v3: 0 };
    const first = decide(next, prev, obs({ readyReplicas: ready, routerWeights: { v1: 70, v2: 30 }, floors }), 10 * MIN);
    expect(sends(first.actions)).toEqual([{ v1: 100, v3: 0 }]);
    expect(first.actions).not.toContainEqual({ kind: 'setFloor', version: 'v2', replicas: 0 });
    const later = decide(next, first.state, obs({ readyReplicas: ready, routerWeights: { v1: 100, v3: 0 }, floors: { ...floors, v3: 2 } }), 11 * MIN);
    expect(later.actions).toContainEqual({ kind: 'setFloor', version: 'v2', replicas: 0 });
  });

  test('class 6: a removed mirror gives its floor back', () => {
    const s = rolloutSpec({ mirror: { version: 'shadow', percent: 50 } });
    const prev = state(s, { stepIndex: 5, weights: { v1: 70, v2: 30 }, floors: { v2: 2, shadow: 2 }, weightsSetAt: 0 });
    const next = rolloutSpec({ steps: [{ kind: 'pause', seconds: 3600 }, { kind: 'setWeight', weight: 100 }] });
    const first = decide(next, prev, obs({ routerWeights: { v1: 70, v2: 30 }, floors: { v1: 4, v2: 2, shadow: 2 } }), 10 * MIN);
    // not in the tick that changes the route (the mirror filter goes with it)
    expect(first.actions).not.toContainEqual({ kind: 'setFloor', version: 'shadow', replicas: 0 });
    const later = decide(next, first.state, obs({ routerWeights: first.state.weights, floors: { v1: 4, v2: 2, shadow: 2 } }), 11 * MIN);
    expect(later.actions).toContainEqual({ kind: 'setFloor', version: 'shadow', replicas: 0 });
  });
});

describe('class 7: resends pass the capacity gate', () => {
  test('class 7: after a failed route write and a node loss, the resend waits for ready replicas', () => {
    const s = rolloutSpec();
    // 30 % was recorded as sent, the write failed (router at 20 %), then the canary lost its nodes
    const prev = state(s, { stepIndex: 5, weights: { v1: 70, v2: 30 }, floors: { v2: 2 }, weightsSetAt: 5 * MIN });
    const d = decide(s, prev, obs({ readyReplicas: { v1: 4, v2: 0 }, routerWeights: { v1: 80, v2: 20 } }), 6 * MIN);
    expect(sends(d.actions)).toEqual([]);
    expect(d.reason).toMatch(/waiting for capacity/);
  });
});

describe('class 8: continuous checks at every tick that could raise a weight', () => {
  const s = rolloutSpec({ checks: [errorRate], checkFailureLimit: 5 });
  const failing = (router: Record<string, number>) => obs({ routerWeights: router, metrics: { v2: { 'error-rate': { value: 0.5, samples: 1000 } } } });

  test('class 8: a tick 58 s after a failing check (CronJob jitter) does not raise the weight', () => {
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: 0 });
    const first = decide(s, prev, failing({ v1: 90, v2: 10 }), MIN);
    expect(sends(first.actions)).toEqual([]);
    const second = decide(s, first.state, failing({ v1: 90, v2: 10 }), MIN + 58_000);
    expect(sends(second.actions)).toEqual([]);
    expect(second.state.checkFailures).toBe(2);
  });

  test('class 8: a retried tick with the same inputs is idempotent: no weight rise, no double count', () => {
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: 0 });
    const first = decide(s, prev, failing({ v1: 90, v2: 10 }), MIN);
    const retry = decide(s, first.state, failing({ v1: 90, v2: 10 }), MIN);
    expect(retry.actions).toEqual([]);
    expect(retry.state.checkFailures).toBe(1);
  });

  test('class 8: no data after a failure is no all-clear: the weights hold until a pass', () => {
    const prev = state(s, { stepIndex: 1, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, weightsSetAt: 0 });
    const first = decide(s, prev, failing({ v1: 90, v2: 10 }), MIN);
    const nodata = decide(s, first.state, obs({ routerWeights: { v1: 90, v2: 10 }, metrics: { v2: { 'error-rate': {} } } }), 2 * MIN);
    expect(sends(nodata.actions)).toEqual([]);
  });
});

describe('class 9: NaN sample counts', () => {
  test('class 9: NaN samples (scalar() of an empty vector) are below any minimum: inconclusive, never a failure', () => {
    expect(judge(errorRate, { value: 1, samples: NaN })).toBe('inconclusive');
    expect(judge(errorRate, { value: NaN, samples: 1000 })).toBe('inconclusive');
  });
});

describe('class 10: resuming from an inconclusive pause', () => {
  test('class 10: resuming keeps the gate\'s failures: 2 failures against a limit of 1 abort', () => {
    const gate: AnalysisGateSpec = { name: 'g', metrics: [errorRate], intervalSeconds: 60, count: 5, failureLimit: 1, inconclusiveLimit: 0 };
    const s = rolloutSpec({ steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis', gate }, { kind: 'setWeight', weight: 100 }] });
    const router = { v1: 80, v2: 20 };
    const m = (value?: number) => obs({ routerWeights: router, metrics: { v2: { 'error-rate': value === undefined ? {} : { value, samples: 1000 } } } });
    let st: ControllerState = state(s, { stepIndex: 1, weights: router, floors: { v2: 1 } });
    st = decide(s, st, m(0.5), MIN).state; // 1 failure
    st = decide(s, st, m(undefined), 2 * MIN).state; // inconclusive: paused
    expect(st.phase).toBe('paused');
    st = decide(s, st, { ...m(undefined), commands: [{ id: 'r', kind: 'resume', at: 0, seq: 1 }] }, 3 * MIN).state;
    st = decide(s, st, m(0.5), 4 * MIN).state; // 2 failures > limit 1
    expect(st.phase).toBe('aborted');
  });
});

describe('class 11: state and route agree after a spec change', () => {
  test('class 11: clamped weights are sent when the rollout is paused in the same tick', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 9, weights: { v1: 50, v2: 50 }, floors: { v2: 2 } });
    const d = decide(rolloutSpec({ checkFailureLimit: 2 }), prev, obs({ routerWeights: { v1: 50, v2: 50 }, commands: [{ id: 'p', kind: 'pause', at: 0, seq: 1 }] }), 10 * MIN);
    expect(d.state.phase).toBe('paused');
    expect(sends(d.actions)).toEqual([d.state.weights]);
    expect(d.state.weights.v2).toBeLessThan(50);
  });

  test('class 11: when the new first step rises but waits for capacity, the state records what the router serves', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 9, weights: { v1: 50, v2: 50 }, floors: { v2: 2 } });
    const next = rolloutSpec({ steps: [{ kind: 'setWeight', weight: 80 }, { kind: 'setWeight', weight: 100 }] });
    const d = decide(next, prev, obs({ readyReplicas: { v1: 4, v2: 2 }, routerWeights: { v1: 50, v2: 50 } }), 10 * MIN);
    expect(sends(d.actions)).toEqual([]);
    expect(d.state.weights).toEqual({ v1: 50, v2: 50 });
  });
});

describe('class 12: progress deadline and floors on abort', () => {
  test('class 12: time paused does not count toward the progress deadline', () => {
    const s = rolloutSpec({ progressDeadlineSeconds: 600 });
    const waiting = state(s, { phase: 'paused', pauseReason: 'command', pausedAt: 2 * MIN, stepIndex: 1, floors: { v2: 2 }, capacityWaitSince: 0 });
    const d = decide(s, waiting, obs({ readyReplicas: { v1: 4, v2: 0 }, commands: [{ id: 'r', kind: 'resume', at: 0, seq: 1 }] }), 60 * MIN);
    expect(d.state.phase).toBe('progressing');
    expect(d.reason).toMatch(/waiting for capacity/);
  });

  test('class 12: abort never lowers a stable floor the autoscaler raised', () => {
    const s = rolloutSpec();
    const d = decide(s, state(s, { stepIndex: 5, weights: { v1: 70, v2: 30 }, floors: { v2: 2 } }),
      obs({ routerWeights: { v1: 70, v2: 30 }, floors: { v1: 8, v2: 2 }, commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }] }), 10 * MIN);
    expect(d.actions.filter((a) => a.kind === 'setFloor' && a.version === 'v1')).toEqual([]);
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
  });
});

describe('propagation delay before scale-down', () => {
  test('promotion does not scale the previous version down in the tick that changes the route', () => {
    const s = rolloutSpec();
    const last = state(s, { stepIndex: s.steps.length, weights: { v1: 10, v2: 90 }, floors: { v2: 4 }, weightsSetAt: 9 * MIN });
    const sent = decide(s, last, obs({ routerWeights: { v1: 10, v2: 90 } }), 10 * MIN);
    expect(sends(sent.actions)).toEqual([{ v1: 0, v2: 100 }]);
    expect(sent.actions.some((a) => a.kind === 'scaleDown' || (a.kind === 'setFloor' && a.replicas === 0))).toBe(false);
    // verified 20 s later: promoted, but the 30 s propagation delay is not over
    const early = decide(s, sent.state, obs({ routerWeights: { v1: 0, v2: 100 } }), 10 * MIN + 20_000);
    expect(early.state.phase).toBe('promoted');
    expect(early.actions).toEqual([]);
    expect(decide(s, early.state, obs({ routerWeights: { v1: 0, v2: 100 } }), 11 * MIN).actions).toEqual([{ kind: 'scaleDown', version: 'v1' }]);
  });
});
