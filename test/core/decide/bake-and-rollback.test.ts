/**
 * The release after 100 %: the bake (steps after the final `setWeight(100)`) and the rollback window after
 * promotion. Pure `decide()` over what the router and the workloads show.
 */
import { decide } from '../../../src/core/decide';
import { specHash } from '../../../src/core/plan/plan';
import { MetricSpec, RolloutSpec } from '../../../src/core/spec';
import { Action, ControllerState, Observations } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };
const sends = (actions: readonly Action[]) => actions.filter((a): a is Extract<Action, { kind: 'setWeights' }> => a.kind === 'setWeights').map((a) => a.weights);
const scaleDowns = (actions: readonly Action[]) => actions.filter((a) => a.kind === 'scaleDown' || (a.kind === 'setFloor' && a.replicas === 0));

/** 50 % for 5 minutes, 100 %, then a 10-minute bake; the previous version may go once promoted. */
const baked: RolloutSpec = rolloutSpec({
  steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'pause', seconds: 300 }, { kind: 'setWeight', weight: 100 }, { kind: 'pause', seconds: 600 }],
  checks: [errorRate],
  checkFailureLimit: 0,
  keepPreviousWarmSeconds: 1800,
});

function obs(overrides: Partial<Observations> = {}): Observations {
  return { readyReplicas: { v1: 4, v2: 4 }, routerWeights: { v1: 0, v2: 100 }, floors: { v1: 4, v2: 4 }, metrics: { v2: { 'error-rate': { value: 0.001, samples: 500 } } }, ...overrides };
}

/** At the bake step since `since`, the router verified at 0/100. */
function baking(since: number): ControllerState {
  return {
    specHash: specHash(baked),
    phase: 'progressing',
    stepIndex: 3,
    stepStartedAt: since,
    weights: { v1: 0, v2: 100 },
    weightsSetAt: since,
    floors: { v1: 4, v2: 4 },
    checkFailures: 0,
    servingVersion: 'v1',
    updatedAt: since,
  };
}

describe('the bake', () => {
  test('holds 100 % on the new version with its checks running and the previous version warm, then promotes', () => {
    // WHEN the bake has run 5 of its 10 minutes
    const mid = decide(baked, baking(10 * MIN), obs(), 15 * MIN);
    // THEN nothing moves: still progressing at 100 %, v1 keeps its replicas, the checks were judged
    expect(mid.state.phase).toBe('progressing');
    expect(sends(mid.actions)).toEqual([]);
    expect(scaleDowns(mid.actions)).toEqual([]);
    expect(mid.state.lowering?.v1).toBeUndefined();
    expect(mid.verdicts['v2/error-rate']).toBe('pass');
    expect(mid.wakeAt).toBe(20 * MIN);
    // AND at its end the rollout is promoted; v1's keep-warm window starts then
    const end = decide(baked, mid.state, obs(), 20 * MIN);
    expect(end.state.phase).toBe('promoted');
    expect(end.state.lowering?.v1).toBe(20 * MIN + 1800_000);
  });

  test('a failing check during the bake sends all the traffic back to the previous version at once', () => {
    const d = decide(baked, baking(10 * MIN), obs({ metrics: { v2: { 'error-rate': { value: 0.2, samples: 500 } } } }), 15 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
  });

  test('a cancel during the bake does the same', () => {
    const d = decide(baked, baking(10 * MIN), obs({ commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }] }), 12 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
  });
});

describe('the rollback window after promotion', () => {
  const spec = rolloutSpec({ keepPreviousWarmSeconds: 1800 });
  const promotedAt = 20 * MIN;
  /** Promoted at 20:00: v2 serves; v1 keeps its replicas until 50:00. */
  const promoted: ControllerState = {
    specHash: specHash(spec),
    phase: 'promoted',
    stepIndex: spec.steps.length,
    stepStartedAt: promotedAt,
    weights: { v1: 0, v2: 100 },
    weightsSetAt: promotedAt,
    floors: { v1: 4, v2: 4 },
    checkFailures: 0,
    finishedAt: promotedAt,
    servingVersion: 'v2',
    previousVersion: 'v1',
    previousScaledDown: false,
    lowering: { v1: promotedAt + 1800_000 },
    updatedAt: promotedAt,
  };
  const cancel = { commands: [{ id: 'c', kind: 'cancel' as const, at: 0, seq: 1 }] };

  test('a cancel inside the window rolls back in the same tick: v1 serves again and keeps its replicas; v2 goes down later', () => {
    const d = decide(spec, promoted, obs(cancel), promotedAt + 10 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
    expect(d.state.servingVersion).toBe('v1');
    expect(d.state.previousVersion).toBeUndefined();
    expect(d.state.lowering?.v1).toBeUndefined();
    expect(d.state.lowering?.v2).toBe(promotedAt + 10 * MIN);
    expect(d.reason).toMatch(/rolled back after promotion: v1 takes the traffic back/);
    // AND later ticks never scale v1 down, and take v2 down once the route has settled
    const later = decide(spec, d.state, obs({ routerWeights: { v1: 100, v2: 0 } }), promotedAt + 12 * MIN);
    expect(later.actions).toContainEqual({ kind: 'setFloor', version: 'v2', replicas: 0 });
    expect(later.actions.some((a) => 'version' in a && a.version === 'v1' && (a.kind === 'scaleDown' || (a.kind === 'setFloor' && a.replicas === 0)))).toBe(false);
  });

  test('inside the window but with v1 not ready (shrunk by its autoscaler), the route holds until it is, never onto nothing', () => {
    const d = decide(spec, promoted, obs({ ...cancel, readyReplicas: { v1: 0, v2: 4 } }), promotedAt + 10 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(sends(d.actions)).toEqual([]);
    expect(d.reason).toMatch(/holding the route: v1 has no ready replica/);
  });

  test('after the window (v1 scaled down) a cancel is refused with the reason and the way back', () => {
    const over: ControllerState = { ...promoted, floors: { v1: 0, v2: 4 }, previousScaledDown: true, lowering: {} };
    const d = decide(spec, over, obs({ ...cancel, readyReplicas: { v1: 0, v2: 4 }, floors: { v1: 0, v2: 4 } }), promotedAt + 40 * MIN);
    expect(d.state.phase).toBe('promoted');
    expect(sends(d.actions)).toEqual([]);
    expect(d.reason).toMatch(/cancel ignored: the rollout is promoted and v2 serves; v1 was scaled down when its keep-warm window ended, so the rollback window is over\. To go back, roll v1 out again/);
  });
});
