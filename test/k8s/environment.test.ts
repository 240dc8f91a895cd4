import { Chart, Duration, Testing } from 'cdk8s';
import { Autoscaler, EnvironmentKind, GpuNodePools, ManifestApplier, Model } from '../../src/k8s';
import { Gpu, GpuProduct, Steps } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { findObject, objectsOf } from '../support/synth';

const HTTP_SCALED_OBJECT = { 'http.keda.sh/v1alpha1/HTTPScaledObject': 'the KEDA HTTP add-on CRD has no upstream model package' };
const gateway = { name: 'inference', namespace: 'gateways', sectionName: 'https' };

function setup() {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  model.addVersion('v2');
  return { chart, model };
}

describe('Environment', () => {
  test('is a stable HTTPRoute on the Gateway, routing to the version it serves', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llama.example.com'], pathPrefix: '/v1' });
    const objects = Testing.synth(chart);
    const route = findObject(objects, 'HTTPRoute');
    expect(prod.httpRouteName).toBe('llama-production');
    expect(route.spec.parentRefs).toEqual([gateway]);
    expect(route.spec.hostnames).toEqual(['llama.example.com']);
    expect(route.spec.rules).toEqual([{
      matches: [{ path: { type: 'PathPrefix', value: '/v1' } }],
      backendRefs: [{ name: 'llama-production-v1', port: 8080, weight: 100 }],
    }]);
    expectValid(objects);
  });

  test('autoscales with KEDA on in-flight requests, with Baseten-like windows by default', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 2, maxReplicas: 8, concurrencyTarget: 6 } });
    const so = findObject(Testing.synth(chart), 'ScaledObject');
    expect(so.spec).toMatchObject({
      scaleTargetRef: { name: 'llama-production-v1', kind: 'Deployment' },
      minReplicaCount: 2,
      maxReplicaCount: 8,
      cooldownPeriod: 900,
      advanced: {
        horizontalPodAutoscalerConfig: { behavior: { scaleUp: { stabilizationWindowSeconds: 60 }, scaleDown: { stabilizationWindowSeconds: 900 } } },
      },
    });
    expect(so.spec.triggers[0].metadata).toEqual({
      serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
      // issue 16: the vLLM image's own metrics (running + waiting), not a metric nothing exports
      query: 'sum({__name__=~"vllm:num_requests_running|vllm:num_requests_waiting",model="llama",environment="production",version="v1"})',
      threshold: '6',
      // issue 16: an empty answer is an error (then KEDA's fallback), never zero load
      ignoreNullValues: 'false',
    });
  });

  test('an HPA replaces KEDA where KEDA is absent', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { autoscaler: Autoscaler.hpa(), scaleUpWindow: Duration.seconds(30) } });
    const objects = Testing.synth(chart);
    const hpa = findObject(objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(1);
    expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(30);
    expect(hpa.spec.metrics[0].pods.target).toEqual({ type: 'AverageValue', averageValue: 4 });
    expect(objectsOf(objects, 'ScaledObject')).toEqual([]);
    expectValid(objects);
  });

  test('scale to zero goes through the KEDA HTTP add-on: HTTPScaledObject, route to the interceptor, ReferenceGrant', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway });
    model.addEnvironment('staging', { version: 'v2', gateway, hostnames: ['staging.llama.example.com'], autoscaling: { minReplicas: 0, maxReplicas: 2 } });
    GpuNodePools.external(chart, [GpuProduct.A10G]);
    const objects = Testing.synth(chart);
    const http = findObject(objects, 'HTTPScaledObject', 'llama-staging');
    expect(http.spec).toMatchObject({
      hosts: ['staging.llama.example.com'],
      scaleTargetRef: { name: 'llama-staging-v2', kind: 'Deployment', service: 'llama-staging-v2', port: 8080 },
      replicas: { min: 0, max: 2 },
      scaledownPeriod: 900,
    });
    expect(findObject(objects, 'HTTPRoute', 'llama-staging').spec.rules[0].backendRefs).toEqual([{ name: 'keda-add-ons-http-interceptor-proxy', namespace: 'keda', port: 8080, weight: 1 }]);
    expect(findObject(objects, 'ReferenceGrant').spec.from).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'models' }]);
    expectValid(objects, { allow: HTTP_SCALED_OBJECT });
  });

  test('promotion is a blue/green switch once the new version is ready: a one-step rollout the controller runs', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', {
      version: 'v1', gateway, autoscaling: { minReplicas: 2 }, keepPreviousWarmFor: Duration.minutes(30), appliedBy: ManifestApplier.ARGO_CD,
    });
    prod.promote('v2');
    const objects = Testing.synth(chart);
    // traffic stays on v1 until the controller has v2's replicas ready, then moves at once
    expect(findObject(objects, 'HTTPRoute').spec.rules[0].backendRefs).toEqual([
      { name: 'llama-production-v1', port: 8080, weight: 100 },
      { name: 'llama-production-v2', port: 8080, weight: 0 },
    ]);
    const spec = JSON.parse(findObject(objects, 'ConfigMap', 'llama-production-promote-rollout-spec').data['spec.json']);
    expect(spec.steps).toEqual([{ kind: 'setWeight', weight: 100 }]);
    expect(spec.stableReplicas).toBe(2);
    // the previous version keeps its settings; the controller scales it down after the keep-warm window
    expect(spec.keepPreviousWarmSeconds).toBe(1800);
    // Argo CD (ignoreDifferences with RespectIgnoreDifferences) never resets the route: v1 may go to zero after the window
    expect(spec.keepPreviousUntilSpecChanges).toBe(false);
    expect(findObject(objects, 'Deployment', 'llama-production-v1')).toBeDefined();
    // Baseten's gate: the new version starts at production's minimum; the old one keeps it while it serves
    expect(findObject(objects, 'ScaledObject', 'llama-production-v2').spec.minReplicaCount).toBe(2);
    expect(findObject(objects, 'ScaledObject', 'llama-production-v1').spec.minReplicaCount).toBe(2);
    // the environment tells the truth: it now points at v2, and v1 is the previous version
    expect([prod.currentVersion, prod.previousVersion]).toEqual(['v2', 'v1']);
    expectValid(objects);
  });

  test('promote() with a ramp: Baseten\'s rolling promotion along the given steps', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 2 } });
    prod.promote('v2', { steps: Steps.equal({ count: 10, over: Duration.minutes(10) }) });
    const spec = JSON.parse(findObject(Testing.synth(chart), 'ConfigMap', 'llama-production-promote-rollout-spec').data['spec.json']);
    expect(spec.stable).toBe('v1');
    expect(spec.canaries).toEqual([{ version: 'v2', targetWeight: 100, ramp: true }]);
    expect(spec.steps.filter((x: any) => x.kind === 'setWeight').map((x: any) => x.weight)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  test('a ramp cannot apply where versions switch at once (scale to zero, development)', () => {
    const { model } = setup();
    const dev = model.addEnvironment('development', { version: 'v1', gateway, hostnames: ['llama.dev.example.com'] });
    expect(() => dev.promote('v2', { steps: Steps.equal() })).toThrow(/promote\(options\.steps\): environment "development" switches versions at once/);
  });

  test('one promotion per environment at a time', () => {
    const { model } = setup();
    model.addVersion('v3');
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    prod.promote('v2');
    expect(() => prod.promote('v3')).toThrow(/environment "production" already has a rollout/);
  });

  test('in a scale-to-zero environment promotion switches at once: the interceptor waits for the new version', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway });
    const staging = model.addEnvironment('staging', { version: 'v1', gateway, hostnames: ['s.example.com'], autoscaling: { minReplicas: 0 } });
    GpuNodePools.external(chart, [GpuProduct.A10G]);
    staging.promote('v2');
    const objects = Testing.synth(chart);
    expect(staging.currentVersion).toBe('v2');
    expect(findObject(objects, 'HTTPScaledObject').spec.scaleTargetRef.name).toBe('llama-staging-v2');
    expect(findObject(objects, 'Deployment', 'llama-staging-v1').spec.replicas).toBe(0);
  });

  test('an inactive environment keeps its objects, scaled to zero, and has no route (404)', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway, active: false });
    const objects = Testing.synth(chart);
    expect(objectsOf(objects, 'HTTPRoute')).toEqual([]);
    expect(findObject(objects, 'Deployment').spec.replicas).toBe(0);
    expect(findObject(objects, 'ScaledObject').metadata.annotations).toEqual({ 'autoscaling.keda.sh/paused-replicas': '0' });
  });

  test('a development environment runs one replica at most and scales to zero', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway });
    const dev = model.addEnvironment('development', { version: 'v2', gateway, hostnames: ['dev.llama.example.com'] });
    GpuNodePools.external(chart, [GpuProduct.A10G]);
    expect(dev.kind).toBe(EnvironmentKind.DEVELOPMENT);
    expect([dev.minReplicas, dev.maxReplicas]).toEqual([0, 1]);
    expect(findObject(Testing.synth(chart), 'HTTPScaledObject').spec.replicas).toEqual({ min: 0, max: 1 });
  });

  test.each([
    ['min replicas above max', (m: Model) => m.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
      /^\[Chart\/Llama\/Production\] autoscaling\.minReplicas: the minimum replica count is above the maximum \(received minReplicas 5 > maxReplicas 2\)\. Fix: lower minReplicas to 2 at most/],
    ['an environment name that is not DNS-1123', (m: Model) => m.addEnvironment('Prod_EU', { version: 'v1', gateway }), /\[Chart\/Llama\/ProdEU\] name: names must be DNS-1123 labels.*\(received "Prod_EU"\)/],
    ['a second production environment', (m: Model) => {
      m.addEnvironment('production', { version: 'v1', gateway });
      m.addEnvironment('prod-eu', { version: 'v1', gateway, kind: EnvironmentKind.PRODUCTION });
    }, /\[Chart\/Llama\/ProdEu\] kind: the model already has a production environment \("production"\); a model has exactly one/],
    ['promoting a version that does not exist', (m: Model) => m.addEnvironment('production', { version: 'v1', gateway }).promote('v7'),
      /\[Chart\/Llama\/Production\] promote\(version\): there is no version "v7"; known versions: v1, v2/],
    ['a development environment with more than one replica', (m: Model) => m.addEnvironment('development', { version: 'v1', gateway, autoscaling: { maxReplicas: 3 } }),
      /\[Chart\/Llama\/Development\] autoscaling\.maxReplicas: a development environment runs one replica at most \(received 3\)/],
    ['scale to zero without host names', (m: Model) => m.addEnvironment('staging', { version: 'v1', gateway, autoscaling: { minReplicas: 0 } }),
      /autoscaling through the KEDA HTTP add-on|hostnames: scaling to zero goes through the KEDA HTTP add-on interceptor/],
  ])('rejects %s', (_name, fn, message) => {
    const { model } = setup();
    expect(() => fn(model)).toThrow(message);
  });

  test('rejects scale to zero with a GPU product no node pool provides, at synth', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway });
    model.addEnvironment('staging', { version: 'v2', gateway, hostnames: ['s.example.com'], autoscaling: { minReplicas: 0 } });
    expect(() => Testing.synth(chart)).toThrow(/\[Chart\/Llama\/Staging\] autoscaling\.minReplicas: scaling to zero needs a node pool that can create A10G nodes from nothing, and none provides it \(pools: none\) \(received "A10G"\)\. Fix: add `new GpuNodePools/);
  });
});
