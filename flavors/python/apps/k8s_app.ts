/**
 * The TypeScript twin of k8s_app.py: same input, same construct ids. test/flavors/python.test.ts runs both and
 * compares the files they write. Run: node -r ./test/support/register-ts.js flavors/python/apps/k8s_app.ts [outdir]
 */
import { App, Chart, Duration, Size } from 'cdk8s';
import { Gpu, GpuProduct, Steps } from '../../../src';
import { CanaryRollout, Model } from '../../../src/k8s';

export function synth(outdir: string): void {
  const app = new App({ outdir });
  const chart = new Chart(app, 'Llama', { namespace: 'models', disableResourceNameHashes: true });

  const llama = new Model(chart, 'Llama', {
    name: 'llama',
    image: 'vllm/vllm-openai:v0.6.3',
    memory: Size.gibibytes(24),
    gpu: Gpu.nvidia({ count: 1, product: GpuProduct.A10G }),
    prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
  });
  llama.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4' });

  const production = llama.addEnvironment('production', {
    version: 'v1',
    gateway: { name: 'inference', namespace: 'gateways' },
    hostnames: ['llama.example.com'],
    autoscaling: { minReplicas: 2, maxReplicas: 4 },
  });

  new CanaryRollout(chart, 'Rollout', {
    environment: production,
    canaries: [{ version: 'v2' }],
    steps: Steps.equal({ count: 5, over: Duration.minutes(10) }),
  });

  app.synth();
}

if (require.main === module) synth(process.argv[2] ?? 'dist');
