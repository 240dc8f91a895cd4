/**
 * The seed's environment rules (reserved names are kinds, one development environment named `development`, at most
 * one replica and always able to scale to zero) and `promote()` of a model whose engine is not recognisable.
 */
import { Chart, Testing } from 'cdk8s';
import { EnvironmentKind, Model } from '../../src/k8s';
import { Gpu, GpuProduct, Metric } from '../../src/rollout';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';

const gateway = { name: 'inference', namespace: 'gateways' };
const find = (objects: any[], kind: string, name?: string) => objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));

function setup(image = 'vllm/vllm-openai:v0.6.3') {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: PROMETHEUS, image, gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  model.addVersion('v2');
  return { chart, model };
}

describe('environment rules as the seed states them', () => {
  test.each([
    ['a custom kind named production', (m: Model) => m.addEnvironment('eu', { version: 'v1', gateway, kind: EnvironmentKind.custom('production') }),
      /^\[Chart\/Llama\/Eu\] kind: "production" is the name of a built-in kind: .* \(received EnvironmentKind\.custom\('production'\)\)\. Fix: use EnvironmentKind\.PRODUCTION, or give the custom kind another name/],
    ['a custom kind named development', (m: Model) => m.addEnvironment('sandbox', { version: 'v1', gateway, kind: EnvironmentKind.custom('development') }),
      /\[Chart\/Llama\/Sandbox\] kind: "development" is the name of a built-in kind/],
    ['an environment named production of another kind', (m: Model) => m.addEnvironment('production', { version: 'v1', gateway, kind: EnvironmentKind.STAGING }),
      /\[Chart\/Llama\/Production\] kind: an environment named "production" is the production environment, but its kind is "staging" \(received "production"\)\. Fix: leave `kind` out/],
    ['a development environment with another name', (m: Model) => m.addEnvironment('dev', { version: 'v1', gateway, hostnames: ['dev.example.com'], kind: EnvironmentKind.DEVELOPMENT }),
      /\[Chart\/Llama\/Dev\] name: a development environment is always named "development" .*\(received "dev"\)\. Fix: name it 'development'/],
    ['a development environment that keeps a replica', (m: Model) => m.addEnvironment('development', { version: 'v1', gateway, hostnames: ['dev.example.com'], autoscaling: { minReplicas: 1 } }),
      /\[Chart\/Llama\/Development\] autoscaling\.minReplicas: a development environment always scales to zero when idle \(received 1\)\. Fix: leave minReplicas out/],
  ])('refuses %s, naming the path, property, value and fix', (_name, build, message) => {
    const { model } = setup();
    expect(() => build(model)).toThrow(message);
  });

  test('a custom kind with another name keeps working; the production kind may carry another name', () => {
    const { model } = setup();
    expect(model.addEnvironment('eu', { version: 'v1', gateway, kind: EnvironmentKind.custom('canary-eu') }).kind.isCustom).toBe(true);
    expect(model.addEnvironment('prod-eu', { version: 'v1', gateway, kind: EnvironmentKind.PRODUCTION }).kind.isProduction).toBe(true);
  });
});

describe('promote() of a model whose serving engine is not recognisable', () => {
  const custom = 'ghcr.io/acme/fastapi-llm:1.4';

  test('refused without checks, with the fix as promote() takes it', () => {
    const { model } = setup(custom);
    const prod = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'] });
    expect(() => prod.promote('v2')).toThrow(/^\[Chart\/Llama\/Production\] promote\(options\.defaultChecks\): the serving engine of model "llama" is not recognisable[\s\S]*Fix: .*`promote\('v2', \{ defaultChecks: false \}\)`/);
  });

  test('promote(v, { defaultChecks: false }) runs the at-once switch unchecked', () => {
    const { chart, model } = setup(custom);
    const prod = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'] });
    prod.promote('v2', { defaultChecks: false });
    const spec = JSON.parse(find(Testing.synth(chart), 'ConfigMap', 'llama-production-promote-rollout-spec').data['spec.json']);
    expect(spec.canaries).toEqual([{ version: 'v2', targetWeight: 100, ramp: true }]);
    expect(spec.checks).toEqual([]);
    expect(prod.currentVersion).toBe('v2');
  });

  test('promote(v, { checks }) judges the promotion with them', () => {
    const { chart, model } = setup(custom);
    const prod = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'] });
    const check = Metric.prometheus({ name: 'errors', query: 'sum(rate(app_errors_total{version="{{version}}"}[1m]))', threshold: 0.01 });
    prod.promote('v2', { checks: [check] });
    const spec = JSON.parse(find(Testing.synth(chart), 'ConfigMap', 'llama-production-promote-rollout-spec').data['spec.json']);
    expect(spec.checks.map((c: any) => c.name)).toEqual(['errors']);
  });
});
