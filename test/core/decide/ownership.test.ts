/**
 * The ownership model's rule for the previous version: after a promotion the Kubernetes manifests still route
 * everything to the spec's stable version (their rules are the abort weights) until the code names the new one, so
 * a re-apply at any moment can send it all the traffic. It therefore keeps its replicas until the spec moves on.
 */
import { decide } from '../../../src/core/decide';
import { RolloutSpec } from '../../../src/core/spec';
import { ControllerState, Observations } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;

/** Run `minutes` ticks with every replica ready at once and the router applying what was sent. */
function run(spec: RolloutSpec, state: ControllerState | undefined, minutes: number, from = 0) {
  const floors: Record<string, number> = { v1: 4, v2: 0, v3: 0 };
  const router: Record<string, number> = state ? { ...state.weights } : { v1: 100, v2: 0 };
  const scaledDown: string[] = [];
  let s = state;
  for (let m = 0; m < minutes; m++) {
    const obs: Observations = { readyReplicas: { ...floors }, routerWeights: { ...router }, floors: { ...floors }, metrics: {} };
    const d = decide(spec, s, obs, (from + m) * MIN);
    for (const a of d.actions) {
      if (a.kind === 'setFloor') floors[a.version] = a.replicas;
      if (a.kind === 'setWeights') Object.assign(router, a.weights);
      if (a.kind === 'scaleDown') { floors[a.version] = 0; scaledDown.push(a.version); }
    }
    s = d.state;
  }
  return { state: s!, scaledDown, router };
}

describe('the previous version after a promotion', () => {
  test('keeps its replicas while the spec still names it as stable (a re-apply routes to it)', () => {
    // GIVEN the default spec (the Kubernetes target), promoted to v2
    const spec = rolloutSpec({ keepPreviousUntilSpecChanges: undefined });
    const { state, scaledDown } = run(spec, undefined, 40);
    // THEN v1 is never scaled down, however long the rollout stays promoted
    expect(state.phase).toBe('promoted');
    expect(scaledDown).toEqual([]);
  });

  test('goes down once the code moves on: a new spec whose stable is the promoted version', () => {
    const first = run(rolloutSpec({ keepPreviousUntilSpecChanges: undefined }), undefined, 20);
    // WHEN the code names v2 as the environment's version (and rolls out v3 next)
    const next = rolloutSpec({
      keepPreviousUntilSpecChanges: undefined,
      stable: 'v2',
      canaries: [{ version: 'v3', targetWeight: 100, ramp: true }],
      versions: [{ name: 'v2', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }],
    });
    const later = run(next, first.state, 5, 20);
    // THEN v1, named by nothing any more, is scaled down
    expect(later.scaledDown).toContain('v1');
  });

  test('on a target whose deploys never reset the route (the ALB rule), it goes down after promotion', () => {
    const { scaledDown } = run(rolloutSpec({ keepPreviousUntilSpecChanges: false }), undefined, 20);
    expect(scaledDown).toEqual(['v1']);
  });
});
