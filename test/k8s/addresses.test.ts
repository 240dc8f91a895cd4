/**
 * Addresses as inputs: the KEDA HTTP add-on's Services (where the add-on is installed) and the Prometheus that the
 * autoscalers and the checks query. No Prometheus address is guessed: with a wrong one, KEDA's fallback sends every
 * serving version to its maximum replicas after three failed queries, silently.
 */
import { Chart, Testing } from 'cdk8s';
import { Autoscaler, CanaryRollout, GpuNodePools, Model, ScaleToZeroApi } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';
import { KubeTwin, World } from '../support/kube-twin';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';
const gateway = { name: 'inference', namespace: 'gateways' };
const find = (objects: any[], kind: string, name?: string) => objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));

function chart() {
  return new Chart(Testing.app(), 'Chart', { namespace: 'models' });
}

describe('Prometheus: required where a query needs it, never guessed', () => {
  test('a KEDA environment without an address is refused with the operator setup in the fix', () => {
    const model = new Model(chart(), 'Llama', { image: 'vllm/vllm-openai:v0.6.3' });
    expect(() => model.addEnvironment('production', { version: 'v1', gateway }))
      .toThrow(/^\[Chart\/Llama\/Production\] autoscaling\.autoscaler\.prometheusUrl: the KEDA autoscaler of environment "production" queries Prometheus, and no address is given .*Fix: give the Prometheus that scrapes the model's pods: .*prometheus-operated\.monitoring\.svc:9090/);
  });

  test('the model\'s address reaches the KEDA trigger and the controller; the autoscaler\'s and the rollout\'s override it', () => {
    const c = chart();
    const model = new Model(c, 'Llama', { image: 'vllm/vllm-openai:v0.6.3', prometheusUrl: PROMETHEUS });
    model.addVersion('v2');
    const production = model.addEnvironment('production', { version: 'v1', gateway });
    model.addEnvironment('staging', { version: 'v1', gateway, autoscaling: { autoscaler: Autoscaler.keda({ prometheusUrl: 'https://thanos.example.com' }) } });
    new CanaryRollout(c, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
    const objects = Testing.synth(c);
    expect(find(objects, 'ScaledObject', 'llama-production-v1').spec.triggers[0].metadata.serverAddress).toBe(PROMETHEUS);
    expect(find(objects, 'ScaledObject', 'llama-staging-v1').spec.triggers[0].metadata.serverAddress).toBe('https://thanos.example.com');
    expect(JSON.parse(find(objects, 'ConfigMap', 'llama-production-rollout-spec').data['target.json']).prometheusUrl).toBe(PROMETHEUS);
  });

  test('a rollout whose checks query Prometheus needs an address even where nothing else does (HPA)', () => {
    const c = chart();
    const model = new Model(c, 'Llama', { image: 'vllm/vllm-openai:v0.6.3' });
    model.addVersion('v2');
    const production = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { autoscaler: Autoscaler.hpa() } });
    expect(() => new CanaryRollout(c, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] }))
      .toThrow(/^\[Chart\/Rollout\] prometheusUrl: the checks of rollout "llama-production" query Prometheus, and no address is given/);
  });

  test('an environment that scales to zero queries no Prometheus and needs none', () => {
    const c = chart();
    const model = new Model(c, 'Llama', { image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
    model.addEnvironment('development', { version: 'v1', gateway, hostnames: ['dev.example.com'] });
    GpuNodePools.external(c, [GpuProduct.A10G]);
    expect(find(Testing.synth(c), 'HTTPScaledObject')).toBeDefined();
  });

  test.each([
    ['a relative address', { prometheusUrl: 'prometheus:9090' }, /\[Chart\/Llama\] prometheusUrl: an address must be an absolute http:\/\/ or https:\/\/ URL with a host \(received "prometheus:9090"\)/],
    ['another scheme', { prometheusUrl: 'ftp://prometheus' }, /prometheusUrl: an address must be .*\(received "ftp:\/\/prometheus"\)/],
  ])('refuses %s with the path, property, value and fix', (_name, props, message) => {
    expect(() => new Model(chart(), 'Llama', { image: 'vllm/vllm-openai:v0.6.3', ...props })).toThrow(message);
  });
});

describe('the KEDA HTTP add-on where it is installed', () => {
  const addOn = { namespace: 'http-add-on', interceptorService: 'interceptor', interceptorPort: 9080, externalScalerService: 'scaler', externalScalerPort: 9091 };

  function dev(api?: ScaleToZeroApi) {
    const c = chart();
    const model = new Model(c, 'Llm', { image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
    model.addEnvironment('development', { version: 'v1', gateway, hostnames: ['dev.example.com'], autoscaling: { kedaHttpAddOn: addOn, ...(api ? { scaleToZeroApi: api } : {}) } });
    return Testing.synth(c);
  }

  test('the route, the ReferenceGrant and the InterceptorRoute\'s scaler name the configured Services', () => {
    const objects = dev();
    expect(find(objects, 'HTTPRoute').spec.rules[0].backendRefs).toEqual([{ name: 'interceptor', namespace: 'http-add-on', port: 9080, weight: 1 }]);
    const grant = find(objects, 'ReferenceGrant');
    expect(grant.metadata.namespace).toBe('http-add-on');
    expect(grant.spec.to).toEqual([{ group: '', kind: 'Service', name: 'interceptor' }]);
    const scaled = find(dev(ScaleToZeroApi.INTERCEPTOR_ROUTE), 'ScaledObject');
    expect(scaled.spec.triggers[0].metadata.scalerAddress).toBe('scaler.http-add-on:9091');
  });

  test('through the twin\'s gateway: a request at zero goes to that interceptor, waits for the cold start and is served', async () => {
    const twin = await KubeTwin.start();
    try {
      twin.seedNamespaces('models', 'http-add-on', 'gateways');
      twin.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'interceptor', namespace: 'http-add-on' }, spec: { ports: [{ port: 9080 }] } });
      for (const o of dev()) twin.seed(o);
      const world = new World(twin, {
        interceptor: { namespace: 'http-add-on', service: 'interceptor' },
        traffic: (t) => (t === 1 ? [{ host: 'dev.example.com', path: '/v1/completions' }] : []),
      });
      world.setColdStart('models', 'llm-development-v1', 60);
      world.reconcile();
      world.advance(30);
      expect(world.stats).toMatchObject({ total: 1, held: 1, ok: 0, failed: 0 });
      world.advance(60);
      expect(world.stats).toMatchObject({ total: 1, held: 0, ok: 1, failed: 0 });
    } finally {
      await twin.stop();
    }
  });

  test.each([
    ['a namespace that is not DNS-1123', { namespace: 'HTTP_Addon' }, /\[Chart\/Llm\/Development\] autoscaling\.kedaHttpAddOn\.namespace: .*\(received "HTTP_Addon"\)/],
    ['a port out of range', { interceptorPort: 70000 }, /\[Chart\/Llm\/Development\] autoscaling\.kedaHttpAddOn\.interceptorPort: .*\(received 70000\)/],
  ])('refuses %s with the path, property, value and fix', (_name, options, message) => {
    const model = new Model(chart(), 'Llm', { image: 'vllm/vllm-openai:v0.6.3' });
    expect(() => model.addEnvironment('development', { version: 'v1', gateway, hostnames: ['dev.example.com'], autoscaling: { kedaHttpAddOn: options } })).toThrow(message);
  });
});
