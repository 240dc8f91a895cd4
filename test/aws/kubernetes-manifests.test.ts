import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Chart, Testing as K8sTesting } from 'cdk8s';
import { Testing, TerraformStack } from 'cdktf';
import { KubernetesManifests } from '../../src/aws';
import { CanaryRollout, EnvironmentKind, Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';

function chart() {
  const c = new Chart(K8sTesting.app(), 'Chart', { namespace: 'models' });
  const m = new Model(c, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  m.addVersion('v2');
  const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' } });
  m.addEnvironment('staging', { version: 'v1', gateway: { name: 'inference' } });
  new CanaryRollout(c, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] });
  return c;
}

describe('KubernetesManifests', () => {
  test('places every object of the charts as a kubernetes_manifest; controller-owned fields are computed', () => {
    const c = chart();
    const count = c.toJson().length;
    const s = JSON.parse(Testing.synthScope((scope) => { new KubernetesManifests(scope, 'Workloads', { charts: [c] }); }));
    const manifests = Object.values(s.resource.kubernetes_manifest) as any[];
    expect(manifests).toHaveLength(count);
    const route = manifests.find((m) => m.manifest.kind === 'HTTPRoute' && m.manifest.metadata.name === 'llama-production');
    expect(route.computed_fields).toEqual(['metadata.labels', 'metadata.annotations', 'spec.rules']);
    const canaryFloor = manifests.find((m) => m.manifest.kind === 'ScaledObject' && m.manifest.metadata.name === 'llama-production-v2');
    expect(canaryFloor.computed_fields).toEqual(['metadata.labels', 'metadata.annotations', 'spec.minReplicaCount', 'spec.maxReplicaCount']);
  });

  test('every manifest forces conflicts, and every field the controller writes is computed when the bridge renders', () => {
    // GIVEN a chart with a rollout, rendered by the bridge (what `cdktf synth` writes)
    const s = JSON.parse(Testing.synthScope((scope) => { new KubernetesManifests(scope, 'Workloads', { charts: [chart()] }); }));
    const manifests = Object.values(s.resource.kubernetes_manifest) as any[];
    // THEN a deploy that changes a controller-owned field writes it instead of failing with a 409 conflict
    expect(manifests.every((m) => m.field_manager?.force_conflicts === true && m.field_manager?.name === undefined)).toBe(true);
    // AND the canary's and the stable version's floors (and maxima) and the route's rules are computed fields
    const computed = (kind: string, name: string) =>
      manifests.find((m) => m.manifest.kind === kind && m.manifest.metadata.name === name)?.computed_fields;
    for (const v of ['v1', 'v2']) expect(computed('ScaledObject', `llama-production-${v}`)).toEqual(expect.arrayContaining(['spec.minReplicaCount', 'spec.maxReplicaCount']));
    expect(computed('HTTPRoute', 'llama-production')).toContain('spec.rules');
    // AND staging, which has no rollout, leaves its floors to the manifest
    expect(computed('ScaledObject', 'llama-staging-v1')).toEqual(['metadata.labels', 'metadata.annotations']);
  });

  test('a rollout added to a chart after the bridge rendered it fails the synth, naming the bridge, the chart and the fix', () => {
    // GIVEN a bridge created before the chart's rollout (its canary floors would not be computed fields)
    const c = new Chart(K8sTesting.app(), 'Chart', { namespace: 'models' });
    const m = new Model(c, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3' });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' } });
    const stack = new TerraformStack(Testing.app(), 'stack');
    new KubernetesProvider(stack, 'Kubernetes', {});
    new KubernetesManifests(stack, 'Workloads', { charts: [c] });
    new CanaryRollout(c, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] });
    // THEN the synth reports it
    expect(() => Testing.synth(stack, true)).toThrow(
      /\[stack\/Workloads\] charts: the chart changed after this bridge rendered it.*HTTPRoute\/models\/llama-production.*received "Chart".*Fix: create the KubernetesManifests bridge after every model, environment and rollout/s);
  });

  test('a bridge created after everything synthesizes with validations', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    new KubernetesProvider(stack, 'Kubernetes', {});
    new KubernetesManifests(stack, 'Workloads', { charts: [chart()] });
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });

  test('production objects (and the production rollout\'s) cannot be destroyed by accident; staging ones can', () => {
    const s = JSON.parse(Testing.synthScope((scope) => { new KubernetesManifests(scope, 'Workloads', { charts: [chart()] }); }));
    const manifests = Object.values(s.resource.kubernetes_manifest) as any[];
    const env = (m: any) => m.manifest.metadata.labels?.['model-rollout.dev/environment'];
    const rollout = (m: any) => m.manifest.metadata.labels?.['model-rollout.dev/rollout'];
    expect(manifests.filter((m) => env(m) === 'production' || rollout(m) === 'llama-production').every((m) => m.lifecycle?.prevent_destroy === true)).toBe(true);
    expect(manifests.filter((m) => env(m) === 'staging').every((m) => m.lifecycle === undefined)).toBe(true);
  });

  test('"production" is the environment\'s kind, not its name; destroyProtection is the one switch', () => {
    // GIVEN an environment named "prod" of kind production, and a production environment opted out
    const synthOf = (destroyProtection?: boolean) => {
      const c = new Chart(K8sTesting.app(), 'Chart', { namespace: 'models' });
      const m = new Model(c, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3' });
      m.addEnvironment('prod', { version: 'v1', kind: EnvironmentKind.PRODUCTION, gateway: { name: 'inference' }, destroyProtection });
      const s = JSON.parse(Testing.synthScope((scope) => { new KubernetesManifests(scope, 'Workloads', { charts: [c] }); }));
      return Object.values(s.resource.kubernetes_manifest) as any[];
    };
    // THEN the kind decides by default, and the prop overrides it
    expect(synthOf().every((m) => m.lifecycle?.prevent_destroy === true)).toBe(true);
    expect(synthOf(false).every((m) => m.lifecycle === undefined)).toBe(true);
  });
});
