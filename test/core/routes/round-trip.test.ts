/**
 * Each route renderer beside its read-back: what the controller writes is what it reads back, for any weights
 * (Gateway API HTTPRoute rules, random and sticky, with pins; the ALB forward action).
 */
import * as fc from 'fast-check';
import '../../support/property-seed';
import { KubernetesTarget } from '../../../src/core/contract/target';
import { renderAlbForward, weightsFromForward } from '../../../src/core/routes/alb';
import { renderHttpRouteRules, weightsFromRules } from '../../../src/core/routes/gateway-api';
import { RolloutSpec } from '../../../src/core/spec';
import { UNKNOWN_BACKEND } from '../../../src/core/state';
import { Weights } from '../../../src/core/weights';

const backend = (v: string) => ({
  service: `llm-production-${v}`, port: 8000, deployment: `llm-production-${v}`, scaledObject: `llm-production-${v}`, baseReplicas: 1,
});

/** Two canaries (targets 60 and 40) at any integer weight up to their targets; the stable version has the rest. */
const weightsArb = fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 40 }))
  .map(([v2, v3]): Weights => ({ v1: 100 - v2 - v3, v2, v3 }));

const spec: Pick<RolloutSpec, 'stable' | 'canaries' | 'mirror'> = {
  stable: 'v1',
  canaries: [{ version: 'v2', targetWeight: 60, ramp: true }, { version: 'v3', targetWeight: 40, ramp: true }],
  mirror: undefined,
};

function target(kind: 'random' | 'headerHash'): KubernetesTarget {
  return {
    kind: 'kubernetes',
    namespace: 'models',
    httpRoute: 'llm-production',
    pathPrefix: '/llm',
    backends: { v1: backend('v1'), v2: backend('v2'), v3: backend('v3') },
    routing: kind === 'random' ? { kind: 'random' } : { kind: 'headerHash', header: 'x-user-id' },
    pins: [
      { version: 'v2', header: { name: 'x-model-version', value: 'v2' } },
      { version: 'v3', query: { name: 'tester', value: 'yes' } },
    ],
  };
}

const same = (a: Weights | undefined, b: Weights) =>
  !!a && Object.keys(b).every((k) => (a[k] ?? 0) === b[k]) && Object.keys(a).every((k) => (b[k] ?? 0) === a[k]);

describe('route renderers and their read-backs round-trip', () => {
  test.each(['random', 'headerHash'] as const)('Gateway API rules (%s routing, with pins): read(render(w)) = w', (kind) => {
    const t = target(kind);
    fc.assert(fc.property(weightsArb, (w) => same(weightsFromRules(spec as RolloutSpec, t, renderHttpRouteRules(spec, t, w)), w)), { numRuns: 500 });
  });

  test('the ALB forward action: read(render(w)) = w; a target group outside the target is reported, not dropped', () => {
    const t = { kind: 'aws' as const, listenerRuleArn: 'arn:rule', alarmNames: [], targetGroups: { v1: 'arn:tg/v1', v2: 'arn:tg/v2', v3: 'arn:tg/v3' } };
    fc.assert(fc.property(weightsArb, (w) => same(weightsFromForward(spec, t, renderAlbForward(spec, t, w).TargetGroups), w)), { numRuns: 500 });
    const stray = weightsFromForward(spec, t, [{ TargetGroupArn: 'arn:tg/v1', Weight: 70 }, { TargetGroupArn: 'arn:tg/old', Weight: 30 }]);
    expect(stray).toEqual({ v1: 70, v2: 0, v3: 0, [UNKNOWN_BACKEND]: 30 });
  });
});
