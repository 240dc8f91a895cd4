import { Chart, Duration, Testing } from 'cdk8s';
import { GpuNodePools, Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { findObject } from '../support/synth';

const nodeClass = { role: 'KarpenterNodeRole-inference', discoveryTag: 'inference' };
const gateway = { name: 'inference' };

function model(chart: Chart) {
  const m = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  m.addVersion('v2', { gpu: Gpu.nvidia({ count: 4, product: GpuProduct.H100 }) });
  m.addEnvironment('production', { version: 'v1', gateway });
  return m;
}

describe('GpuNodePools', () => {
  test('derives one NodePool per GPU product the versions need, with taint, label, GPU budget and safe disruption', () => {
    // GIVEN
    const chart = new Chart(Testing.app(), 'Chart');
    const m = model(chart);
    // WHEN
    const pools = new GpuNodePools(chart, 'GpuNodes', { models: [m], nodeClass, maxGpus: 32, consolidateAfter: Duration.minutes(5) });
    const objects = Testing.synth(chart);
    // THEN
    expect(pools.products.map((p) => p.name)).toEqual(['A10G', 'H100']);
    const nodePools = objects.filter((o) => o.kind === 'NodePool');
    expect(nodePools.map((p) => p.metadata.name)).toEqual(['gpu-a10g', 'gpu-h100']);
    const h100 = nodePools[1].spec;
    expect(h100.template.metadata.labels).toEqual({ 'model-rollout.dev/gpu-product': 'H100' });
    expect(h100.template.spec.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(h100.template.spec.requirements[0]).toEqual({ key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: ['p5'] });
    expect(h100.limits).toEqual({ 'nvidia.com/gpu': '32' });
    expect(h100.disruption).toEqual({ consolidationPolicy: 'WhenEmpty', consolidateAfter: '300s', budgets: [{ nodes: '1' }, { nodes: '0', reasons: ['Drifted'], schedule: '0 6 * * *', duration: '20h' }] });
    const nodeClassObj = findObject(objects, 'EC2NodeClass');
    expect(nodeClassObj.spec.role).toBe('KarpenterNodeRole-inference');
    expectValid(objects);
    expect(GpuNodePools.providedProducts(chart)).toEqual(['A10G', 'H100']);
  });

  test('a version added after the pools were derived fails validation with the fix', () => {
    const chart = new Chart(Testing.app(), 'Chart');
    const m = model(chart);
    new GpuNodePools(chart, 'GpuNodes', { models: [m], nodeClass });
    m.addVersion('v3', { gpu: Gpu.nvidia({ product: GpuProduct.L4 }) });
    expect(() => Testing.synth(chart)).toThrow(/\[Chart\/GpuNodes\] models\.llama\.v3: a version needs L4 GPUs, but the node pools were derived before that version was added .*Fix: create GpuNodePools after every `addVersion\(\)` call/);
  });

  test('a zero GPU budget is rejected', () => {
    const chart = new Chart(Testing.app(), 'Chart');
    expect(() => new GpuNodePools(chart, 'GpuNodes', { models: [model(chart)], nodeClass, maxGpus: 0 })).toThrow(/\[Chart\/GpuNodes\] maxGpus: .*\(received 0\)/);
  });
});
