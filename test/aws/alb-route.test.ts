/**
 * The release after the release, behind an ALB: the synthesized Terraform of one code change after another,
 * applied by the model of test/support/terraform-alb.ts (Terraform core's ordering, terraform-provider-aws's
 * DeleteTargetGroup and its ResourceInUse) over a listener the step controller modified in between (the forward
 * action the controller sends: core/routes/alb.ts `renderAlbForward`).
 */
// typings of the matchers Testing.setupJest() registers
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { AlbCanaryRollout, AlbRoute } from '../../src/aws';
import { renderAlbForward } from '../../src/core/routes/alb';
import { Weights } from '../../src/core/weights';
import { apply, emptyAlb, LiveAlb, routed, targetGroupArn } from '../support/terraform-alb';

Testing.setupJest();

const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2';
const VERSIONS = [{ name: 'v1' }, { name: 'v2' }, { name: 'v3' }];

/** The code: a route serving `serving`, and a rollout from it to `canary` (none: no rollout). */
function withRoute(serving: string, canary?: string) {
  return Testing.synthScope((scope: Construct) => {
    const route = new AlbRoute(scope, 'Route', { name: 'llama', listenerArn: LISTENER, vpcId: 'vpc-1', priority: 100, hostHeaders: ['llama.example.com'], versions: VERSIONS, servingVersion: serving });
    if (canary) new AlbCanaryRollout(scope, 'Rollout', { name: 'llama', route, versions: VERSIONS, stableVersion: serving, canaries: [{ version: canary }], defaultAlarms: false });
  });
}

/** The code without a route: the rollout owns its rule (none: nothing). */
function rolloutOnly(stable: string, canary?: string) {
  return Testing.synthScope((scope: Construct) => {
    if (canary) new AlbCanaryRollout(scope, 'Rollout', { name: 'llama', listenerArn: LISTENER, vpcId: 'vpc-1', priority: 100, hostHeaders: ['llama.example.com'], versions: VERSIONS, stableVersion: stable, canaries: [{ version: canary }], defaultAlarms: false });
  });
}

/** The controller's ModifyRule at `weights` (stable `stable`, canary `canary`) on the one rule. */
function controllerSends(alb: LiveAlb, stable: string, canary: string, weights: Weights, render = renderAlbForward): void {
  const target = { kind: 'aws' as const, listenerRuleArn: 'rule', alarmNames: [], targetGroups: { [stable]: targetGroupArn(alb, `llama-${stable}`), [canary]: targetGroupArn(alb, `llama-${canary}`) } };
  const forward = render({ stable, canaries: [{ version: canary, targetWeight: 100, ramp: true }] }, target, weights);
  const [addr] = [...alb.rules.keys()];
  alb.rules.set(addr, forward.TargetGroups.map((t) => ({ arn: t.TargetGroupArn, weight: t.Weight })));
}

/** The forward action as the controller sent it before target groups at 0 were left out. */
const renderWithZeros: typeof renderAlbForward = (spec, target, weights) => ({
  TargetGroups: [spec.stable, ...spec.canaries.map((c) => c.version)]
    .map((v) => ({ TargetGroupArn: target.targetGroups[v], Weight: weights[v] ?? 0 })),
  TargetGroupStickinessConfig: { Enabled: false },
});

const forwardsTo = (alb: LiveAlb) => [...alb.rules.values()].flat().filter((t) => t.weight > 0).map((t) => t.arn.replace(/^.*targetgroup\/([^/]+)\/.*$/, '$1'));

describe('AlbRoute: the host stays routed between releases', () => {
  test('removing a promoted rollout keeps the host routed: the route forwards to the new version, v1\'s group goes after', () => {
    // GIVEN a route serving v1, a rollout v1 -> v2, promoted by the controller
    const alb = emptyAlb();
    expect(apply(alb, withRoute('v1', 'v2')).ok).toBe(true);
    controllerSends(alb, 'v1', 'v2', { v1: 0, v2: 100 });
    // WHEN the code says "the environment serves v2" and the rollout is removed
    const r = apply(alb, withRoute('v2'));
    // THEN the apply succeeds, the host is routed after every step, and only v2 serves
    expect(r).toMatchObject({ ok: true });
    expect(r.routedAfterEachStep.every(Boolean)).toBe(true);
    expect(forwardsTo(alb)).toEqual(['llama-v2']);
    expect([...alb.targetGroups].some((a) => a.includes('/llama-v1/'))).toBe(false);
    // the rule is Terraform's again: nothing ignores its action without a rollout
    const rules = (code: string) => Object.values<any>(JSON.parse(code).resource.aws_lb_listener_rule);
    expect(rules(withRoute('v2'))).toHaveLength(1);
    expect(rules(withRoute('v2'))[0].lifecycle?.ignore_changes).toBeUndefined();
    // while a rollout borrows it, the controller's
    expect(rules(withRoute('v2', 'v3'))[0].lifecycle.ignore_changes).toEqual(['action']);
  });

  test('the next rollout (stable v2, canary v3) retires v1\'s target group without ResourceInUse', () => {
    const alb = emptyAlb();
    apply(alb, withRoute('v1', 'v2'));
    controllerSends(alb, 'v1', 'v2', { v1: 0, v2: 100 });
    const r = apply(alb, withRoute('v2', 'v3'));
    expect(r).toMatchObject({ ok: true });
    expect(r.routedAfterEachStep.every(Boolean)).toBe(true);
    expect(r.steps.filter((x) => x.startsWith('delete'))).toEqual([expect.stringMatching(/^delete aws_lb_target_group\.Route_TargetGroups_V1_/)]);
    // the rule's action stays the controller's: still v2 at 100 %, v3 joins when the controller gives it weight
    expect(forwardsTo(alb)).toEqual(['llama-v2']);
  });

  test('an aborted rollout removed from the code: the route keeps serving v1, the canary\'s group goes', () => {
    const alb = emptyAlb();
    apply(alb, withRoute('v1', 'v2'));
    controllerSends(alb, 'v1', 'v2', { v1: 70, v2: 30 });
    controllerSends(alb, 'v1', 'v2', { v1: 100, v2: 0 });
    const r = apply(alb, withRoute('v1'));
    expect(r).toMatchObject({ ok: true });
    expect(r.routedAfterEachStep.every(Boolean)).toBe(true);
    expect(forwardsTo(alb)).toEqual(['llama-v1']);
  });

  test('the model catches both failures: a rollout-owned rule removed with the rollout, and a group still on the rule at 0', () => {
    // without a route, removing the promoted rollout removes the only rule: the host falls to the default action
    const own = emptyAlb();
    apply(own, rolloutOnly('v1', 'v2'));
    controllerSends(own, 'v1', 'v2', { v1: 0, v2: 100 });
    apply(own, rolloutOnly('v2'));
    expect(routed(own)).toBe(false);
    // a controller that kept v1 on the rule at weight 0: the next release cannot delete v1's group
    const zeros = emptyAlb();
    apply(zeros, rolloutOnly('v1', 'v2'));
    controllerSends(zeros, 'v1', 'v2', { v1: 0, v2: 100 }, renderWithZeros);
    const r = apply(zeros, rolloutOnly('v2', 'v3'));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ResourceInUse: Target group '.*llama-v1.*' is currently in use by a listener or a rule/);
    // with today's controller (groups at 0 left out), the same release applies
    const fixed = emptyAlb();
    apply(fixed, rolloutOnly('v1', 'v2'));
    controllerSends(fixed, 'v1', 'v2', { v1: 0, v2: 100 });
    expect(apply(fixed, rolloutOnly('v2', 'v3'))).toMatchObject({ ok: true });
  });

  test('a route without create_before_destroy target groups would fail the promotion\'s clean-up (the ordering the route relies on)', () => {
    const alb = emptyAlb();
    apply(alb, withRoute('v1'));
    // the route's action changes v1 -> v2 with v1's group removed: Terraform must update the rule first
    const stripped = JSON.parse(withRoute('v2'));
    for (const tg of Object.values<any>(stripped.resource.aws_lb_target_group)) delete tg.lifecycle;
    for (const s of alb.state.values()) delete s.cbd;
    const r = apply(alb, JSON.stringify(stripped));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ResourceInUse/);
    const again = emptyAlb();
    apply(again, withRoute('v1'));
    expect(apply(again, withRoute('v2'))).toMatchObject({ ok: true });
  });

  test('one rollout borrows a route at a time, from the version it serves', () => {
    expect(() => Testing.synthScope((scope: Construct) => {
      const route = new AlbRoute(scope, 'Route', { name: 'llama', listenerArn: LISTENER, vpcId: 'vpc-1', priority: 100, versions: VERSIONS, servingVersion: 'v1' });
      new AlbCanaryRollout(scope, 'Rollout', { name: 'llama', route, versions: VERSIONS, stableVersion: 'v2', canaries: [{ version: 'v3' }], defaultAlarms: false });
    })).toThrow(/the route serves v1, and a rollout starts from the version the route serves/);
    expect(() => Testing.synthScope((scope: Construct) => {
      const route = new AlbRoute(scope, 'Route', { name: 'llama', listenerArn: LISTENER, vpcId: 'vpc-1', priority: 100, versions: VERSIONS, servingVersion: 'v1' });
      new AlbCanaryRollout(scope, 'A', { name: 'llama', route, versions: VERSIONS, stableVersion: 'v1', canaries: [{ version: 'v2' }], defaultAlarms: false });
      new AlbCanaryRollout(scope, 'B', { name: 'llama-b', route, versions: VERSIONS, stableVersion: 'v1', canaries: [{ version: 'v3' }], defaultAlarms: false });
    })).toThrow(/already borrowed by the rollout at .*\/A/);
    expect(() => Testing.synthScope((scope: Construct) => {
      new AlbCanaryRollout(scope, 'Rollout', { name: 'llama', versions: VERSIONS, stableVersion: 'v1', canaries: [{ version: 'v2' }] });
    })).toThrow(/a rollout needs a listener rule: either a `route`/);
  });
});
