/**
 * What the environment's `appliedBy` renders (issue 37): whether the previous version may be scaled to zero after
 * a promotion, which controller-owned fields a GitOps tool is told to leave alone, and where non-serving versions
 * start at 0 replicas.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { CanaryRollout, ManifestApplier, Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';

const gateway = { name: 'inference', namespace: 'gateways' };
const OWNED = 'model-rollout.dev/controller-owned-fields';
const FLUX = 'kustomize.toolkit.fluxcd.io/ssa';

function synth(appliedBy?: ManifestApplier, keepPreviousWarmFor?: Duration) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.L40S, count: 4 }) });
  model.addVersion('v2');
  model.addVersion('v3');
  const prod = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 2 }, appliedBy, keepPreviousWarmFor });
  new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], mirror: { version: 'v3', percent: 5 } });
  const objects = Testing.synth(chart);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const spec = JSON.parse(find('ConfigMap', 'llm-production-rollout-spec').data['spec.json']);
  return { objects, find, spec };
}

describe('appliedBy', () => {
  test('kubectl (default): the previous version keeps its replicas after the promotion; canaries leave replicas out', () => {
    const { find, spec, objects } = synth();
    expect(spec.keepPreviousUntilSpecChanges).toBeUndefined();
    expect(find('HTTPRoute', 'llm-production').metadata.annotations).toEqual({ [OWNED]: 'spec.rules' });
    // client-side apply sets every field it carries: `replicas: 0` would scale a live canary to zero
    expect(find('Deployment', 'llm-production-v2').spec.replicas).toBeUndefined();
    expectValid(objects);
  });

  test('kubectl with keepPreviousWarmFor is refused at synth: a re-apply after the window would route to a version at zero', () => {
    expect(() => synth(undefined, Duration.minutes(30))).toThrow(
      /Chart\/Rollout\] environment\.keepPreviousWarmFor: .*applied with kubectl.*received "30 minutes".*appliedBy/);
  });

  test('Flux: the route and the controller-floored autoscalers are created once, never applied again; v1 may go to zero', () => {
    const { find, spec, objects } = synth(ManifestApplier.FLUX, Duration.minutes(30));
    expect(spec.keepPreviousUntilSpecChanges).toBe(false);
    expect(spec.keepPreviousWarmSeconds).toBe(1800);
    expect(find('HTTPRoute', 'llm-production').metadata.annotations).toEqual({ [OWNED]: 'spec.rules', [FLUX]: 'IfNotPresent' });
    for (const v of ['v1', 'v2', 'v3']) expect(find('ScaledObject', `llm-production-${v}`).metadata.annotations[FLUX]).toBe('IfNotPresent');
    // Flux forces every field it carries at each reconcile: a canary's Deployment leaves `replicas` out
    expect(find('Deployment', 'llm-production-v2').spec.replicas).toBeUndefined();
    expect(find('Deployment', 'llm-production-v1').metadata.annotations?.[FLUX]).toBeUndefined();
    expectValid(objects);
  });

  test.each([ManifestApplier.ARGO_CD, ManifestApplier.TERRAFORM])('%s: non-serving versions whose floor the controller owns start at 0 replicas, marked controller-owned', (applier) => {
    const { find, spec, objects } = synth(applier, Duration.minutes(30));
    expect(spec.keepPreviousUntilSpecChanges).toBe(false);
    for (const v of ['v2', 'v3']) {
      expect(find('Deployment', `llm-production-${v}`).spec.replicas).toBe(0);
      expect(find('Deployment', `llm-production-${v}`).metadata.annotations).toEqual({ [OWNED]: 'spec.replicas' });
      expect(find('ScaledObject', `llm-production-${v}`).metadata.annotations).toEqual({ [OWNED]: 'spec.minReplicaCount,spec.maxReplicaCount' });
    }
    // the serving version's replicas stay its autoscaler's: a re-apply must never scale it down
    expect(find('Deployment', 'llm-production-v1').spec.replicas).toBeUndefined();
    expect(find('HTTPRoute', 'llm-production').metadata.annotations).toEqual({ [OWNED]: 'spec.rules' });
    expectValid(objects);
  });
});
