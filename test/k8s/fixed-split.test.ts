/**
 * A BentoCloud-style fixed split (`ramp: false` on every canary): the split is rendered into the HTTPRoute and the
 * floors into the manifests; no controller runs, and the plan says the split holds.
 */
import { Chart, Testing } from 'cdk8s';
import { CanaryRollout, Model } from '../../src/k8s';
import { Gpu, GpuProduct, Steps } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { findObject } from '../support/synth';

const gateway = { name: 'inference', namespace: 'gateways' };

function setup() {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  model.addVersion('v2');
  const production = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 4, maxReplicas: 8 } });
  return { chart, model, production };
}

describe('a fixed split', () => {
  test('is the route itself, with the floors it needs in the manifests, and no controller', () => {
    // GIVEN v2 held at 30 % from the start
    const { chart, production } = setup();
    const rollout = new CanaryRollout(chart, 'Split', { environment: production, canaries: [{ version: 'v2', weight: 30, ramp: false }] });
    const objects = Testing.synth(chart);
    // THEN the route splits 70/30 as applied, nothing is controller-owned, and no CronJob or state exists
    const route = findObject(objects, 'HTTPRoute');
    expect(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['llama-production-v1', 70], ['llama-production-v2', 30]]);
    expect(route.metadata.annotations?.['model-rollout.dev/controller-owned-fields']).toBeUndefined();
    expect(objects.filter((o) => ['CronJob', 'ConfigMap', 'Role'].includes(o.kind))).toEqual([]);
    // v2 needs ceil(30 % x 4) = 2 replicas, held by the manifests
    const floors = Object.fromEntries(objects.filter((o) => o.kind === 'ScaledObject').map((o) => [o.metadata.name, o.spec.minReplicaCount]));
    expect(floors).toEqual({ 'llama-production-v1': 4, 'llama-production-v2': 2 });
    expect(rollout.controllerBundleBytes).toBe(0);
    // the plan holds without a duration
    expect(rollout.plan.duration.toSeconds()).toBe(0);
    expect(rollout.plan.toMarkdown()).toContain('the split holds at the end');
    expectValid(objects);
  });

  test('refuses steps: nothing would run them', () => {
    const { chart, production } = setup();
    expect(() => new CanaryRollout(chart, 'Split', { environment: production, canaries: [{ version: 'v2', weight: 30, ramp: false }], steps: Steps.equal() }))
      .toThrow(/\[Chart\/Split\] steps: every canary holds a fixed weight \(`ramp: false`\)/);
  });
});
