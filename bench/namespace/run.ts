/**
 * The in-cluster controller's footprint for 10, 100, 300 and 1,000 rollouts in one namespace: API requests and
 * Prometheus queries per pass (progressing: every rollout takes a step; steady: every rollout in a step, checks
 * measured, nothing to change; idle: every rollout over), pass duration, CPU time and peak memory of the controller
 * process, and with a Prometheus slower than the query timeout, whether every rollout is still ticked and a `cancel`
 * handled within the minute.
 *
 * The shipped path: the synthesized manifests seeded into the kube twin (test/support/kube-twin: a loopback API
 * server enforcing the synthesized RBAC), the CronJob's container run as the kubelet runs it (test/support/kubelet.ts:
 * the bundle from the code ConfigMap, the env, the service-account mount, the API over TLS). Latency is injected as
 * measured on real clusters: 3 ms per API request, 30 ms per Prometheus query (the slow case: 6 s, past the 5 s
 * timeout). Prometheus is a loopback HTTP server answering the instant-query API with one sample per query
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries). "Before" runs the controller bundle of
 * the previous design (BENCH_BEFORE_BUNDLE: a path to it) in the same manifests.
 *
 * CPU and peak memory are the process's own (/proc/<pid>/stat utime+stime, /proc/<pid>/status VmHWM, sampled every
 * 50 ms). The pod's limit is 250m CPU: a pass that is CPU-bound takes at least CPU time / 0.25 there.
 * Writes bench/results/namespace.md. Needs root (the pod runner's mount namespace). Run: node -r ./test/support/register-ts.js bench/namespace/run.ts
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { ConfigMapStore } from '../../src/controller/k8s/adapter';
import { KubeClient } from '../../src/controller/k8s/kube-client';
import { specConfigMapName, STATE_KEY_STATE, stateConfigMapName } from '../../src/core/constants';
import { hashString } from '../../src/core/hash';
import { CanaryRollout, Model } from '../../src/k8s';
import { KubeTwin, World } from '../../test/support/kube-twin';
import { podRunnerUnavailable, runPod } from '../../test/support/kubelet';
import { startTlsFront, TlsFront } from '../../test/support/tls-front';

const NS = 'models';
const SIZES = (process.env.BENCH_SIZES ?? '10,100,300,1000').split(',').map(Number);
const SLOW_SIZES = (process.env.BENCH_SLOW_SIZES ?? '120,300').split(',').map(Number);
const API_LATENCY_MS = 3;
const PROMETHEUS_LATENCY_MS = 30;
const SLOW_PROMETHEUS_MS = 6000;

/** A Prometheus answering every instant query with one sample after `latency` ms; counts the queries. */
async function fakePrometheus(latency: () => number) {
  let queries = 0;
  const server = http.createServer((_req, res) => {
    queries++;
    setTimeout(() => {
      const body = { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0.001'] }] } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }, latency());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    queries: () => queries,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** `n` models with a production environment each and a rollout to v2 with the vLLM preset's default checks. */
function synth(n: number, prometheusUrl: string, tickSeconds: number, bundle?: string): any[] {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  for (let i = 0; i < n; i++) {
    const name = `m${String(i).padStart(4, '0')}`;
    const m = new Model(chart, name, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name, image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, autoscaling: { minReplicas: 1 } });
    new CanaryRollout(chart, `R${i}`, { environment: prod, canaries: [{ version: 'v2' }], prometheusUrl, tickInterval: Duration.seconds(tickSeconds) });
  }
  const objects = Testing.synth(chart);
  if (bundle) {
    // the previous design's controller in the same manifests (it finds its rollouts by its Roles, as this one)
    const code = objects.find((o) => o.data?.['controller.js']);
    code.data['controller.js'] = bundle;
    code.metadata.annotations['model-rollout.dev/bundle-sha256'] = hashString(bundle);
  }
  return objects;
}

interface RunFigures {
  readonly api: number;
  readonly writes: number;
  readonly queries: number;
  readonly passMs?: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakMiB: number;
  readonly exit: number | null;
  readonly lines: any[];
}

/** Run the CronJob's pod once until it exits (or `maxMs`), counting requests and sampling the process. */
async function runJob(twin: KubeTwin, front: TlsFront, prom: { queries: () => number }, maxMs: number): Promise<RunFigures> {
  const cron = twin.object('batch/v1', 'CronJob', NS, 'model-rollout-controller-chart') as any;
  const api0 = twin.requests.length;
  const q0 = prom.queries();
  const t0 = Date.now();
  const pod = runPod({ twin, apiServer: front, namespace: NS, podSpec: cron.spec.jobTemplate.spec.template.spec });
  const pid = pod.process.pid!;
  let cpuMs = 0;
  let peakKiB = 0;
  const tick = 1000 / 100; // USER_HZ
  const sample = setInterval(() => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpuMs = (Number(stat[11]) + Number(stat[12])) * tick;
      const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
    } catch { /* exited */ }
  }, 50);
  const exit = await Promise.race([pod.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), maxMs))]);
  clearInterval(sample);
  await pod.stop();
  const wallMs = Date.now() - t0;
  const reqs = twin.requests.slice(api0);
  const lines = pod.stdout.map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } });
  const pass = lines.find((l) => l.pass)?.pass;
  return {
    api: reqs.length,
    writes: reqs.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectrulesreviews')).length,
    queries: prom.queries() - q0,
    passMs: pass?.millis,
    wallMs,
    cpuMs,
    peakMiB: peakKiB / 1024,
    exit: exit === 'late' ? null : exit,
    lines,
  };
}

type FakePrometheus = Awaited<ReturnType<typeof fakePrometheus>>;

async function withCluster<T>(
  objects: any[], latency: () => number, body: (twin: KubeTwin, front: TlsFront, prom: FakePrometheus) => Promise<T>, prom: FakePrometheus,
): Promise<T> {
  const twin = await KubeTwin.start();
  const front = await startTlsFront(Number(new URL(twin.url).port));
  try {
    twin.seedNamespaces(NS, 'gateways');
    for (const o of objects) twin.seed(o);
    new World(twin).reconcile();
    twin.inject({ path: /.*/, delayMs: latency(), times: Infinity });
    return await body(twin, front, prom);
  } finally {
    await front.close();
    await twin.stop();
  }
}

function markOver(twin: KubeTwin, n: number) {
  for (let i = 0; i < n; i++) {
    twin.modify('v1', 'ConfigMap', NS, stateConfigMapName(`m${String(i).padStart(4, '0')}-production`), (cm: any) => {
      if (!cm.data?.[STATE_KEY_STATE]) return;
      cm.data[STATE_KEY_STATE] = JSON.stringify({ ...JSON.parse(cm.data[STATE_KEY_STATE]), phase: 'aborted', reason: 'bench', finishedAt: 0 });
    }, 'bench');
  }
}

/** Progressing, steady and idle passes of `n` rollouts (one pass per run: the rollouts tick once a minute). */
async function footprint(n: number, bundle?: string) {
  const prom = await fakePrometheus(() => PROMETHEUS_LATENCY_MS);
  try {
    return await withCluster(synth(n, prom.url, 60, bundle), () => API_LATENCY_MS, async (twin, front) => {
      const progressing = await runJob(twin, front, prom, 180_000);
      const steady = await runJob(twin, front, prom, 180_000);
      // every rollout over (aborted, as after a cancel): the first run after sends the route back, the next is idle
      markOver(twin, n);
      await runJob(twin, front, prom, 180_000);
      const idle = await runJob(twin, front, prom, 180_000);
      return { n, progressing, steady, idle };
    }, prom);
  } finally {
    await prom.close();
  }
}

/** A minute with Prometheus answering in 6 s: ticks per rollout, and when the cancel of the last rollout landed. */
async function slowPrometheus(n: number, bundle?: string) {
  const prom = await fakePrometheus(() => SLOW_PROMETHEUS_MS);
  try {
    return await withCluster(synth(n, prom.url, 10, bundle), () => API_LATENCY_MS, async (twin, front) => {
      // the rollouts are under way (a first run at normal speed is not needed: the first tick initialises them)
      const last = `m${String(n - 1).padStart(4, '0')}-production`;
      const admin = new KubeClient({ server: twin.url, token: twin.adminToken });
      const store = new ConfigMapStore(admin, { namespace: NS, specConfigMap: specConfigMapName(last), stateConfigMap: stateConfigMapName(last) });
      await store.appendCommand('cancel', 'bench-cancel', Date.now());
      const run = await runJob(twin, front, prom, 70_000);
      const ticks = new Map<string, number>();
      for (const l of run.lines) if (typeof l.rollout === 'string' && 'phase' in l) ticks.set(l.rollout, (ticks.get(l.rollout) ?? 0) + 1);
      const raw = (twin.object('v1', 'ConfigMap', NS, stateConfigMapName(last)) as any).data?.[STATE_KEY_STATE];
      return {
        n,
        neverTicked: n - ticks.size,
        minTicks: ticks.size < n ? 0 : Math.min(...ticks.values()),
        cancelled: raw ? JSON.parse(raw).phase === 'aborted' : false,
        run,
      };
    }, prom);
  } finally {
    await prom.close();
  }
}

const f = (x: number) => x.toFixed(0);
const row = (r: RunFigures) => `${r.api}, ${r.writes}, ${r.queries}, ${r.passMs ?? '–'} ms, ${f(r.wallMs)} ms, ${f(r.cpuMs)} ms, ${r.peakMiB.toFixed(0)} MiB${r.exit === 0 ? '' : ` (exit ${r.exit})`}`;

async function main() {
  const unavailable = podRunnerUnavailable();
  if (unavailable) throw new Error(`the bench runs the CronJob pod: ${unavailable}`);
  const before = process.env.BENCH_BEFORE_BUNDLE ? fs.readFileSync(process.env.BENCH_BEFORE_BUNDLE, 'utf8') : undefined;
  const md: string[] = [
    '# In-cluster controller footprint',
    '',
    'Measured by `bench/namespace/run.ts`: the controller bundle run as the kubelet runs the CronJob pod, against the kube',
    `twin (loopback API server enforcing the synthesized RBAC) with ${API_LATENCY_MS} ms per API request and ${PROMETHEUS_LATENCY_MS} ms per Prometheus query,`,
    'on this machine (2 cores shared with other work, Node 20). Each rollout has the vLLM preset\'s default checks.',
    'A cell: API requests, writes, Prometheus queries, pass duration (the controller\'s own), process wall time, CPU time, peak RSS.',
    'At the pod\'s 250m CPU limit a CPU-bound pass takes at least CPU time / 0.25.',
    '',
  ];
  const variants: Array<[string, string | undefined]> = [...(before ? [['before', before] as [string, string]] : []), ['after', undefined]];
  for (const [label, bundle] of variants) {
    md.push(`## ${label}`, '', '| rollouts | progressing pass | steady pass | idle pass |', '| --- | --- | --- | --- |');
    const sizes = label === 'before' && process.env.BENCH_BEFORE_SIZES ? process.env.BENCH_BEFORE_SIZES.split(',').map(Number) : SIZES;
    for (const n of sizes) {
      const r = await footprint(n, bundle);
      const line = `| ${n} | ${row(r.progressing)} | ${row(r.steady)} | ${row(r.idle)} |`;
      console.log(label, line);
      md.push(line);
    }
    md.push('', `Prometheus answering in ${SLOW_PROMETHEUS_MS / 1000} s (past the 5 s timeout), rollouts ticking every 10 s, a \`cancel\` queued for the last rollout by name:`, '',
      '| rollouts | rollouts never ticked in the minute | fewest ticks of a rollout | cancel handled | API requests | queries | CPU |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const n of SLOW_SIZES) {
      const s = await slowPrometheus(n, bundle);
      const line = `| ${n} | ${s.neverTicked} | ${s.minTicks} | ${s.cancelled ? 'yes' : 'no'} | ${s.run.api} | ${s.run.queries} | ${f(s.run.cpuMs)} ms |`;
      console.log(label, 'slow', line);
      md.push(line);
    }
    md.push('');
  }
  fs.writeFileSync(path.join(__dirname, '..', 'results', 'namespace.md'), md.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
