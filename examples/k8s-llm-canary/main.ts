/**
 * k8s-llm-canary: a GPU model moving production from v1 to v2 in 10 equal steps over 30 minutes.
 *
 * Users stick to a version by the hash of `x-user-id` (an Istio gateway runs the bucket filter); testers reach
 * v2 at any weight with `x-model-version: v2`; 5 % of requests are mirrored to a v3 shadow whose answers are
 * discarded. An error-rate check with a minimum-sample guard rolls back a faulty canary. The step controller runs
 * in the cluster as a CronJob. Writes the manifests and the rollout plan into examples/k8s-llm-canary/dist/.
 *
 * Serving arguments four L40S on a g6e.12xlarge need (vLLM):
 * - `--tensor-parallel-size 4`: the 70B weights (about 140 GB in bf16) are split over the four 48 GB GPUs;
 * - `--max-model-len 16384`: what is left for the KV cache does not hold the declared 128k context, and vLLM
 *   refuses to start without a shorter limit;
 * - `--port 8000` and `port: 8000`: the probes, Service and routes use the model's `port`;
 * - `HF_TOKEN` from the Secret `hf-token`: Llama 3.1 is gated on Hugging Face;
 * - a 200 GiB model cache for the weights, and node root volumes of 300 GiB to hold it beside the image;
 * - a 25-minute load timeout: the rollout's progress deadline is derived from it (25 + 10 minutes of node launch).
 *
 * Run: node -r ./test/support/register-ts.js examples/k8s-llm-canary/main.ts
 */
import * as path from 'path';
import { App, Chart, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { Gpu, GpuProduct, Metric, Steps } from '../../src';
import { CanaryRollout, GatewayImplementation, GpuNodePools, ManifestApplier, Model, ModelCache, Pin, Routing } from '../../src/k8s';

export const outdir = path.join(__dirname, 'dist');
export const app = new App({ outdir });
const chart = new Chart(app, 'LlmCanary', { namespace: 'models', disableResourceNameHashes: true });

const llm = new Model(chart, 'Llm', {
  name: 'llm',
  image: 'vllm/vllm-openai:v0.6.3',
  port: 8000,
  args: ['--model', 'meta-llama/Llama-3.1-70B-Instruct', '--tensor-parallel-size', '4', '--max-model-len', '16384', '--port', '8000'],
  secretEnv: { HF_TOKEN: { secretName: 'hf-token', key: 'token' } },
  modelCache: ModelCache.emptyDir(Size.gibibytes(200)),
  cpu: Cpu.units(16),
  memory: Size.gibibytes(160),
  gpu: Gpu.nvidia({ count: 4, product: GpuProduct.L40S }),
  loadTimeout: Duration.minutes(25),
  // the prometheus-operator Prometheus that selects the model's PodMonitor (its governing Service)
  prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
});
llm.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4' });
llm.addVersion('v3', { image: 'vllm/vllm-openai:v0.7.0' });

const production = llm.addEnvironment('production', {
  version: 'v1',
  gateway: { name: 'inference', namespace: 'istio-ingress' },
  hostnames: ['llm.example.com'],
  autoscaling: { minReplicas: 4, maxReplicas: 8, concurrencyTarget: 16 },
  // synced by Argo CD with ignoreDifferences on the controller-owned fields and RespectIgnoreDifferences=true
  // (README "Who owns what"): v2 and the v3 shadow start at 0 replicas, and after the promotion v1 stays warm for
  // the 30-minute rollback window, then goes to zero
  appliedBy: ManifestApplier.ARGO_CD,
  keepPreviousWarmFor: Duration.minutes(30),
});

export const rollout = new CanaryRollout(chart, 'Rollout', {
  environment: production,
  canaries: [{ version: 'v2' }],
  steps: Steps.equal({ count: 10, over: Duration.minutes(30) }),
  routing: Routing.headerHash('x-user-id'),
  // the bucket filter of the sticky split is an Istio EnvoyFilter
  gatewayImplementation: GatewayImplementation.ISTIO,
  pins: [Pin.header('x-model-version', 'v2', 'v2')],
  mirror: { version: 'v3', percent: 5 },
  checks: [Metric.prometheus({
    name: 'error-rate',
    query: 'sum(rate(model_requests_total{version="{{version}}",code=~"5.."}[2m])) / sum(rate(model_requests_total{version="{{version}}"}[2m]))',
    threshold: 0.02,
    sampleQuery: 'sum(increase(model_requests_total{version="{{version}}"}[2m]))',
    minSamples: 100,
  })],
});

new GpuNodePools(chart, 'GpuNodes', {
  models: [llm],
  nodeClass: { role: 'KarpenterNodeRole-inference', discoveryTag: 'inference', rootVolumeSize: Size.gibibytes(300) },
  maxGpus: 64,
});

app.synth();
