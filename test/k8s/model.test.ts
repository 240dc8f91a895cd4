import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { objectsOf } from '../support/synth';

function setup(props: Partial<ConstructorParameters<typeof Model>[2]> = {}) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ count: 2, product: GpuProduct.L40S }), ...props });
  return { chart, model };
}
const gateway = { name: 'inference', namespace: 'gateways' };

describe('Model', () => {
  test('renders per version a Deployment with GPUs, toleration, affinity, probes sized from the load timeout, and a restricted pod', () => {
    // GIVEN
    const { chart, model } = setup({ loadTimeout: Duration.minutes(20), cpu: Cpu.units(8), memory: Size.gibibytes(64), env: { HF_HOME: '/tmp/hf' } });
    // WHEN
    model.addEnvironment('production', { version: 'v1', gateway });
    const objects = Testing.synth(chart);
    // THEN
    const [deployment] = objectsOf(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment.metadata.name).toBe('llama-production-v1');
    expect(container.resources.limits).toEqual({ 'cpu': '8', 'memory': '65536Mi', 'ephemeral-storage': '100Gi', 'nvidia.com/gpu': 2 });
    expect(container.resources.requests).toEqual(container.resources.limits);
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions)
      .toEqual([{ key: 'model-rollout.dev/gpu-product', operator: 'In', values: ['L40S'] }]);
    expect(container.startupProbe).toEqual({ httpGet: { path: '/health', port: 8080 }, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 120 });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health', port: 8080 });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    // the user's HF_HOME wins over the cache default
    expect(container.env.filter((e: any) => e.name === 'HF_HOME')).toEqual([{ name: 'HF_HOME', value: '/tmp/hf' }]);
    expect(container.env[container.env.length - 1]).toEqual({ name: 'MODEL_ENVIRONMENT', value: 'production' });
    expect(objectsOf(objects, 'PodDisruptionBudget')[0].spec.minAvailable).toBe(1);
    expect(objectsOf(objects, 'Service')[0].spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }]);
    expectValid(objects);
  });

  test('images that need root opt out of the restricted security context', () => {
    const { chart, model } = setup({ allowRoot: true });
    model.addEnvironment('production', { version: 'v1', gateway });
    const [deployment] = objectsOf(Testing.synth(chart), 'Deployment');
    expect(deployment.spec.template.spec.securityContext).toBeUndefined();
    expect(deployment.spec.template.spec.containers[0].securityContext).toBeUndefined();
  });

  test('versions override image, env, resources and GPU per version', () => {
    const { chart, model } = setup({ env: { A: '1' } });
    const v2 = model.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4', env: { B: '2' }, gpu: Gpu.nvidia({ count: 1, product: GpuProduct.H100 }) });
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    prod.promote('v2');
    const v2Deployment = objectsOf(Testing.synth(chart), 'Deployment').find((d) => d.metadata.name === 'llama-production-v2');
    const c = v2Deployment.spec.template.spec.containers[0];
    expect(v2.gpusPerReplica).toBe(1);
    expect(c.image).toBe('vllm/vllm-openai:v0.6.4');
    expect(c.env.map((e: any) => e.name).filter((n: string) => /^[AB]$|MODEL_ENV/.test(n))).toEqual(['A', 'B', 'MODEL_ENVIRONMENT']);
    expect(c.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(model.versions.map((v) => v.name)).toEqual(['v1', 'v2']);
  });

  test.each([
    ['a GPU count of 0', () => setup({ gpu: Gpu.nvidia({ count: 0, product: GpuProduct.A10G }) }), /^\[Chart\/Llama\] gpu\.count: a GPU count must be a whole number of at least 1 \(received 0\)\. Fix: use `Gpu\.nvidia/],
    ['a negative GPU count', () => setup({ gpu: Gpu.nvidia({ count: -1, product: GpuProduct.A10G }) }), /gpu\.count: .*\(received -1\)/],
    ['a fractional GPU count', () => setup().model.addVersion('v2', { gpu: Gpu.nvidia({ count: 0.5, product: GpuProduct.A10G }) }), /\[Chart\/Llama\] versions\.v2\.gpu\.count: .*\(received 0\.5\)/],
    ['a model name that is not DNS-1123', () => setup({ name: 'Llama_3' }), /\[Chart\/Llama\] name: names must be DNS-1123 labels.*\(received "Llama_3"\)\. Fix: use for example "llama-3"/],
    ['a version name that is not DNS-1123', () => setup().model.addVersion('V2.0'), /versions\.V2\.0: names must be DNS-1123 labels/],
    ['a duplicate version', () => setup().model.addVersion('v1'), /versions: version "v1" appears more than once/],
    ['an unknown version', () => setup().model.version('v9'), /\[Chart\/Llama\] version: there is no version "v9"; known versions: v1 \(received "v9"\)\. Fix: add it first with `model\.addVersion\('v9'/],
  ])('rejects %s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });

  test('a model with only a staging (or development) environment synthesizes: production is not required', () => {
    const { chart, model } = setup();
    model.addEnvironment('staging', { version: 'v1', gateway });
    expect(Testing.synth(chart).filter((o: any) => o.kind === 'Deployment').map((o: any) => o.metadata.name)).toEqual(['llama-staging-v1']);
  });
});
