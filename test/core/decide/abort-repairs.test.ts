/**
 * An abort never keeps traffic on a canary that cannot answer: a canary with no ready replica (a crash loop) gives
 * its share back to the stable version at once, even while the stable version's replicas are still coming back and
 * the other canaries' shares go back in parts. Pure `decide()`.
 */
import { decide } from '../../../src/core/decide';
import { specHash } from '../../../src/core/plan/plan';
import { RolloutSpec } from '../../../src/core/spec';
import { Action, ControllerState, Observations } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const sends = (actions: readonly Action[]) => actions.filter((a): a is Extract<Action, { kind: 'setWeights' }> => a.kind === 'setWeights').map((a) => a.weights);

function progressing(spec: RolloutSpec, weights: Record<string, number>): ControllerState {
  return {
    specHash: specHash(spec),
    phase: 'progressing',
    stepIndex: 5,
    stepStartedAt: 0,
    weights,
    weightsSetAt: 0,
    routeChangedAt: 0,
    floors: Object.fromEntries(Object.keys(weights).map((v) => [v, 2])),
    checkFailures: 0,
    servingVersion: spec.stable,
    updatedAt: 0,
  };
}

describe('abort with a canary that has no ready replica', () => {
  test('its share goes back to the stable version at once, though the stable has 1 of 4 replicas ready', () => {
    const spec = rolloutSpec();
    const obs: Observations = {
      readyReplicas: { v1: 1, v2: 0 },
      routerWeights: { v1: 50, v2: 50 },
      floors: { v1: 2, v2: 2 },
      metrics: {},
      commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }],
    };
    const d = decide(spec, progressing(spec, { v1: 50, v2: 50 }), obs, 10 * MIN);
    expect(d.state.phase).toBe('aborted');
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
  });

  test('with a second canary that still answers: the dead one goes to 0, the live one goes back in parts', () => {
    const spec = rolloutSpec({
      canaries: [{ version: 'v2', targetWeight: 20, ramp: true }, { version: 'v3', targetWeight: 30, ramp: true }],
      versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }],
    });
    const obs: Observations = {
      readyReplicas: { v1: 1, v2: 0, v3: 2 },
      routerWeights: { v1: 50, v2: 20, v3: 30 },
      floors: { v1: 2, v2: 2, v3: 2 },
      metrics: {},
      commands: [{ id: 'c', kind: 'cancel', at: 0, seq: 1 }],
    };
    const d = decide(spec, progressing(spec, { v1: 50, v2: 20, v3: 30 }), obs, 10 * MIN);
    const [sent] = sends(d.actions);
    expect(sent.v2).toBe(0);
    expect(sent.v3).toBeGreaterThan(0);
    expect(sent.v3).toBeLessThanOrEqual(30);
    expect(sent.v1 + sent.v3).toBe(100);
  });

  test('a canary that dies after a partial move back loses its share at the next tick', () => {
    const spec = rolloutSpec();
    const aborted: ControllerState = { ...progressing(spec, { v1: 60, v2: 40 }), phase: 'aborted', reason: 'cancelled by command', finishedAt: 0, lowering: { v2: 0 } };
    const obs: Observations = { readyReplicas: { v1: 2, v2: 0 }, routerWeights: { v1: 60, v2: 40 }, floors: { v1: 4, v2: 2 }, metrics: {} };
    const d = decide(spec, aborted, obs, 10 * MIN);
    expect(sends(d.actions)).toEqual([{ v1: 100, v2: 0 }]);
  });
});
