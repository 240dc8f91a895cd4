/**
 * Per-version autoscaling over the environment's (BentoCloud's per-target scaling): minimum, maximum, target and
 * windows, above or below the environment's values, used by the manifests, the plan and the engine's capacity gate.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { decide } from '../../src/core/decide';
import { computePlan } from '../../src/core/plan/plan';
import { CanaryRollout, GpuNodePools, Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';
import { rolloutSpec } from '../support/spec-fixture';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';
const gateway = { name: 'inference', namespace: 'gateways' };
const find = (objects: any[], kind: string, name?: string) => objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));

function model(c: Chart) {
  return new Model(c, 'Llm', { image: 'vllm/vllm-openai:v0.6.3', prometheusUrl: PROMETHEUS, gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
}

describe('per-version autoscaling in the manifests', () => {
  test('BentoCloud\'s example: main at most 1, canary a at most 2, b at most 3 renders 1, 2 and 3', () => {
    const c = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const m = model(c);
    m.addVersion('a', { maxReplicas: 2 });
    m.addVersion('b', { autoscaling: { maxReplicas: 3 } });
    const production = m.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 1, maxReplicas: 1 } });
    new CanaryRollout(c, 'Split', { environment: production, canaries: [{ version: 'a', weight: 30, ramp: false }, { version: 'b', weight: 30, ramp: false }] });
    const objects = Testing.synth(c);
    const max = (v: string) => find(objects, 'ScaledObject', `llm-production-${v}`).spec.maxReplicaCount;
    expect([max('v1'), max('a'), max('b')]).toEqual([1, 2, 3]);
  });

  test('a version\'s minimum, target and windows replace the environment\'s; its minimum is the stable baseline', () => {
    const c = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const m = model(c);
    m.addVersion('v2');
    m.addVersion('big', { autoscaling: { minReplicas: 3, maxReplicas: 6, concurrencyTarget: 16, scaleUpWindow: Duration.seconds(30), scaleDownDelay: Duration.minutes(20) } });
    const production = m.addEnvironment('production', { version: 'big', gateway, autoscaling: { minReplicas: 1, maxReplicas: 2 } });
    new CanaryRollout(c, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
    const objects = Testing.synth(c);
    const so = find(objects, 'ScaledObject', 'llm-production-big').spec;
    expect(so).toMatchObject({ minReplicaCount: 3, maxReplicaCount: 6, cooldownPeriod: 1200 });
    expect(so.triggers[0].metadata.threshold).toBe('16');
    expect(so.advanced.horizontalPodAutoscalerConfig.behavior)
      .toMatchObject({ scaleUp: { stabilizationWindowSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 1200 } });
    // the other versions keep the environment's
    expect(find(objects, 'ScaledObject', 'llm-production-v2').spec.maxReplicaCount).toBe(2);
    expect(JSON.parse(find(objects, 'ConfigMap', 'llm-production-rollout-spec').data['spec.json']).stableReplicas).toBe(3);
  });

  test('a development environment keeps 0..1; one that scales to zero keeps its 0 minimum and takes the version\'s maximum', () => {
    const c = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const m = model(c);
    m.addVersion('v2', { autoscaling: { minReplicas: 2, maxReplicas: 3 } });
    m.addEnvironment('development', { version: 'v2', gateway, hostnames: ['dev.example.com'] });
    m.addEnvironment('staging', { version: 'v2', gateway, hostnames: ['staging.example.com'], autoscaling: { minReplicas: 0, maxReplicas: 1 } });
    GpuNodePools.external(c, [GpuProduct.A10G]);
    const objects = Testing.synth(c);
    expect(find(objects, 'HTTPScaledObject', 'llm-development').spec.replicas).toEqual({ min: 0, max: 1 });
    expect(find(objects, 'HTTPScaledObject', 'llm-staging').spec.replicas).toEqual({ min: 0, max: 3 });
  });

  test.each([
    ['a maximum of 0', { maxReplicas: 0 }, /\[Chart\/Llm\] versions\.v2\.autoscaling\.maxReplicas: a version's most replicas is a whole number of at least 1.*\(received 0\)/],
    ['a minimum above the maximum', { autoscaling: { minReplicas: 4, maxReplicas: 2 } }, /versions\.v2\.autoscaling\.minReplicas: the minimum replica count is above the maximum \(received minReplicas 4 > maxReplicas 2\)/],
    ['two different maximums', { maxReplicas: 2, autoscaling: { maxReplicas: 3 } }, /versions\.v2\.maxReplicas: the version gives two different maximums \(received maxReplicas 2, autoscaling\.maxReplicas 3\)\. Fix: give it once/],
    ['a target of 0', { autoscaling: { concurrencyTarget: 0 } }, /versions\.v2\.autoscaling\.concurrencyTarget: .*\(received 0\)/],
    ['a window under a second', { autoscaling: { scaleUpWindow: Duration.seconds(0) } }, /versions\.v2\.autoscaling\.scaleUpWindow: /],
  ])('refuses %s with the construct path, property, value and fix', (_name, options, message) => {
    const m = model(new Chart(Testing.app(), 'Chart', { namespace: 'models' }));
    expect(() => m.addVersion('v2', options as any)).toThrow(message);
  });
});

describe('per-version autoscaling in the plan and the engine', () => {
  const capped = rolloutSpec({ versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1, maxReplicas: 2 }] });

  test('the plan: a canary never gets more replicas than its maximum, nor fewer than its minimum once it has traffic', () => {
    expect(computePlan(rolloutSpec()).peakGpus).toBe(8);
    expect(computePlan(capped).peakGpus).toBe(6);
    const floored = computePlan(rolloutSpec({ versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1, minReplicas: 3 }] }));
    // at 10 % the canary's share needs 1 replica of 4; its own minimum is 3
    const first = floored.rows.find((r) => r.weights.v2 > 0 && r.weights.v2 <= 10)!;
    expect(first.replicas.v2).toBe(3);
  });

  test('the capacity gate waits for the canary\'s maximum, not for what its share would need', () => {
    // the step to 100 % needs 4 replicas of the live 4; v2 may have 2, and 2 are ready: the weight moves
    const spec = rolloutSpec({ ...capped, steps: [{ kind: 'setWeight', weight: 100 }] });
    const seen = { readyReplicas: { v1: 4, v2: 2 }, routerWeights: { v1: 100, v2: 0 }, floors: { v1: 4, v2: 2 }, metrics: {} };
    const d = decide(spec, undefined, seen, 0);
    expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'setWeights' }));
    expect(d.actions.filter((a) => a.kind === 'setFloor' && a.version === 'v2').map((a: any) => a.replicas)).not.toContain(4);
  });
});
