/**
 * The in-cluster controller's footprint, for 1, 10, 100 and 300 rollouts in one namespace: controller pods started
 * per minute, API requests and duration of one tick (all rollouts active, then all idle), and the YAML a reviewer
 * reads. The tick runs the real controller (`runNamespace`) against the kube twin (test/support/kube-twin: a
 * loopback API server enforcing the synthesized RBAC), so requests are counted as the API server sees them.
 * Writes bench/results/namespace.md. Run: npm run bench (or ts-node bench/namespace/run.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing, Yaml } from 'cdk8s';
import { runNamespace } from '../../src/controller/k8s/main';
import { CanaryRollout, Model } from '../../src/k8s';
import { KubeTwin, World } from '../../test/support/kube-twin';

const NS = 'models';
const SIZES = [1, 10, 100, 300];

function synth(n: number): any[] {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  for (let i = 0; i < n; i++) {
    const name = `m${i}`;
    const m = new Model(chart, name, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name, image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' } });
    new CanaryRollout(chart, `R${i}`, { environment: prod, canaries: [{ version: 'v2' }], defaultChecks: false });
  }
  return Testing.synth(chart);
}

async function measure(n: number) {
  const objects = synth(n);
  const yamlBytes = Buffer.byteLength(Yaml.stringify(...objects));
  const cronJobs = objects.filter((o) => o.kind === 'CronJob').length;
  const twin = await KubeTwin.start();
  try {
    for (const ns of [NS, 'gateways']) twin.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const o of objects) twin.seed(o);
    new World(twin).reconcile();
    const conn = { server: twin.url, token: twin.serviceAccountToken(NS, 'model-rollout-controller') };
    const tick = async (now: number) => {
      const before = twin.requests.length;
      const t0 = process.hrtime.bigint();
      await runNamespace(conn, { ROLLOUT_NAMESPACE: NS }, now, () => undefined);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const reqs = twin.requests.slice(before);
      return { requests: reqs.length, writes: reqs.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectrulesreviews')).length, ms };
    };
    const active = await tick(0);
    // every rollout over: aborted, as after a cancel
    for (let i = 0; i < n; i++) {
      twin.modify('v1', 'ConfigMap', NS, `m${i}-production-rollout-state`, (cm: any) => {
        cm.data['state.json'] = JSON.stringify({ ...JSON.parse(cm.data['state.json']), phase: 'aborted', reason: 'bench', finishedAt: 0 });
      }, 'bench');
    }
    await tick(60_000);
    const idle = await tick(120_000);
    return { n, cronJobs, yamlBytes, active, idle };
  } finally {
    await twin.stop();
  }
}

async function main() {
  const rows = [];
  for (const n of SIZES) {
    const r = await measure(n);
    rows.push(r);
    console.log(`${n} rollouts: ${r.cronJobs} controller pod(s)/minute; active tick ${r.active.requests} requests, ${r.active.writes} writes, ${r.active.ms.toFixed(0)} ms; idle tick ${r.idle.requests} requests, ${r.idle.writes} writes, ${r.idle.ms.toFixed(0)} ms; YAML ${(r.yamlBytes / 1024).toFixed(0)} KiB`);
  }
  const md = [
    '# In-cluster controller footprint (one controller per namespace)',
    '',
    'Measured by `bench/namespace/run.ts`: the real controller ticking against the kube twin (loopback API server with the',
    'synthesized RBAC), on this machine (2 cores, Node 20). Before this design every rollout had its own CronJob:',
    'N controller pods a minute and the 22 KB controller in every rollout\'s ConfigMap.',
    '',
    '| rollouts | controller pods / minute | active tick: requests, writes, ms | idle tick: requests, writes, ms | YAML |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.n} | ${r.cronJobs} | ${r.active.requests}, ${r.active.writes}, ${r.active.ms.toFixed(0)} | ${r.idle.requests}, ${r.idle.writes}, ${r.idle.ms.toFixed(0)} | ${(r.yamlBytes / 1024).toFixed(0)} KiB |`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(__dirname, '..', 'results', 'namespace.md'), md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
