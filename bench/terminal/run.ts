/**
 * What a tick of a finished rollout costs, per tick: API reads and writes and Prometheus queries, on both targets.
 * - AWS: the real Lambda tick (`runTick`: DynamoStore, ListenerRuleRouter, TargetGroupCapacity, AlarmMetrics,
 *   PrometheusMetrics) over the in-memory services of test/support (DynamoDB, SSM, ELBv2, CloudWatch,
 *   EventBridge Scheduler), each call counted as the service sees it.
 * - Kubernetes: the real namespace controller (`runNamespace`) against the kube twin (a loopback API server), its
 *   requests counted as the API server sees them.
 * Prometheus is a loopback HTTP server answering an empty vector and counting queries.
 * Each rollout runs to its end (promoted, then aborted by a cancel), ticks on until the engine has nothing left to
 * do, then one more tick is measured. Writes bench/results/terminal-ticks.md.
 * Run: ts-node --project bench/tsconfig.json bench/terminal/run.ts [label]
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { AwsClients, runTick } from '../../src/controller/aws/handler';
import { runNamespace } from '../../src/controller/k8s/main';
import { AwsTarget } from '../../src/core/contract/target';
import { equalSteps } from '../../src/core/schedule';
import { RolloutSpec } from '../../src/core/spec';
import { CanaryRollout, Model } from '../../src/k8s';
import { FakeDynamoDB } from '../../test/support/aws-dynamodb-fake';
import { FakeSsm } from '../../test/support/aws-ssm-fake';
import { FakeCloudWatch, FakeElb } from '../../test/support/aws-world';
import { KubeTwin, World } from '../../test/support/kube-twin';

const MIN = 60_000;

/** A Prometheus that answers every instant query with an empty vector, counting them. */
async function countingPrometheus(): Promise<{ url: string; queries: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/query')) n++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, queries: () => n, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** EventBridge Scheduler's GetSchedule/UpdateSchedule over one schedule. */
class FakeScheduler {
  public state: 'ENABLED' | 'DISABLED' = 'ENABLED';
  public readonly calls: string[] = [];
  public async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, '');
    this.calls.push(op);
    if (op === 'GetSchedule') {
      return { Name: command.input.Name, State: this.state, ScheduleExpression: 'rate(1 minute)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'arn:fn', RoleArn: 'arn:role' } };
    }
    if (op === 'UpdateSchedule') {
      this.state = command.input.State;
      return {};
    }
    throw new Error(`FakeScheduler: ${op} is not modelled`);
  }
}

interface Cost {
  readonly reads: number;
  readonly writes: number;
  readonly queries: number;
  readonly detail: string;
}

const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'ModifyRule', 'UpdateSchedule', 'PutParameter']);

async function awsTerminal(ending: 'promoted' | 'aborted'): Promise<Cost> {
  const prom = await countingPrometheus();
  try {
    const ALARM = 'llama-v2-5xx';
    const spec: RolloutSpec = {
      name: 'llama',
      path: 'Stack/Rollout',
      stable: 'v1',
      canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
      versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }],
      steps: equalSteps(4, 240),
      stableReplicas: 2,
      checks: [
        { provider: 'cloudwatchAlarm', name: ALARM, alarmName: ALARM },
        { provider: 'prometheus', name: 'error-rate', query: 'sum(rate(errors[1m]))', comparison: 'lt', threshold: 0.05, sampleQuery: 'sum(rate(requests[1m]))', minSamples: 0 },
      ],
      checkFailureLimit: 3,
      progressDeadlineSeconds: 900,
      keepPreviousWarmSeconds: 0,
      keepPreviousUntilSpecChanges: false,
    };
    const target: AwsTarget = {
      kind: 'aws',
      listenerRuleArn: 'arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/1/2/3',
      targetGroups: { v1: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/v1/1', v2: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/v2/2' },
      alarmNames: [ALARM],
    };
    const ssm = new FakeSsm();
    ssm.parameters.set('/model-rollout/llama/spec', { value: JSON.stringify({ spec, target, stateTable: 'model-rollout-llama' }), version: 1 });
    const ddb = new FakeDynamoDB();
    const elb = new FakeElb(target, { v1: 2, v2: 2 }, { v1: 100 });
    const calls: string[] = [];
    const counted = <T extends { send: (c: any) => Promise<any> }>(svc: T): T => ({
      send: (c: any) => {
        calls.push(c.constructor.name.replace(/Command$/, ''));
        return svc.send(c);
      },
    }) as unknown as T;
    const scheduler = new FakeScheduler();
    const clients = {
      ssm: counted(ssm), dynamodb: counted(ddb), elb: counted(elb), cloudwatch: counted(new FakeCloudWatch({ [ALARM]: 'OK' })), scheduler: counted(scheduler),
    } as unknown as AwsClients;
    const env = { ROLLOUT_SSM_SPEC_PARAMETER: '/model-rollout/llama/spec', ROLLOUT_DYNAMODB_TABLE: 'model-rollout-llama', ROLLOUT_SCHEDULE_NAME: 'llama-rollout-tick', ROLLOUT_PROMETHEUS_URL: prom.url };
    let now = 0;
    let phase = '';
    for (let i = 0; i < 40; i++) {
      now += MIN;
      if (ending === 'aborted' && i === 3) {
        ddb.tables.get('model-rollout-llama')!.set('model-rollout-llama|S:command|N:1', { pk: { S: 'command' }, sk: { N: '1' }, id: { S: 'c1' }, kind: { S: 'cancel' }, at: { N: String(now) } });
      }
      phase = (await runTick(clients, env, now, () => undefined)).decision?.state.phase ?? '';
    }
    if (phase !== ending) throw new Error(`bench: the rollout ended ${phase}, expected ${ending}`);
    calls.length = 0;
    const before = prom.queries();
    await runTick(clients, env, now + MIN, () => undefined);
    const reads = calls.filter((c) => !WRITE_OPS.has(c));
    return { reads: reads.length, writes: calls.length - reads.length, queries: prom.queries() - before, detail: tally(calls) };
  } finally {
    await prom.close();
  }
}

async function kubeTerminal(ending: 'promoted' | 'aborted'): Promise<Cost> {
  const prom = await countingPrometheus();
  const NS = 'models';
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  const m = new Model(chart, 'llama', { name: 'llama', image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
  m.addVersion('v2');
  const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' } });
  new CanaryRollout(chart, 'R', { environment: prod, canaries: [{ version: 'v2' }], steps: undefined });
  const objects = Testing.synth(chart);
  const twin = await KubeTwin.start();
  try {
    for (const ns of [NS, 'gateways']) twin.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const o of objects) twin.seed(o);
    const world = new World(twin);
    world.reconcile();
    // the synthesized in-cluster Prometheus address, pointed at the counting one
    twin.modify('v1', 'ConfigMap', NS, 'llama-production-rollout-spec', (cm: any) => {
      cm.data['target.json'] = JSON.stringify({ ...JSON.parse(cm.data['target.json']), prometheusUrl: prom.url });
    }, 'bench');
    const conn = { server: twin.url, token: twin.serviceAccountToken(NS, 'model-rollout-controller') };
    const env = { ROLLOUT_NAMESPACE: NS, ROLLOUT_PROMETHEUS_URL: prom.url };
    let now = 0;
    for (let i = 0; i < 20; i++) {
      now += MIN;
      if (ending === 'aborted' && i === 3) {
        twin.modify('v1', 'ConfigMap', NS, 'llama-production-rollout-state', (cm: any) => {
          cm.data = { ...(cm.data ?? {}), 'command.json': JSON.stringify([{ id: 'c1', kind: 'cancel', at: now, seq: 1 }]) };
        }, 'bench');
      }
      await runNamespace(conn, env, now, () => undefined);
      world.reconcile();
    }
    const before = twin.requests.length;
    const q = prom.queries();
    await runNamespace(conn, env, now + MIN, () => undefined);
    const reqs = twin.requests.slice(before).filter((r) => !r.path.includes('selfsubjectrulesreviews'));
    const writes = reqs.filter((r) => r.method !== 'GET').length;
    const data = twin.object('v1', 'ConfigMap', NS, 'llama-production-rollout-state')?.data as Record<string, string> | undefined;
    const state = JSON.parse(data?.['state.json'] ?? '{}');
    if (state.phase !== ending) throw new Error(`bench: the Kubernetes rollout ended ${state.phase}, expected ${ending}`);
    return { reads: reqs.length - writes, writes, queries: prom.queries() - q, detail: tally(reqs.map((r) => `${r.method} ${r.path.replace(/\?.*/, '').split('/').slice(-2).join('/')}`)) };
  } finally {
    await twin.stop();
    await prom.close();
  }
}

function tally(calls: readonly string[]): string {
  const n = new Map<string, number>();
  for (const c of calls) n.set(c, (n.get(c) ?? 0) + 1);
  return [...n].map(([c, k]) => `${c} ×${k}`).join(', ');
}

async function main() {
  const label = process.argv[2] ?? 'now';
  const rows: string[] = [];
  // the Kubernetes rollout's default checks find no data in the empty Prometheus: it is measured aborted (by a cancel)
  const runs = [['AWS', 'promoted', awsTerminal], ['AWS', 'aborted', awsTerminal], ['Kubernetes', 'aborted', kubeTerminal]] as const;
  for (const [target, ending, run] of runs) {
    {
      const c = await run(ending);
      console.log(`${label}: ${target} ${ending}: ${c.reads} reads, ${c.writes} writes, ${c.queries} Prometheus queries per tick (${c.detail})`);
      rows.push(`| ${label} | ${target} | ${ending} | ${c.reads} | ${c.writes} | ${c.queries} | ${c.detail} |`);
    }
  }
  const file = path.join(__dirname, '..', 'results', 'terminal-ticks.md');
  const head = [
    '# A tick of a finished rollout',
    '',
    'Measured by `bench/terminal/run.ts`: the real AWS tick (`runTick`) over the in-memory AWS services of test/support and',
    'the real namespace controller (`runNamespace`) against the kube twin, each with a loopback Prometheus counting queries.',
    'The rollout runs to its end (promoted; aborted by a cancel), ticks on until the engine has nothing left to do, then one',
    'tick is measured. Reads and writes are API calls as the services see them (AWS: SSM, DynamoDB, ELBv2, CloudWatch,',
    'Scheduler; Kubernetes: requests to the API server). `before` is main before the settled state, `after` this code.',
    '',
    'After: a finished rollout the engine verified as settled (core/decide/settle.ts) reads its spec and state only. On AWS',
    'the schedule is also turned off once it settled, so no tick runs at all until a command (the CLI invokes the function)',
    'or a deploy; the row is what an invocation costs when one happens (GetSchedule: the handler checks the schedule is off).',
    'Not settled by design: a promoted or completed rollout on Kubernetes (its manifests route to the stable version until the',
    'code moves on, so each tick must see and repair a re-apply), and any rollout with a pending scale-down, command or repair.',
    '',
    '| code | target | phase | API reads | API writes | Prometheus queries | calls |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const kept = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('| ') && !l.startsWith(`| ${label} |`) && !l.startsWith('| code') && !l.startsWith('| ---')) : [];
  fs.writeFileSync(file, `${[...head, ...kept, ...rows].join('\n')}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
