// The smallest Kubernetes-only app: a Model, its production Environment and a CanaryRollout (see run.sh).
const t0 = process.hrtime.bigint();
const { Model, CanaryRollout } = require('cdk-model-rollout/k8s');
const requireMs = Number(process.hrtime.bigint() - t0) / 1e6;
const { App, Chart } = require('cdk8s');
const { Gpu, GpuProduct } = require('cdk-model-rollout');
const app = new App({ outdir: 'dist' });
const chart = new Chart(app, 'Llama', { namespace: 'models', disableResourceNameHashes: true });
const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
model.addVersion('v2');
const production = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' } });
new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
app.synth();
const loaded = Object.keys(require.cache);
const objects = require('fs').readFileSync(require('path').join('dist', require('fs').readdirSync('dist').find((f) => f.endsWith('.yaml'))), 'utf8').split(/^kind:/m).length - 1;
console.log(`require('cdk-model-rollout/k8s'): ${requireMs.toFixed(0)} ms; modules loaded in all: ${loaded.length}, of them cdktf: ${loaded.filter((f) => /[\\/](cdktf|@cdktf)[\\/]/.test(f)).length}; objects synthesized: ${objects}`);
