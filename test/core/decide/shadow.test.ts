/**
 * The shadow step in the engine: the mirror travels with the weights, the canary's replicas come first, the error
 * test decides on the copies, and everything that leaves the step (the next step, an abort, a promote) takes the
 * mirror off the route. Routes: the mirror renders as a second RequestMirror filter and reads back.
 */
import { nextChange } from '../../../src/controller/cli/main';
import { decide } from '../../../src/core/decide';
import { specHash } from '../../../src/core/plan/plan';
import { mirrorsFromRules, renderHttpRouteRules, weightsFromRules } from '../../../src/core/routes/gateway-api';
import { equalSteps } from '../../../src/core/schedule';
import { DEFAULT_SEQUENTIAL, requestsToClimb } from '../../../src/core/sequential';
import { MetricSpec, RolloutSpec } from '../../../src/core/spec';
import { ControllerState, Observations, ShadowRoute } from '../../../src/core/state';
import { kubernetesTarget, rolloutSpec } from '../../support/spec-fixture';

const S = 1000;
const errors: MetricSpec = {
  provider: 'prometheus',
  name: 'errors',
  query: 'q',
  comparison: 'lt',
  threshold: 0.5,
  sequential: { errorsQuery: 'e', requestsQuery: 'r', ...DEFAULT_SEQUENTIAL },
};
const spec: RolloutSpec = rolloutSpec({
  steps: [{ kind: 'shadow', percent: 25, maxSeconds: 300 }, ...equalSteps(4, 240)],
  checks: [errors],
  checkFailureLimit: 0,
  tickSeconds: 10,
});

/** The controller's world in small: what the last actions sent is what the router serves at the next tick. */
function world(readyCanary = 4) {
  let state: ControllerState | undefined;
  let weights: Record<string, number> = { v1: 100, v2: 0 };
  let mirrors: ShadowRoute[] = [];
  const sent: Array<{ at: number; weights: Record<string, number>; shadow?: ShadowRoute }> = [];
  return {
    sent,
    get state() { return state!; },
    get mirrors() { return mirrors; },
    tick(at: number, counts?: { canary: [number, number]; stable?: [number, number] }) {
      const o: Observations = {
        readyReplicas: { v1: 4, v2: readyCanary },
        routerWeights: weights,
        routerMirrors: mirrors,
        metrics: counts ? {
          v2: {
            errors: {
              value: counts.canary[1] / Math.max(1, counts.canary[0]),
              counts: {
                canary: { requests: counts.canary[0], errors: counts.canary[1] },
                stable: { requests: counts.stable?.[0] ?? 1000, errors: counts.stable?.[1] ?? 1 },
              },
            },
          },
        } : {},
      };
      const d = decide(spec, state, o, at);
      state = d.state;
      for (const a of d.actions) {
        if (a.kind !== 'setWeights') continue;
        sent.push({ at, weights: a.weights, ...(a.shadow ? { shadow: a.shadow } : {}) });
        weights = { ...a.weights };
        mirrors = a.shadow ? [a.shadow] : [];
      }
      return d;
    },
  };
}

describe('decide: the shadow step', () => {
  test('mirrors to the canary once its replicas for the copies are ready, with no weight; the route counts as served only with the mirror', () => {
    const w = world(0);
    const first = w.tick(0);
    // 25 % of the load of 4 stable replicas: 1 replica first, no route change while it is not ready
    expect(first.actions).toContainEqual({ kind: 'setFloor', version: 'v2', replicas: 1 });
    expect(first.actions.some((a) => a.kind === 'setWeights')).toBe(false);
    expect(first.reason).toMatch(/waiting for capacity/);
    const w2 = world(4);
    w2.tick(0);
    expect(w2.sent).toEqual([{ at: 0, weights: { v1: 100, v2: 0 }, shadow: { version: 'v2', percent: 25 } }]);
    // served at the next tick: the step's clock starts then, and the weights do not move
    w2.tick(10 * S);
    expect(w2.state.shadowFrom).toBe(10 * S);
    expect(w2.state.weights).toEqual({ v1: 100, v2: 0 });
  });

  test('a canary whose copies fail the error test is aborted before it answers any request, and the mirror comes off', () => {
    const w = world();
    w.tick(0);
    let t = 10 * S;
    for (; t <= 300 * S && w.state.phase === 'progressing'; t += 10 * S) w.tick(t, { canary: [60, 3] });
    expect(w.state.phase).toBe('aborted');
    expect(w.state.reason).toMatch(/sequential test/);
    // no weight was ever sent to the canary; the abort's route has no mirror
    expect(w.sent.every((x) => x.weights.v2 === 0)).toBe(true);
    expect(w.sent[w.sent.length - 1]).toEqual({ at: t - 10 * S, weights: { v1: 100, v2: 0 } });
    expect(w.mirrors).toEqual([]);
  });

  test('copies that pass the error test end the step early: the mirror comes off with the first weight', () => {
    const w = world();
    w.tick(0);
    let t = 10 * S;
    for (; t <= 300 * S && w.state.stepIndex === 0; t += 10 * S) w.tick(t, { canary: [60, 0] });
    // about 170 clean copies reach the pass bound (three 60-request windows); the step then mirrors as many again
    // and at least as many as a canary at H1 needs to climb to the fail bound (about 320 over a 0.1 % stable), still
    // passing: 180 + 321 -> nine windows in all, far before the 300 s cap
    const climb = requestsToClimb(DEFAULT_SEQUENTIAL, w.state.sequential!['v2/errors'].stable);
    expect(climb).toBeGreaterThan(300);
    expect(climb).toBeLessThan(340);
    expect(w.state.stepIndex).toBeGreaterThan(0);
    expect(t).toBeLessThan(130 * S);
    expect(w.state.sequential?.['v2/errors'].canary.requests).toBe(60 * Math.ceil((180 + climb) / 60));
    // the next step (a pause at weight 0) takes the mirror off; its weight step sends 25 % without a mirror
    expect(w.sent[w.sent.length - 1].shadow).toBeUndefined();
    for (let k = 0; k < 10; k++, t += 10 * S) w.tick(t, { canary: [60, 0] });
    expect(w.sent.some((x) => x.weights.v2 === 25 && x.shadow === undefined)).toBe(true);
  });

  test('without a verdict, the step ends after maxSeconds of mirroring (not counting the wait for replicas)', () => {
    const w = world();
    w.tick(0);
    // a trickle of clean copies: too few for the test to pass within the step
    let t = 10 * S;
    for (; t <= 400 * S && w.state.stepIndex === 0; t += 10 * S) w.tick(t, { canary: [2, 0] });
    expect(w.state.stepIndex).toBe(1);
    // the mirror was served from 10 s: the step ended at 310 s
    expect(t - 10 * S).toBe(310 * S);
    expect(w.state.sequential?.['v2/errors'].canary.requests).toBe(62);
  });

  test('a mirrored canary that reports no requests at all is silence, not health: it holds, then aborts (the no-data rule)', () => {
    const w = world();
    w.tick(0);
    let t = 10 * S;
    const reasons: string[] = [];
    for (; t <= 1200 * S && w.state.phase === 'progressing'; t += 10 * S) reasons.push(w.tick(t).reason);
    expect(w.state.phase).toBe('aborted');
    expect(reasons.some((r) => /no requests|no data|silen/i.test(r))).toBe(true);
    expect(w.sent.every((x) => x.weights.v2 === 0)).toBe(true);
  });

  test('a promote during the shadow step sends the final weights without the mirror', () => {
    const w = world();
    w.tick(0);
    w.tick(10 * S);
    const s = specHash(spec);
    expect(w.state.specHash).toBe(s);
    const d = decide(spec, w.state, {
      readyReplicas: { v1: 4, v2: 4 },
      routerWeights: { v1: 100, v2: 0 },
      routerMirrors: w.mirrors,
      metrics: {},
      commands: [{ id: 'p', kind: 'promote', at: 20 * S, seq: 1 }],
    }, 20 * S);
    const send = d.actions.find((a) => a.kind === 'setWeights');
    expect(send).toEqual({ kind: 'setWeights', weights: { v1: 0, v2: 100 } });
  });

  test('a route that still mirrors after the step is not served: the weights are sent again, without the mirror', () => {
    const w = world();
    w.tick(0);
    let t = 10 * S;
    for (; w.state.stepIndex === 0; t += 10 * S) w.tick(t, { canary: [60, 0] });
    // someone (a re-apply of an old manifest) puts the mirror back
    const d = decide(spec, w.state, {
      readyReplicas: { v1: 4, v2: 4 }, routerWeights: w.state.weights, routerMirrors: [{ version: 'v2', percent: 25 }], metrics: {},
    }, t + 30 * S);
    expect(d.actions).toContainEqual({ kind: 'setWeights', weights: w.state.weights });
  });
});

describe('routes: the shadow step\'s mirror', () => {
  const target = kubernetesTarget();
  test('renders as a RequestMirror filter beside the rollout\'s own mirror and reads back', () => {
    const s = rolloutSpec({ mirror: undefined });
    const rules = renderHttpRouteRules(s, target, { v1: 100, v2: 0 }, { version: 'v2', percent: 25 });
    expect(rules[rules.length - 1].filters).toEqual([
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'llama-v2', port: 8080 }, percent: 25 } },
    ]);
    expect(mirrorsFromRules(target, rules)).toEqual([{ version: 'v2', percent: 25 }]);
    expect(weightsFromRules(s, target, rules)).toEqual({ v1: 100, v2: 0 });
    // no shadow: no filter
    expect(mirrorsFromRules(target, renderHttpRouteRules(s, target, { v1: 90, v2: 10 }))).toEqual([]);
  });

  test('a mirror whose percent a CRD before v1.3 pruned reads as 100 %', () => {
    const rules = [{ matches: [{}], backendRefs: [{ name: 'llama-v1', port: 8080, weight: 100 }], filters: [{ type: 'RequestMirror' as const, requestMirror: { backendRef: { name: 'llama-v2', port: 8080 } } as any }] }];
    expect(mirrorsFromRules(target, rules)).toEqual([{ version: 'v2', percent: 100 }]);
  });
});

describe('model-rollout status during the shadow step', () => {
  test('says what comes next: the mirror going on, then the step\'s end (earlier once the test passes)', () => {
    const base: ControllerState = { specHash: specHash(spec), phase: 'progressing', stepIndex: 0, stepStartedAt: 0, weights: { v1: 100, v2: 0 }, floors: {}, checkFailures: 0, updatedAt: 0 };
    expect(nextChange(spec, base, 0)).toEqual({ what: 'the route starts mirroring 25 % of requests to the canary' });
    expect(nextChange(spec, { ...base, shadowFrom: 10 * S }, 20 * S)).toEqual({ at: 310 * S, what: 'the shadow step ends (earlier once the error test passes on the copies)' });
    expect(nextChange(spec, { ...base, shadowFrom: 10 * S, shadowPassCopies: 170 }, 40 * S).what).toMatch(/passed after 170, holding until 340/);
    expect(nextChange(spec, { ...base, capacityWaitSince: 0 }, 20 * S).what).toMatch(/replicas to be ready/);
  });
});

describe('the shadow step after a retry', () => {
  test('a retry after an abort during the shadow step mirrors again for the step\'s whole length (its clock restarts)', () => {
    const w = world();
    w.tick(0);
    // two clean windows of copies (the step's clock runs), then errors
    w.tick(10 * S, { canary: [60, 0] });
    w.tick(20 * S, { canary: [60, 0] });
    let t = 30 * S;
    for (; w.state.phase === 'progressing'; t += 10 * S) w.tick(t, { canary: [60, 3] });
    expect(w.state.phase).toBe('aborted');
    expect(w.state.shadowFrom).toBe(10 * S);
    // much later, someone retries: the step starts over, with no verdict carried from the failed attempt
    const later = t + 3600 * S;
    const d = decide(spec, w.state, {
      readyReplicas: { v1: 4, v2: 4 },
      routerWeights: { v1: 100, v2: 0 },
      routerMirrors: [],
      metrics: {},
      commands: [{ id: 'r', kind: 'retry', at: later, seq: 1 }],
    }, later);
    expect(d.state.phase).toBe('progressing');
    expect(d.state.stepIndex).toBe(0);
    expect(d.state.shadowFrom).toBeUndefined();
    expect(d.state.shadowPassCopies).toBeUndefined();
  });
});
