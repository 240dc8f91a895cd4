/**
 * Cluster scenarios (the ownership model under real re-applies): the synthesized manifests applied with the real
 * kubectl to the kube twin, the real controller ticking, the real CLI, and synthetic traffic checked every
 * simulated second (test/support/cluster-scenario.ts). Invariants, in every scenario: no request reaches a version
 * without a ready replica, and the canary's weight never exceeds the plan's.
 */
import { Duration } from 'cdk8s';
import { Step, Steps } from '../../src/rollout';
import { ApplyMode, ClusterScenario, describeWithKubectl, expectSafe, ScenarioReport } from '../support/cluster-scenario';
import { findTool } from '../support/kube-twin';
import { SCENARIO_HOST, SCENARIO_NAMESPACE, scenarioManifests } from '../support/scenario-app';

const NS = SCENARIO_NAMESPACE;
const HOST = SCENARIO_HOST;
const kubectl = findTool('kubectl');
const reports: Record<string, ScenarioReport> = {};

async function scenario(name: string, body: (c: ClusterScenario) => Promise<void>): Promise<ClusterScenario> {
  const c = await ClusterScenario.start({ namespace: NS, host: HOST, rps: 5, coldStartSeconds: 120, kubectl: kubectl! });
  // the stable version is up before the story starts; every later scale-up takes a GPU cold start of 2 minutes
  c.world.setColdStart(NS, 'llm-production-v1', 0);
  c.world.setColdStart(NS, 'llm-production-v2', 120);
  try {
    await body(c);
    reports[name] = c.report;
    return c;
  } finally {
    await c.stop();
  }
}


describeWithKubectl('cluster scenarios', kubectl, () => {
  afterAll(() => {
    for (const [name, r] of Object.entries(reports)) {
      console.log(`${name}: ${r.requests} requests, ${r.failed} failed, longest time without a ready replica ${r.longestOutageSeconds} s, `
          + `${r.overPlanSeconds} s over the plan, applies ${r.applies.map((a) => `${a.mode}@${a.at}s=${a.exitCode}`).join(' ')}`);
    }
  });

  test.each<[ApplyMode]>([['client-side'], ['server-side-force']])('day in the life, re-applying with %s apply at every phase', async (mode) => {
    const during = scenarioManifests();
    await scenario(`day in the life (${mode})`, async (c) => {
      await c.apply(during.objects, mode === 'client-side' ? 'client-side' : 'server-side');
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      // progressing: a re-apply sends the canary's share back to v1 (which has its replicas); the next tick resends
      await c.run(4);
      expect(c.state('llm-production').phase).toBe('progressing');
      await c.apply(during.objects, mode);
      expect(c.canaryWeight()).toBe(0);
      await c.run(1);
      // paused (by the CLI): a re-apply changes nothing for good
      expect(await c.command('pause', 'llm-production')).toBe(0);
      await c.run(2);
      expect(c.state('llm-production').phase).toBe('paused');
      await c.apply(during.objects, mode);
      await c.run(1);
      expect(await c.command('resume', 'llm-production')).toBe(0);
      await c.run(10);
      // promoted: a re-apply routes everything back to v1, which kept its replicas because the spec still names it
      expect(c.state('llm-production').phase).toBe('promoted');
      expect(c.canaryWeight()).toBe(100);
      await c.apply(during.objects, mode);
      c.seconds(30);
      await c.run(2);
      expect(c.canaryWeight()).toBe(100);
      // the code moves on: v2 is the environment's version, the rollout is removed; re-apply; steady state
      await c.apply(scenarioManifests({ canary: false }).objects, mode);
      await c.run(3);
    });
    expectSafe(reports[`day in the life (${mode})`]);
  });

  test('server-side apply without force mid-rollout reports a conflict on the controller\'s fields and moves nothing', async () => {
    const during = scenarioManifests();
    await scenario('server-side apply, no force', async (c) => {
      await c.apply(during.objects, 'server-side');
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      await c.run(5);
      const weight = c.canaryWeight();
      expect(weight).toBeGreaterThan(0);
      // the route's rules are recorded as the controller's (its patches carry fieldManager=model-rollout-controller)
      const route = c.twin.object('gateway.networking.k8s.io/v1', 'HTTPRoute', NS, 'llm-production') as any;
      expect(route.metadata.managedFields.some((f: any) => f.manager === 'model-rollout-controller' && JSON.stringify(f.fieldsV1).includes('f:rules'))).toBe(true);
      expect(await c.apply(during.objects, 'server-side')).not.toBe(0);
      expect(c.canaryWeight()).toBe(weight);
      await c.run(8);
      expect(c.state('llm-production').phase).toBe('promoted');
    });
    expectSafe(reports['server-side apply, no force']);
  });

  test.each([['progressing', 3], ['paused', 3], ['promoted', 12]] as const)('model-rollout cancel while %s', async (phase, minutes) => {
    const during = scenarioManifests();
    await scenario(`cancel while ${phase}`, async (c) => {
      await c.apply(during.objects);
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      if (phase === 'paused') {
        await c.run(1);
        expect(await c.command('pause', 'llm-production')).toBe(0);
      }
      await c.run(minutes);
      expect(c.state('llm-production').phase).toBe(phase);
      expect(await c.command('cancel', 'llm-production')).toBe(0);
      await c.run(1);
      // a cancel the CLI reported is durable and takes one tick: aborted, all traffic on v1; after promotion too,
      // as a rollback (v1 keeps its replicas while the code still names it: the rollback window)
      expect(c.state('llm-production').phase).toBe('aborted');
      expect(c.canaryWeight()).toBe(0);
      await c.run(2);
      expect(c.canaryWeight()).toBe(0);
    });
    expectSafe(reports[`cancel while ${phase}`]);
  });

  test('a shadow step: the canary gets copies (answers discarded) and no user request until the step ends; then the mirror comes off', async () => {
    const ramp = [20, 40, 60, 80].flatMap((w) => [Step.setWeight(w), Step.pause(Duration.minutes(1))]);
    const during = scenarioManifests({ canary: true, steps: Steps.custom([Step.shadow({ percent: 50, max: Duration.minutes(3) }), ...ramp]) });
    await scenario('shadow step', async (c) => {
      await c.apply(during.objects);
      c.seconds(5);
      c.watch(during.plan!, 'llm-production');
      const canaryService = `${NS}/llm-production-v2`;
      // the canary's cold start (2 minutes), then 3 minutes of mirroring (no checks here: the step runs to its max)
      await c.run(4);
      const mirroredEarly = c.world.stats.mirrored[canaryService] ?? 0;
      expect(mirroredEarly).toBeGreaterThan(0);
      await c.run(2);
      const mirrored = c.world.stats.mirrored[canaryService] ?? 0;
      // about half of 5 requests/s for the minutes the mirror was on; no user request reached the canary meanwhile
      expect(mirrored).toBeGreaterThan(mirroredEarly + 200);
      expect(c.world.stats.byDeployment[`${NS}/llm-production-v2`] ?? 0).toBe(0);
      expect(c.canaryWeight()).toBe(0);
      await c.run(3);
      // the ramp started: the canary answers users, and the route has no mirror any more
      expect(c.canaryWeight()).toBeGreaterThan(0);
      expect(c.world.stats.byDeployment[`${NS}/llm-production-v2`]).toBeGreaterThan(0);
      const route = c.twin.object('gateway.networking.k8s.io/v1', 'HTTPRoute', NS, 'llm-production') as any;
      expect(JSON.stringify(route.spec.rules)).not.toContain('RequestMirror');
      const after = c.world.stats.mirrored[canaryService];
      await c.run(1);
      expect(c.world.stats.mirrored[canaryService]).toBe(after);
    });
    expectSafe(reports['shadow step']);
  });
});
