/**
 * Cluster scenarios (test/support/cluster-scenario.ts) of demotion after a promotion (issue 37): the real kubectl
 * (or the bridge's modelled Terraform apply) against the kube twin, the real controller and CLI, synthetic traffic
 * checked every simulated second. A rollout promotes, bakes, keeps the previous version warm for the window, then
 * scales it to zero; re-applying the unchanged manifests by each supported method before and after the demotion
 * sends no request to a version without a ready replica. Figures: minutes from promotion to the previous version
 * at zero, its replica-hours after the promotion, requests that found no ready replica.
 */
import { Duration } from 'cdk8s';
import { Testing as TfTesting } from 'cdktf';
import { KubernetesManifests } from '../../src/aws';
import { ManifestApplier } from '../../src/k8s';
import { Step, Steps } from '../../src/rollout';
import { ApplyMode, ClusterScenario, describeWithKubectl, expectSafe, ScenarioReport } from '../support/cluster-scenario';
import { findTool } from '../support/kube-twin';
import { ManifestResource } from '../support/kube-twin/terraform';
import { SCENARIO_HOST, SCENARIO_NAMESPACE, scenarioApp, ScenarioAppOptions, scenarioManifests } from '../support/scenario-app';

const NS = SCENARIO_NAMESPACE;
const kubectl = findTool('kubectl');
const V1 = 'llm-production-v1';
const ROUTE = 'llm-production';
const reports: Record<string, ScenarioReport & { demoteMinutes?: number; v1ReplicaHours?: number }> = {};

/** A ramp of 4 one-minute steps to 100 %, then a 3-minute bake (steps after the last setWeight(100)). */
const BAKED = Steps.custom([
  ...[25, 50, 75].flatMap((w) => [Step.setWeight(w), Step.pause(Duration.minutes(1))]),
  Step.setWeight(100), Step.pause(Duration.minutes(3)),
]);

/** How each method applies the app's unchanged manifests. */
function applier(c: ClusterScenario, app: ScenarioAppOptions, mode: ApplyMode): () => Promise<number> {
  if (mode !== 'terraform') {
    const objects = scenarioManifests(app).objects;
    return () => c.apply(objects, mode);
  }
  const { chart } = scenarioApp(app);
  const stack = JSON.parse(TfTesting.synthScope((scope) => { new KubernetesManifests(scope, 'Workloads', { charts: [chart] }); }));
  const resources = stack.resource.kubernetes_manifest as Record<string, ManifestResource>;
  return () => c.deploy(resources);
}

async function scenario(name: string, body: (c: ClusterScenario) => Promise<void>): Promise<void> {
  const c = await ClusterScenario.start({ namespace: NS, host: SCENARIO_HOST, rps: 5, coldStartSeconds: 120, kubectl: kubectl! });
  c.world.setColdStart(NS, V1, 0);
  c.world.setColdStart(NS, 'llm-production-v2', 120);
  try {
    await body(c);
    reports[name] = { ...c.report, ...reports[name] };
  } finally {
    await c.stop();
  }
}

/** Replicas of a Deployment (pods holding GPUs, ready or not). */
function replicas(c: ClusterScenario, name: string): number {
  return (c.twin.object('apps/v1', 'Deployment', NS, name) as any)?.spec?.replicas ?? 0;
}

/** Run minute by minute until the rollout is promoted (at most `limit` minutes); the simulated time then. */
async function untilPromoted(c: ClusterScenario, limit = 15): Promise<number> {
  for (let m = 0; m < limit && c.state(ROUTE)?.phase !== 'promoted'; m++) await c.run(1);
  expect(c.state(ROUTE).phase).toBe('promoted');
  // from here a new v1 pod takes a GPU cold start too (v1 was up before the story started)
  c.world.setColdStart(NS, V1, 120);
  return c.world.time;
}

describeWithKubectl('demotion after promotion', kubectl, () => {
  afterAll(() => {
    const rows = Object.entries(reports).map(([name, r]) => `| ${name} | ${r.demoteMinutes ?? 'never'} | ${r.v1ReplicaHours?.toFixed(2)} | `
      + `${r.requests} | ${r.failed} | ${r.applies.map((a) => `${a.mode}@${a.at}s=${a.exitCode}`).join(' ')} |`);
    console.log(['| scenario | promotion -> v1 at 0 (min) | v1 replica-hours after promotion (40 min) | requests | without a ready replica | applies |',
      '|---|---|---|---|---|---|', ...rows].join('\n'));
  });

  test.each<[string, ManifestApplier, ApplyMode]>([
    ['Flux', ManifestApplier.FLUX, 'flux'],
    ['Argo CD', ManifestApplier.ARGO_CD, 'argocd'],
    ['Terraform bridge', ManifestApplier.TERRAFORM, 'terraform'],
  ])('%s: promotes, bakes, keeps v1 warm for the window, scales it to zero; re-applies before and after send it nothing', async (name, appliedBy, mode) => {
    const app: ScenarioAppOptions = { canary: true, appliedBy, keepPreviousWarmFor: Duration.minutes(10), steps: BAKED };
    await scenario(name, async (c) => {
      const reapply = applier(c, app, mode);
      expect(await reapply()).toBe(0);
      c.seconds(5);
      c.watch(scenarioApp(app).plan!, ROUTE);
      // progressing, the canary live: a re-apply leaves its share and its replicas alone
      await c.run(4);
      const live = { weight: c.canaryWeight(), replicas: replicas(c, 'llm-production-v2') };
      expect(live.weight).toBeGreaterThan(0);
      expect(await reapply()).toBe(0);
      expect({ weight: c.canaryWeight(), replicas: replicas(c, 'llm-production-v2') }).toEqual(live);
      c.seconds(30);
      const promotedAt = await untilPromoted(c);
      let replicaSeconds = 0;
      const minute = async () => {
        await c.run(1);
        replicaSeconds += 60 * replicas(c, V1);
      };
      // inside the window: v1 warm, a re-apply leaves all traffic on v2
      for (let m = 0; m < 3; m++) await minute();
      expect(c.readyReplicas(V1)).toBe(2);
      expect(await reapply()).toBe(0);
      // traffic between the apply and the controller's next tick: what a re-apply routes, it routes at once
      c.seconds(30);
      expect(c.canaryWeight()).toBe(100);
      await minute();
      // after the window and KEDA's scale-down: v1 at zero, still deployed
      let demotedAt: number | undefined;
      for (let m = 0; m < 30 && demotedAt === undefined; m++) {
        await minute();
        if (replicas(c, V1) === 0) demotedAt = c.world.time;
      }
      expect(demotedAt).toBeDefined();
      expect(c.twin.object('apps/v1', 'Deployment', NS, V1)).toBeDefined();
      // after the demotion: re-applying the unchanged manifests sends v1 nothing
      const servedByV1 = c.world.stats.byDeployment[`${NS}/${V1}`] ?? 0;
      expect(await reapply()).toBe(0);
      c.seconds(30);
      expect(c.canaryWeight()).toBe(100);
      while (c.world.time < promotedAt + 40 * 60) await minute();
      expect(c.canaryWeight()).toBe(100);
      expect(c.world.stats.byDeployment[`${NS}/${V1}`] ?? 0).toBe(servedByV1);
      reports[name] = { ...c.report, demoteMinutes: Math.round((demotedAt! - promotedAt) / 60), v1ReplicaHours: replicaSeconds / 3600 };
    });
    expectSafe(reports[name]);
  });

  test.each<[ApplyMode]>([['client-side'], ['server-side-force'], ['server-side']])('kubectl %s (the default applier): v1 keeps its replicas after the promotion, so a re-apply 40 minutes later is safe', async (mode) => {
    const app: ScenarioAppOptions = { canary: true, steps: BAKED };
    const name = `kubectl ${mode} (kept warm)`;
    await scenario(name, async (c) => {
      expect(await c.apply(scenarioManifests(app).objects, mode === 'server-side' ? 'server-side-force' : mode)).toBe(0);
      c.seconds(5);
      c.watch(scenarioApp(app).plan!, ROUTE);
      const promotedAt = await untilPromoted(c);
      let replicaSeconds = 0;
      while (c.world.time < promotedAt + 40 * 60) {
        await c.run(1);
        replicaSeconds += 60 * replicas(c, V1);
      }
      expect(c.readyReplicas(V1)).toBe(2);
      const exitCode = await c.apply(scenarioManifests(app).objects, mode);
      // client-side and forced: the route goes back to v1, which is warm; without force: refused, nothing moves
      expect([exitCode === 0, c.canaryWeight()]).toEqual(mode === 'server-side' ? [false, 100] : [true, 0]);
      c.seconds(30);
      await c.run(2);
      expect(c.canaryWeight()).toBe(100);
      reports[name] = { ...c.report, v1ReplicaHours: replicaSeconds / 3600 };
    });
    expectSafe(reports[name]);
  });

  test('why kubectl keeps v1 warm: a client-side re-apply after a demotion routes every request to a version at zero', async () => {
    // the manifests as Flux gets them (so the controller demotes v1), re-applied once with kubectl: what the
    // library prevents by keeping v1 warm with `appliedBy` KUBECTL
    const app: ScenarioAppOptions = { canary: true, appliedBy: ManifestApplier.FLUX, keepPreviousWarmFor: Duration.minutes(10), steps: BAKED };
    await scenario('kubectl client-side after a demotion (not allowed)', async (c) => {
      const objects = scenarioManifests(app).objects;
      expect(await c.apply(objects, 'flux')).toBe(0);
      c.seconds(5);
      c.watch(scenarioApp(app).plan!, ROUTE);
      await untilPromoted(c);
      for (let m = 0; m < 40 && replicas(c, V1) > 0; m++) await c.run(1);
      expect(replicas(c, V1)).toBe(0);
      expect(await c.apply(objects, 'client-side')).toBe(0);
      // the requests until the controller's next tick find no ready replica of v1
      c.seconds(30);
      await c.run(3);
    });
    const r = reports['kubectl client-side after a demotion (not allowed)'];
    expect(r.failed).toBeGreaterThan(0);
    expect(r.longestOutageSeconds).toBeGreaterThan(0);
  });

  test('Flux: model-rollout cancel inside the keep-warm window sends the traffic back to v1 within one tick', async () => {
    const app: ScenarioAppOptions = { canary: true, appliedBy: ManifestApplier.FLUX, keepPreviousWarmFor: Duration.minutes(10), steps: BAKED };
    await scenario('Flux: cancel inside the window', async (c) => {
      expect(await c.apply(scenarioManifests(app).objects, 'flux')).toBe(0);
      c.seconds(5);
      c.watch(scenarioApp(app).plan!, ROUTE);
      await untilPromoted(c);
      await c.run(4);
      expect(c.canaryWeight()).toBe(100);
      expect(await c.command('cancel', ROUTE)).toBe(0);
      await c.run(1);
      expect(c.state(ROUTE).phase).toBe('aborted');
      expect(c.canaryWeight()).toBe(0);
      await c.run(2);
    });
    expectSafe(reports['Flux: cancel inside the window']);
  });
});
