// One synthesis measured as a whole process: `node bench/synth/case.js <k8s|aws|bare-k8s|bare-tf> <N> <outdir>`.
// Uses the compiled library (lib/, built by `npm run bench`). Prints {"ms":..., "maxRssKb":..., "objects":...}.
const started = process.hrtime.bigint();
const [, , kind, nArg, outdir] = process.argv;
const n = Number(nArg);
let objects = 0;

if (kind === 'bare-k8s') {
  const { App, Chart, ApiObject } = require('cdk8s');
  const app = new App({ outdir });
  const chart = new Chart(app, 'Bare');
  new ApiObject(chart, 'Deployment', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bare' },
    spec: { selector: { matchLabels: { app: 'bare' } }, template: { metadata: { labels: { app: 'bare' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  app.synth();
  objects = 1;
} else if (kind === 'bare-tf') {
  const { App, TerraformStack } = require('cdktf');
  const { AwsProvider } = require('@cdktf/provider-aws/lib/provider');
  const { SsmParameter } = require('@cdktf/provider-aws/lib/ssm-parameter');
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'bare');
  new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
  new SsmParameter(stack, 'Param', { name: '/bare', type: 'String', value: 'x' });
  app.synth();
  objects = 1;
} else if (kind === 'k8s') {
  const { App, Chart } = require('cdk8s');
  const lib = require('../../lib');
  const app = new App({ outdir });
  const chart = new Chart(app, 'Models', { namespace: 'models', disableResourceNameHashes: true });
  const models = [];
  for (let i = 0; i < n; i++) {
    const m = new lib.Model(chart, `M${i}`, { name: `m${i}`, image: 'vllm/vllm-openai:v0.6.3', gpu: lib.Gpu.nvidia({ product: lib.GpuProduct.A10G }) });
    m.addVersion('v2');
    for (const env of ['production', 'staging', 'eu']) {
      const e = m.addEnvironment(env, { version: 'v1', gateway: { name: 'inference' }, autoscaling: { minReplicas: 2 } });
      new lib.CanaryRollout(chart, `R${i}${env}`, { environment: e, canaries: [{ version: 'v2' }] });
    }
    models.push(m);
  }
  new lib.GpuNodePools(chart, 'Pools', { models, nodeClass: { role: 'r', discoveryTag: 't' } });
  app.synth();
  objects = chart.toJson().length;
} else if (kind === 'aws') {
  const { App, TerraformStack } = require('cdktf');
  const { AwsProvider } = require('@cdktf/provider-aws/lib/provider');
  const lib = require('../../lib');
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'models');
  new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
  let priority = 1;
  for (let i = 0; i < n; i++) {
    for (const env of ['prod', 'stg', 'eu']) {
      new lib.AlbCanaryRollout(stack, `R${i}${env}`, {
        name: `m${i}-${env}`,
        listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/lb/1/2',
        vpcId: 'vpc-1', priority: priority++,
        versions: [{ name: 'v1' }, { name: 'v2' }], stableVersion: 'v1', canaries: [{ version: 'v2' }],
      });
    }
  }
  app.synth();
  objects = Object.values(require(`${outdir}/stacks/models/cdk.tf.json`).resource).reduce((s, r) => s + Object.keys(r).length, 0);
} else {
  throw new Error(`unknown case ${kind}`);
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, objects }) + '\n');
