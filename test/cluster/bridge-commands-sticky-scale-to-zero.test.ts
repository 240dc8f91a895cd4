/**
 * More cluster scenarios (test/support/cluster-scenario.ts): the manifests as the Terraform bridge renders them,
 * deployed at every phase; `model-rollout cancel` after promotion, after completion and racing a tick; sticky
 * routing through the gateway's Lua filter; scale to zero behind the KEDA HTTP interceptor. Invariants, in every
 * scenario and every simulated second: no request reaches a version without a ready replica (outside the
 * interceptor's hold), and no canary's weight exceeds the plan's.
 */
import { Chart, Testing } from 'cdk8s';
import { Testing as TfTesting } from 'cdktf';
import { KubernetesManifests } from '../../src/aws';
import { BUCKET_HEADER } from '../../src/core/constants';
import { bucketOf } from '../../src/core/routes/sticky-bucket';
import { EnvironmentKind, Model, Routing } from '../../src/k8s';
import { KEDA_INTERCEPTOR } from '../../src/k8s/private/scale-to-zero';
import { ClusterScenario, describeWithKubectl, expectSafe, ScenarioOptions, ScenarioReport } from '../support/cluster-scenario';
import { findTool, GatewayRequest, RouteOutcome } from '../support/kube-twin';
import { ManifestResource } from '../support/kube-twin/terraform';
import { SCENARIO_HOST, SCENARIO_NAMESPACE, scenarioApp, ScenarioAppOptions, scenarioManifests } from '../support/scenario-app';
import { findObject } from '../support/synth';

const NS = SCENARIO_NAMESPACE;
const HOST = SCENARIO_HOST;
const kubectl = findTool('kubectl');
const reports: Record<string, ScenarioReport> = {};

/** The app as `cdktf synth` renders it through the bridge: the `kubernetes_manifest` resources of the stack. */
function bridged(options: ScenarioAppOptions) {
  const { chart, plan } = scenarioApp(options);
  const stack = JSON.parse(TfTesting.synthScope((scope) => { new KubernetesManifests(scope, 'Workloads', { charts: [chart] }); }));
  return { resources: stack.resource.kubernetes_manifest as Record<string, ManifestResource>, plan };
}

async function scenario(name: string, body: (c: ClusterScenario) => Promise<void>, options: Partial<ScenarioOptions> = {}): Promise<void> {
  const c = await ClusterScenario.start({ namespace: NS, host: HOST, rps: 5, coldStartSeconds: 120, kubectl: kubectl!, ...options });
  // the stable version is up before the story starts; every later scale-up takes a GPU cold start of 2 minutes
  c.world.setColdStart(NS, 'llm-production-v1', 0);
  for (const v of ['v2', 'v3']) c.world.setColdStart(NS, `llm-production-${v}`, 120);
  try {
    await body(c);
    reports[name] = c.report;
  } finally {
    await c.stop();
  }
}


describeWithKubectl('more cluster scenarios', kubectl, () => {
  afterAll(() => {
    const rows = Object.entries(reports).map(([name, r]) => `| ${name} | ${r.requests} | ${r.failed} | ${r.longestOutageSeconds} s | `
        + `${r.longestHoldSeconds ?? 0} s | ${r.overPlanSeconds} s | ${r.applies.map((a) => `${a.mode}@${a.at}s=${a.exitCode}`).join(' ')} |`);
    console.log(['| scenario | requests | failed | longest without a ready replica | longest interceptor hold | over the plan | applies |',
      '|---|---|---|---|---|---|---|', ...rows].join('\n'));
  });

  test('day in the life through the Terraform bridge: cdktf deploy at every phase', async () => {
    const during = bridged({ canary: true });
    await scenario('day in the life (Terraform bridge)', async (c) => {
      expect(await c.deploy(during.resources)).toBe(0);
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      // progressing: an unchanged deploy re-sends the live values of the computed fields; nothing moves
      await c.run(4);
      expect(c.state('llm-production').phase).toBe('progressing');
      const weight = c.canaryWeight();
      expect(weight).toBeGreaterThan(0);
      expect(await c.deploy(during.resources)).toBe(0);
      expect(c.canaryWeight()).toBe(weight);
      await c.run(1);
      // paused by the CLI: a deploy changes nothing
      expect(await c.command('pause', 'llm-production')).toBe(0);
      await c.run(2);
      expect(c.state('llm-production').phase).toBe('paused');
      expect(await c.deploy(during.resources)).toBe(0);
      await c.run(1);
      expect(await c.command('resume', 'llm-production')).toBe(0);
      await c.run(10);
      // promoted: a deploy leaves all traffic on v2
      expect(c.state('llm-production').phase).toBe('promoted');
      expect(c.canaryWeight()).toBe(100);
      expect(await c.deploy(during.resources)).toBe(0);
      expect(c.canaryWeight()).toBe(100);
      c.seconds(30);
      await c.run(2);
      expect(c.canaryWeight()).toBe(100);
      // the code moves on: v2 is the environment's version, the rollout is gone: the route's rules change in the
      // manifest, so the provider sends the manifest's rules, which the controller's writes own. Without
      // force_conflicts (the bridge before this fix) that deploy fails with a conflict on .spec.rules ...
      const after = bridged({ canary: false }).resources;
      const unforced = Object.fromEntries(Object.entries(after).map(([id, r]) => [id, { ...r, field_manager: undefined }]));
      expect(await c.deploy(unforced)).toBe(1);
      expect(c.lastDeploy!.errors).toEqual([expect.objectContaining({ status: 409, message: expect.stringContaining('conflict with "model-rollout-controller"') })]);
      expect(c.lastDeploy!.errors[0].message).toContain('.spec.rules');
      expect(c.canaryWeight('v2')).toBe(100);
      c.seconds(10);
      // ... and with it (what the bridge renders) it writes the new code's route
      expect(await c.deploy(after)).toBe(0);
      expect(c.lastDeploy!.applied).toEqual([expect.stringContaining('HTTPRoute')]);
      await c.run(3);
      expect(c.canaryWeight('v2')).toBe(100);
    });
    expectSafe(reports['day in the life (Terraform bridge)']);
  });

  test('through the Terraform bridge, a deploy that changes the spec mid-rollout writes the safe state; deploys when completed and aborted move nothing', async () => {
    const first = bridged({ canary: true });
    await scenario('spec change mid-rollout (Terraform bridge)', async (c) => {
      expect(await c.deploy(first.resources)).toBe(0);
      c.seconds(5);
      c.watch(first.plan!, 'llm-production');
      await c.run(5);
      expect(c.canaryWeight()).toBeGreaterThan(0);
      // a second canary joins the spec: the route's rules change in the code, the forced apply sends the new
      // manifest's rules (everything on v1, which has its replicas), and the new plan starts from its first step
      const second = bridged({ canary: true, canaries: ['v2', 'v3'] });
      expect(await c.deploy(second.resources)).toBe(0);
      expect(c.canaryWeight('v2')).toBe(0);
      c.watch(second.plan!, 'llm-production');
      await c.run(12);
      expect(c.state('llm-production').phase).toBe('completed');
      expect([c.canaryWeight('v2'), c.canaryWeight('v3')]).toEqual([33, 33]);
      // completed, then aborted by the CLI: an unchanged deploy moves nothing in either phase
      expect(await c.deploy(second.resources)).toBe(0);
      expect([c.canaryWeight('v2'), c.canaryWeight('v3')]).toEqual([33, 33]);
      await c.run(1);
      expect(await c.command('cancel', 'llm-production')).toBe(0);
      await c.run(2);
      expect(c.state('llm-production').phase).toBe('aborted');
      expect(await c.deploy(second.resources)).toBe(0);
      await c.run(2);
      expect([c.canaryWeight('v2'), c.canaryWeight('v3'), c.canaryWeight('v1')]).toEqual([0, 0, 100]);
    });
    expectSafe(reports['spec change mid-rollout (Terraform bridge)']);
  });

  test('re-apply and model-rollout cancel after completion (two canaries): every canary back to 0, v1 serves', async () => {
    const during = scenarioManifests({ canary: true, canaries: ['v2', 'v3'] });
    await scenario('cancel after completion', async (c) => {
      await c.apply(during.objects);
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      await c.run(9);
      expect(c.state('llm-production').phase).toBe('completed');
      expect([c.canaryWeight('v2'), c.canaryWeight('v3')]).toEqual([33, 33]);
      // a client-side re-apply in `completed` sends the manifest's safe state (all on v1, which has its
      // replicas); the next tick puts the canaries' shares back
      await c.apply(during.objects);
      expect(c.canaryWeight('v1')).toBe(100);
      c.seconds(30);
      await c.run(1);
      expect([c.canaryWeight('v2'), c.canaryWeight('v3')]).toEqual([33, 33]);
      // commands.ts: cancel aborts in `completed` (the stable version still serves a share and has its replicas)
      expect(await c.command('cancel', 'llm-production')).toBe(0);
      await c.run(3);
      expect(c.state('llm-production').phase).toBe('aborted');
      expect([c.canaryWeight('v2'), c.canaryWeight('v3'), c.canaryWeight('v1')]).toEqual([0, 0, 100]);
      // aborted: a re-apply changes nothing
      await c.apply(during.objects);
      await c.run(2);
      expect([c.canaryWeight('v2'), c.canaryWeight('v3'), c.canaryWeight('v1')]).toEqual([0, 0, 100]);
    });
    expectSafe(reports['cancel after completion']);
  });

  test('model-rollout cancel racing a tick: landing before any of the tick\'s requests, it is durable and safe', async () => {
    const during = scenarioManifests({ canary: true });
    const total: ScenarioReport = { requests: 0, failed: 0, longestOutageSeconds: 0, overPlanSeconds: 0, overloaded: 0, applies: [] };
    let requestsPerTick = 0;
    let raced = 0;
    const phasesAfterRace = new Set<string>();
    // the cancel lands before request `at` of a tick in progress (0 = before its first read), for every request
    for (let at = 0; at === 0 || at < requestsPerTick; at++) {
      await scenario(`cancel racing request ${at}`, async (c) => {
        // kubectl applies once; the other interleavings store the same objects directly (the race is the point)
        if (at === 0) await c.apply(during.objects);
        else for (const o of during.objects) c.twin.seed(o, 'kubectl-client-side-apply');
        c.seconds(5);
        c.watch(during.plan!, 'llm-production');
        await c.run(3);
        expect(c.state('llm-production').phase).toBe('progressing');
        const race = await c.tickRacing('cancel', 'llm-production', at);
        requestsPerTick = Math.max(requestsPerTick, race.requests);
        if (race.raced) raced++;
        phasesAfterRace.add(c.state('llm-production').phase);
        // the CLI reported success, so the cancel is recorded: the next ticks abort whatever this tick wrote
        expect(race.exitCode).toBe(0);
        c.seconds(60);
        await c.run(2);
        expect(c.state('llm-production').phase).toBe('aborted');
        expect(c.canaryWeight()).toBe(0);
      });
      const r = reports[`cancel racing request ${at}`];
      delete reports[`cancel racing request ${at}`];
      total.requests += r.requests;
      total.failed += r.failed;
      total.overPlanSeconds += r.overPlanSeconds;
      total.overloaded += r.overloaded;
      total.longestOutageSeconds = Math.max(total.longestOutageSeconds, r.longestOutageSeconds);
      total.applies.push(...r.applies);
    }
    expect(requestsPerTick).toBeGreaterThan(3);
    expect(raced).toBeGreaterThan(3);
    // early landings are seen by the racing tick itself, late ones by the next tick
    expect([...phasesAfterRace].sort()).toEqual(['aborted', 'progressing']);
    reports[`cancel racing a tick (${raced} interleavings)`] = { ...total, applies: total.applies.slice(0, 1) };
    expectSafe(total);
  });

  test('sticky routing with the controller: a user keeps their version as the weight grows; a bucket header sent by the client changes nothing', async () => {
    const during = scenarioManifests({ canary: true, routing: Routing.headerHash('x-user-id') });
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const served = new Map<string, string[]>(); // user -> services over time
    let forged = 0;
    let forgedDiffer = 0;
    const wrongBuckets: string[] = [];
    // every 10th second: each user once, and 20 of them again with a forged bucket header (bucket 0: the first
    // bucket of the canary's range); the other seconds carry no traffic (LuaJIT runs once per busy second)
    const traffic = (t: number): GatewayRequest[] => {
      if (t % 10 !== 0) return [];
      const plain = users.map((u) => ({ host: HOST, path: '/v1/completions', headers: { 'x-user-id': u } }));
      const spoofed = users.slice(0, 20).map((u) => ({ host: HOST, path: '/v1/completions', headers: { 'x-user-id': u, [BUCKET_HEADER]: '0' } }));
      return [...plain, ...spoofed];
    };
    const observe = (_t: number, requests: readonly GatewayRequest[], outcomes: readonly RouteOutcome[]) => {
      if (requests.length === 0) return;
      requests.slice(0, users.length).forEach((r, i) => {
        const u = users[i];
        // the filter replaced the header with the user's own bucket (counted here, asserted once at the end: an
        // expect() per request was ~12,000 matcher calls, 0.6 s of CPU)
        if (Number(r.headers?.[BUCKET_HEADER]) !== bucketOf(u)) wrongBuckets.push(`${u}: ${r.headers?.[BUCKET_HEADER]}`);
        served.set(u, [...(served.get(u) ?? []), outcomes[i].backend?.service ?? 'none']);
      });
      for (let j = 0; j < 20; j++) {
        forged++;
        if (outcomes[users.length + j].backend?.service !== outcomes[j].backend?.service) forgedDiffer++;
      }
    };
    await scenario('sticky routing', async (c) => {
      await c.apply(during.objects);
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      await c.run(9);
      expect(c.state('llm-production').phase).toBe('promoted');
      c.seconds(60);
    }, { traffic, observe });
    // a user moves from v1 to v2 at most once and never back (the bucket ranges only grow), and all ended on v2
    const switches = users.map((u) => {
      const seq = served.get(u)!;
      expect(seq.every((svc) => svc === 'llm-production-v1' || svc === 'llm-production-v2')).toBe(true);
      const first = seq.indexOf('llm-production-v2');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(seq.slice(first).every((svc) => svc === 'llm-production-v2')).toBe(true);
      return first;
    });
      // users crossed over at different steps, as the weight grew
    expect(new Set(switches).size).toBeGreaterThan(3);
    expect(forged).toBeGreaterThan(1000);
    expect(forgedDiffer).toBe(0);
    expect(wrongBuckets).toEqual([]);
    expectSafe(reports['sticky routing'], 10_000);
  });

  describe('scale to zero behind the KEDA HTTP add-on interceptor', () => {
    /** A development environment that scales to zero (the HTTP add-on's HTTPScaledObject + interceptor route). */
    const dev = (() => {
      const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
      const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llm', image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
      model.addEnvironment('development', { version: 'v1', kind: EnvironmentKind.DEVELOPMENT, gateway: { name: 'inference', namespace: 'gateways' }, hostnames: [HOST] });
      return Testing.synth(chart);
    })();
    const hso = findObject(dev, 'HTTPScaledObject');
    const conditionWait = Number(/^(\d+)s$/.exec(hso.spec.timeouts.conditionWait)![1]);
    // two bursts of one request a second, 30 s each, far enough apart for the add-on to scale to zero between
    const traffic = (t: number): GatewayRequest[] => ((t >= 10 && t < 40) || (t >= 2000 && t < 2030) ? [{ host: HOST, path: '/v1/completions' }] : []);

    async function zero(name: string, coldStart: number, objects: any[]): Promise<ScenarioReport> {
      await scenario(name, async (c) => {
        // the add-on's interceptor Service (its Helm chart installs it in `keda`)
        c.twin.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: KEDA_INTERCEPTOR.namespace } });
        c.twin.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: KEDA_INTERCEPTOR.name, namespace: KEDA_INTERCEPTOR.namespace }, spec: { ports: [{ port: KEDA_INTERCEPTOR.port }] } });
        c.world.setColdStart(NS, 'llm-development-v1', coldStart);
        expect(await c.apply(objects)).toBe(0);
        c.seconds(5);
        expect(c.twin.object('apps/v1', 'Deployment', NS, 'llm-development-v1')!.status).toMatchObject({ readyReplicas: 0 });
        c.seconds(2700);
        expect(c.world.stats.held).toBe(0);
      }, { traffic });
      return reports[name];
    }

    test('a request at zero replicas waits for the cold start instead of failing', async () => {
      const r = await zero('scale to zero, cold start within conditionWait', 600, dev);
      expectSafe(r, 50);
      // each burst's first request waited a whole cold start (two cold starts: scaled to zero in between), plus
      // the simulated second the add-on takes to see it
      expect(r.longestHoldSeconds).toBeGreaterThanOrEqual(600);
      expect(r.longestHoldSeconds).toBeLessThanOrEqual(601);
    });

    test('a wait beyond the synthesized conditionWait fails; the add-on default (no timeouts) fails every GPU cold start', async () => {
      // GIVEN a cold start longer than the synthesized wait (node provisioning + the model's load timeout)
      const beyond = await zero('scale to zero, cold start beyond conditionWait', conditionWait + 120, dev);
      // THEN the first burst fails after conditionWait; the second finds the replica up (scaledownPeriod)
      expect({ failed: beyond.failed, hold: beyond.longestHoldSeconds }).toEqual({ failed: 30, hold: conditionWait });
      // GIVEN the same 10-minute cold start as above, without the synthesized timeouts (a pre-v0.11 add-on)
      const untimed = dev.map((o) => (o.kind === 'HTTPScaledObject' ? { ...o, spec: { ...o.spec, timeouts: undefined } } : o));
      const r = await zero('scale to zero, add-on default wait (no timeouts)', 600, untimed);
      // THEN every request of both bursts fails after the interceptor's default 20 s
      expect({ failed: r.failed, hold: r.longestHoldSeconds }).toEqual({ failed: 60, hold: 20 });
    });
  });
});
