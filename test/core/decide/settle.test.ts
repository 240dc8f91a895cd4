/**
 * A finished rollout settles once nothing is left to do (core/decide/settle.ts), and the repairs that must still
 * happen keep it unsettled: a lost scale-down (down to the lowest floor the workload can hold), a route not yet
 * back, a command waiting. Pure `decide()`.
 */
import { decide, needsTick } from '../../../src/core/decide';
import { specHash } from '../../../src/core/plan/plan';
import { ControllerState, Observations } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const spec = rolloutSpec();

/** Aborted long ago, the canary scaled down and recorded at 0. */
function aborted(overrides: Partial<ControllerState> = {}): ControllerState {
  return {
    specHash: specHash(spec),
    phase: 'aborted',
    stepIndex: 3,
    stepStartedAt: 0,
    weights: { v1: 100, v2: 0 },
    weightsSetAt: 0,
    routeChangedAt: 0,
    floors: { v1: 4, v2: 0 },
    floorsSetAt: 0,
    checkFailures: 0,
    servingVersion: 'v1',
    reason: 'cancelled by command',
    finishedAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

function obs(overrides: Partial<Observations> = {}): Observations {
  return { readyReplicas: { v1: 4, v2: 0 }, routerWeights: { v1: 100, v2: 0 }, floors: { v1: 4, v2: 0 }, metrics: {}, ...overrides };
}

describe('settled', () => {
  test('an abort with its route back and its canary down settles; the next tick with the same spec needs nothing', () => {
    const d = decide(spec, aborted(), obs(), 10 * MIN);
    expect(d.actions).toEqual([]);
    expect(d.state.settled).toBe(true);
    expect(needsTick(spec, d.state, {})).toBe(false);
  });

  test('a command, a legacy command or a spec change needs a tick again', () => {
    const settled = decide(spec, aborted(), obs(), 10 * MIN).state;
    expect(needsTick(spec, settled, { commands: [{ id: 'r', kind: 'retry', at: 0, seq: 1 }] })).toBe(true);
    expect(needsTick(spec, { ...settled, commandSeq: 1 }, { commands: [{ id: 'r', kind: 'retry', at: 0, seq: 1 }] })).toBe(false);
    expect(needsTick(spec, settled, { command: { id: 'c', kind: 'cancel', at: 0 } })).toBe(true);
    expect(needsTick(rolloutSpec({ stableReplicas: 5 }), settled, {})).toBe(true);
  });

  test('a lost scale-down is repaired in a finished rollout and keeps it unsettled until it is done', () => {
    // the canary's Deployment came back at 2 replicas (a scale-down that failed, an operator)
    const d = decide(spec, aborted({ settled: true }), obs({ floors: { v1: 4, v2: 2 } }), 10 * MIN);
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 0 }]);
    expect(d.state.settled).toBeUndefined();
  });

  test('a version that can go to 0 (ScaledObject, Deployment) and was left at 1 is scaled down; an HPA\'s 1 is its lowest', () => {
    // the workload can hold 0 (KEDA minReplicaCount, a Deployment's replicas): 1 GPU pod left up is repaired
    const zero = decide(spec, aborted(), obs({ floors: { v1: 4, v2: 1 }, lowestFloors: { v1: 0, v2: 0 } }), 10 * MIN);
    expect(zero.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 0 }]);
    expect(zero.state.settled).toBeUndefined();
    // an HPA cannot go below 1: that is as low as it goes, nothing to repair
    const hpa = decide(spec, aborted(), obs({ floors: { v1: 4, v2: 1 }, lowestFloors: { v1: 1, v2: 1 } }), 10 * MIN);
    expect(hpa.actions).toEqual([]);
    expect(hpa.state.settled).toBe(true);
  });

  test('not settled while the route is not back, a scale-down waits, the floors cannot be read, or a retry is deferred', () => {
    expect(decide(spec, aborted(), obs({ routerWeights: { v1: 90, v2: 10 } }), 10 * MIN).state.settled).toBeUndefined();
    expect(decide(spec, aborted({ lowering: { v2: 20 * MIN } }), obs({ floors: { v1: 4, v2: 2 } }), 10 * MIN).state.settled).toBeUndefined();
    expect(decide(spec, aborted(), obs({ floors: undefined }), 10 * MIN).state.settled).toBeUndefined();
    // a cancel and a retry in one batch: the retry waits for the next tick, so the abort is not settled
    const progressing = aborted({ phase: 'progressing', weights: { v1: 90, v2: 10 }, floors: { v1: 4, v2: 1 }, reason: undefined, finishedAt: undefined });
    const batch = decide(spec, progressing, obs({
      routerWeights: { v1: 90, v2: 10 },
      readyReplicas: { v1: 4, v2: 1 },
      floors: { v1: 4, v2: 1 },
      commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }, { id: 'r', kind: 'retry', at: 0, seq: 2 }],
    }), 10 * MIN);
    expect(batch.state.phase).toBe('aborted');
    expect(batch.state.settled).toBeUndefined();
    expect(needsTick(spec, batch.state, { commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }, { id: 'r', kind: 'retry', at: 0, seq: 2 }] })).toBe(true);
  });

  test('a promoted rollout on a target whose manifests route to the stable version (Kubernetes) never settles: a re-apply moves the route', () => {
    const kube = rolloutSpec({ keepPreviousUntilSpecChanges: true });
    const promoted = aborted({
      specHash: specHash(kube),
      phase: 'promoted',
      weights: { v1: 0, v2: 100 },
      floors: { v1: 4, v2: 4 },
      servingVersion: 'v2',
      previousVersion: 'v1',
      previousScaledDown: false,
      lowering: { v1: 0 },
      reason: undefined,
    });
    const d = decide(kube, promoted, obs({ routerWeights: { v1: 0, v2: 100 }, readyReplicas: { v1: 4, v2: 4 }, floors: { v1: 4, v2: 4 } }), 10 * MIN);
    expect(d.actions).toEqual([]);
    expect(d.state.settled).toBeUndefined();
  });

  test('a promoted rollout behind an ALB (a deploy leaves the rule\'s action alone) settles once v1 is down', () => {
    const alb = rolloutSpec({ keepPreviousUntilSpecChanges: false });
    const promoted = aborted({
      specHash: specHash(alb),
      phase: 'promoted',
      weights: { v1: 0, v2: 100 },
      floors: { v1: 0, v2: 4 },
      servingVersion: 'v2',
      previousVersion: 'v1',
      previousScaledDown: true,
      reason: undefined,
    });
    const d = decide(alb, promoted, obs({ routerWeights: { v1: 0, v2: 100 }, readyReplicas: { v1: 0, v2: 4 }, floors: { v1: 0, v2: 4 } }), 10 * MIN);
    expect(d.actions).toEqual([]);
    expect(d.state.settled).toBe(true);
  });
});
