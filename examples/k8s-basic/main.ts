/**
 * k8s-basic: one GPU model with a production and a staging environment.
 *
 * Production serves v1 on 2..6 replicas behind the `inference` Gateway at llama.example.com/; staging scales to
 * zero (the KEDA HTTP add-on wakes it on the first request) at staging.llama.example.com. Karpenter NodePools for
 * the GPUs the versions need are derived from the model. Writes the manifests into examples/k8s-basic/dist/.
 *
 * Serving arguments a real g5 node needs (vLLM):
 * - `--port 8000` and `port: 8000`: vLLM's default port; the probes, Service and routes use the model's `port`,
 *   so the two must agree;
 * - `--max-model-len 8192`: Llama 3.1 declares a 128k context, whose KV cache does not fit beside the 16 GB of
 *   weights on one 24 GB A10G; vLLM refuses to start without a shorter limit;
 * - `HF_TOKEN` from the Secret `hf-token`: Llama 3.1 is gated on Hugging Face (create the Secret with a token of
 *   an account that accepted the licence: `kubectl -n models create secret generic hf-token --from-literal=token=hf_...`);
 * - a 50 GiB model cache (HOME, HF_HOME, vLLM and Triton caches): the weights are downloaded there.
 *
 * Run: node -r ./test/support/register-ts.js examples/k8s-basic/main.ts
 */
import * as path from 'path';
import { App, Chart, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { Gpu, GpuProduct } from '../../src';
import { GpuNodePools, Model, ModelCache } from '../../src/k8s';

export const outdir = path.join(__dirname, 'dist');
export const app = new App({ outdir });
const chart = new Chart(app, 'Llama', { namespace: 'models', disableResourceNameHashes: true });

const llama = new Model(chart, 'Llama', {
  name: 'llama',
  image: 'vllm/vllm-openai:v0.6.3',
  port: 8000,
  args: ['--model', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '8000', '--max-model-len', '8192'],
  secretEnv: { HF_TOKEN: { secretName: 'hf-token', key: 'token' } },
  modelCache: ModelCache.emptyDir(Size.gibibytes(50)),
  cpu: Cpu.units(4),
  memory: Size.gibibytes(32),
  gpu: Gpu.nvidia({ count: 1, product: GpuProduct.A10G }),
  loadTimeout: Duration.minutes(20),
  // the prometheus-operator Prometheus that selects the model's PodMonitor (its governing Service)
  prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
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
