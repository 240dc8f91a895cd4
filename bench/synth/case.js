// One synthesis measured as a whole process: `node bench/synth/case.js <case> <N> [<floor input>] <outdir>`.
//   k8s, aws              the library: N models x 3 environments x 1 rollout (compiled library, see ./library.js)
//   floor-k8s, floor-aws  the same-size floor: the bare framework (cdk8s / cdktf) building the very objects the
//                         library synthesized for the same N (read from <floor input>, written by run.ts), so
//                         library / floor is what the library costs over the framework for the same output
// Prints {"maxRssKb":...}; the caller times the process and counts what it wrote into <outdir>.
const fs = require('fs');

const [kind, nArg, ...rest] = process.argv.slice(2);
const n = Number(nArg);
const outdir = rest.pop();
const floorInput = rest[0];

if (kind === 'k8s') {
  const { App, Chart } = require('cdk8s');
  const lib = require('./library').k8s();
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
} else if (kind === 'aws') {
  const { App, TerraformStack } = require('cdktf');
  const { AwsProvider } = require('@cdktf/provider-aws/lib/provider');
  const lib = require('./library').aws();
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
} else if (kind === 'floor-k8s') {
  // the objects as plain ApiObjects in one chart: cdk8s with nothing of the library
  const { App, Chart, ApiObject } = require('cdk8s');
  const objects = JSON.parse(fs.readFileSync(floorInput, 'utf8'));
  const app = new App({ outdir });
  const chart = new Chart(app, 'Models', { namespace: 'models', disableResourceNameHashes: true });
  objects.forEach((obj, i) => new ApiObject(chart, `o${i}`, obj));
  app.synth();
} else if (kind === 'floor-aws') {
  // the resources as the provider's resource classes (loaded by resource path, as the library does) in one stack,
  // their attributes set as written: cdktf and its providers with nothing of the library
  const { App, TerraformStack } = require('cdktf');
  const { AwsProvider } = require('@cdktf/provider-aws/lib/provider');
  const packages = { aws: '@cdktf/provider-aws', kubernetes: '@cdktf/provider-kubernetes' };
  const classOf = (type) => {
    const [provider, ...words] = type.split('_');
    return require(`${packages[provider]}/lib/${words.join('-')}`)[words.map((w) => w[0].toUpperCase() + w.slice(1)).join('')];
  };
  const resources = JSON.parse(fs.readFileSync(floorInput, 'utf8'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'models');
  new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
  for (const [type, byName] of Object.entries(resources)) {
    const Resource = classOf(type);
    for (const [name, attributes] of Object.entries(byName)) {
      const r = new Resource(stack, name, {});
      r.overrideLogicalId(name);
      for (const [key, value] of Object.entries(attributes)) if (key !== '//') r.addOverride(key, value);
    }
  }
  app.synth();
} else {
  throw new Error(`unknown case ${kind}`);
}
process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\n');
