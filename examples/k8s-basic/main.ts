/**
 * k8s-basic: one GPU model with a production and a staging environment.
 *
 * Production serves v1 on 2..6 replicas behind the `inference` Gateway at llama.example.com/; staging scales to
 * zero (the KEDA HTTP add-on wakes it on the first request) at staging.llama.example.com. Karpenter NodePools for
 * the GPUs the versions need are derived from the model. Writes the manifests into examples/k8s-basic/dist/.
 *
 * Run: npx ts-node --project examples/tsconfig.json examples/k8s-basic/main.ts
 */
import * as path from 'path';
import { App, Chart, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { Gpu, GpuProduct } from '../../src';
import { GpuNodePools, Model } from '../../src/k8s';

export const outdir = path.join(__dirname, 'dist');
export const app = new App({ outdir });
const chart = new Chart(app, 'Llama', { namespace: 'models', disableResourceNameHashes: true });

const llama = new Model(chart, 'Llama', {
  name: 'llama',
  image: 'vllm/vllm-openai:v0.6.3',
  args: ['--model', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '8080'],
  cpu: Cpu.units(4),
  memory: Size.gibibytes(32),
  gpu: Gpu.nvidia({ count: 1, product: GpuProduct.A10G }),
  loadTimeout: Duration.minutes(20),
});
llama.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4', env: { VLLM_ATTENTION_BACKEND: 'FLASHINFER' } });

llama.addEnvironment('production', {
  version: 'v1',
  gateway: { name: 'inference', namespace: 'gateways' },
  hostnames: ['llama.example.com'],
  autoscaling: { minReplicas: 2, maxReplicas: 6, concurrencyTarget: 8 },
});
llama.addEnvironment('staging', {
  version: 'v2',
  gateway: { name: 'inference', namespace: 'gateways' },
  hostnames: ['staging.llama.example.com'],
  autoscaling: { minReplicas: 0, maxReplicas: 2, scaleDownDelay: Duration.minutes(5) },
});

new GpuNodePools(chart, 'GpuNodes', {
  models: [llama],
  nodeClass: { role: 'KarpenterNodeRole-inference', discoveryTag: 'inference' },
  maxGpus: 16,
});

app.synth();
