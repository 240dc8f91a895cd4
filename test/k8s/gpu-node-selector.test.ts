/**
 * GPU nodes this library did not create: a node selector per GPU product (GPU Feature Discovery's labels as a
 * preset), used by the pods' node affinity, by the Karpenter pools and by the synth check of scale to zero.
 *
 * The node below carries the labels NVIDIA GPU Feature Discovery sets on an EKS g6 node (an L4): `nvidia.com/gpu.*`
 * as listed in GFD's README ("Generated Labels", https://github.com/NVIDIA/k8s-device-plugin/tree/main/docs/gpu-feature-discovery)
 * and nothing of this library. `matches` follows the Kubernetes rule for required node affinity
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity): the terms are ORed, the
 * expressions of a term ANDed; `In` matches when the node has the key with one of the values.
 */
import { Chart, Testing } from 'cdk8s';
import { GpuNodePools, Model } from '../../src/k8s';
import { Gpu, GpuNodeSelector, GpuProduct } from '../../src/rollout';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';

const gfdNode = {
  'kubernetes.io/arch': 'amd64',
  'node.kubernetes.io/instance-type': 'g6.xlarge',
  'nvidia.com/gpu.present': 'true',
  'nvidia.com/gpu.count': '1',
  'nvidia.com/gpu.family': 'ada-lovelace',
  'nvidia.com/gpu.memory': '23034',
  'nvidia.com/gpu.product': 'NVIDIA-L4',
  'nvidia.com/gpu.replicas': '1',
};

interface Expression { key: string; operator: string; values?: string[] }
function matches(labels: Record<string, string>, terms: Array<{ matchExpressions: Expression[] }>): boolean {
  return terms.some((t) => t.matchExpressions.every((e) => {
    if (e.operator !== 'In') throw new Error(`operator ${e.operator} not modelled`);
    return e.key in labels && (e.values ?? []).includes(labels[e.key]);
  }));
}

function deployment(product: GpuProduct, withPools?: (chart: Chart) => void) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { prometheusUrl: PROMETHEUS, image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product }) });
  model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' }, hostnames: ['llm.example.com'] });
  withPools?.(chart);
  const objects = Testing.synth(chart);
  return { objects, pod: objects.find((o) => o.kind === 'Deployment').spec.template.spec };
}

describe('GPU nodes this library did not create', () => {
  test('a GPU Feature Discovery node schedules a pod of the GFD preset; the library label alone never matches it', () => {
    const gfd = deployment(GpuProduct.L4.withNodeSelector(GpuNodeSelector.GPU_FEATURE_DISCOVERY)).pod;
    const terms = gfd.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([{ matchExpressions: [{ key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-L4'] }] }]);
    expect(matches(gfdNode, terms)).toBe(true);
    // the default (this library's label) is what GpuNodePools and GpuNodeGroup put on their nodes
    const library = deployment(GpuProduct.L4).pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(matches(gfdNode, library)).toBe(false);
    expect(matches({ ...gfdNode, 'model-rollout.dev/gpu-product': 'L4' }, library)).toBe(true);
  });

  test('any label: a node labelled by the platform team', () => {
    const own = GpuProduct.custom('RTX6000', [], 48).withNodeSelector(GpuNodeSelector.label('acme.com/gpu', ['rtx-6000-ada']));
    const terms = deployment(own).pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(matches({ 'acme.com/gpu': 'rtx-6000-ada' }, terms)).toBe(true);
    expect(matches(gfdNode, terms)).toBe(false);
  });

  test('the synth check of scale to zero compares the selector: a library-labelled pool does not provide GFD nodes', () => {
    const product = GpuProduct.L4.withNodeSelector(GpuNodeSelector.GPU_FEATURE_DISCOVERY);
    const build = (provided: GpuProduct) => {
      const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
      const model = new Model(chart, 'Llm', { prometheusUrl: PROMETHEUS, image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product }) });
      model.addEnvironment('staging', { version: 'v1', gateway: { name: 'inference' }, hostnames: ['s.example.com'], autoscaling: { minReplicas: 0 } });
      GpuNodePools.external(chart, [provided]);
      return () => Testing.synth(chart);
    };
    expect(build(GpuProduct.L4)).toThrow(/scaling to zero needs a node pool that can create L4 \(nvidia\.com\/gpu\.product in NVIDIA-L4\) nodes from nothing, and none provides it \(pools: L4\)/);
    expect(build(product)).not.toThrow();
  });

  test('a Karpenter pool for a GFD-selected product declares the label, so Karpenter provisions for the pods', () => {
    const product = GpuProduct.L4.withNodeSelector(GpuNodeSelector.GPU_FEATURE_DISCOVERY);
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const model = new Model(chart, 'Llm', { prometheusUrl: PROMETHEUS, image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product }) });
    model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' } });
    new GpuNodePools(chart, 'Pools', { models: [model], nodeClass: { role: 'KarpenterNodeRole-inference', discoveryTag: 'inference' } });
    const pool = Testing.synth(chart).find((o) => o.kind === 'NodePool');
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-L4'] });
  });

  test.each([
    ['GFD for a product without a preset', GpuProduct.custom('MI300X', [], 192).withNodeSelector(GpuNodeSelector.GPU_FEATURE_DISCOVERY),
      /^\[Chart\/Llm\] gpu\.product\.nodeSelector: there is no GPU Feature Discovery preset for "MI300X" .*\(received GpuNodeSelector\.GPU_FEATURE_DISCOVERY for MI300X\)\. Fix: give the value GFD sets/],
    ['a label key with a space', GpuProduct.L4.withNodeSelector(GpuNodeSelector.label('gpu product', ['L4'])), /gpu\.product\.nodeSelector\.key: a node label key .*\(received "gpu product"\)/],
    ['no label value', GpuProduct.L4.withNodeSelector(GpuNodeSelector.label('nvidia.com/gpu.product', [])), /gpu\.product\.nodeSelector\.values: a node selector needs at least one label value/],
    ['a label value with a space', GpuProduct.L4.withNodeSelector(GpuNodeSelector.label('nvidia.com/gpu.product', ['NVIDIA L4'])),
      /gpu\.product\.nodeSelector\.values\[0\]: a label value is 1 to 63 .*\(received "NVIDIA L4"\)\. Fix: copy the value from `kubectl get nodes --show-labels`/],
  ])('refuses %s with the construct path, property, value and fix', (_name, product, message) => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    expect(() => new Model(chart, 'Llm', { prometheusUrl: PROMETHEUS, image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product }) })).toThrow(message);
  });
});
