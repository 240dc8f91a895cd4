/**
 * Capacity during a rollout, in the cluster twin (test/support/cluster-scenario.ts): the synthesized manifests
 * applied with the real kubectl, the real controller ticking once a minute, KEDA-like autoscalers following the
 * load (with their scale-down stabilization window), GPU cold starts, and a traffic curve: a compressed day from
 * the trough to a peak at 3x and back, the rollout starting at the trough and crossing the peak. A replica serves 5
 * requests a second; requests beyond that, or to a version without a ready replica, are counted.
 *
 * Done when (issue 15): a rollout crossing a 3x peak has zero requests without a ready replica and its promotion
 * does not shrink serving capacity; surge mode completes on a GPU quota that cannot hold both versions, with zero
 * overload, reporting its peak GPUs.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { CanaryRollout, Model } from '../../src/k8s';
import { Gpu, GpuProduct, RolloutCapacity, Steps } from '../../src/rollout';
import { ClusterScenario, describeWithKubectl, ScenarioReport } from '../support/cluster-scenario';
import { findTool } from '../support/kube-twin';

const NS = 'models';
const HOST = 'llm.example.com';
const kubectl = findTool('kubectl');
/** The compressed day: 16 requests/s at the trough, 48 (3x) at 30 minutes. */
const PERIOD = 3600;
const rpsAt = (t: number) => 16 * (1 + (1 - Math.cos((2 * Math.PI * t) / PERIOD)));
const reports: Record<string, ScenarioReport & { peakGpus: number; gpuHours: number }> = {};

/** One GPU per replica; 4 replicas minimum, autoscaled at 4 requests/s each (a replica serves 5); 10 steps over 30 minutes. */
function manifests(capacity?: RolloutCapacity) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llm', image: 'vllm/vllm-openai:v0.6.3', port: 8000, gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  model.addVersion('v2');
  const production = model.addEnvironment('production', {
    version: 'v1',
    gateway: { name: 'inference', namespace: 'gateways' },
    hostnames: [HOST],
    autoscaling: { minReplicas: 4, maxReplicas: 30, concurrencyTarget: 4, scaleDownDelay: Duration.minutes(5) },
  });
  const rollout = new CanaryRollout(chart, 'Rollout', {
    environment: production,
    canaries: [{ version: 'v2' }],
    // the capacity figures are of the ramp itself (the shadow step's replicas are the first step's)
    steps: Steps.equal({ count: 10, over: Duration.minutes(30), shadowFirst: false }),
    defaultChecks: false,
    progressDeadline: Duration.minutes(20),
    ...(capacity ? { capacity } : {}),
  });
  return { objects: Testing.synth(chart), plan: rollout.plan._data() };
}

async function run(name: string, options: { capacity?: RolloutCapacity; gpuQuota?: number }, minutes: number): Promise<ClusterScenario> {
  const c = await ClusterScenario.start({
    namespace: NS,
    host: HOST,
    rps: 16,
    rpsAt,
    perReplicaRps: 5,
    coldStartSeconds: 120,
    kubectl: kubectl!,
    loadWindowSeconds: 60,
    ...(options.gpuQuota !== undefined ? { gpuQuota: options.gpuQuota } : {}),
  });
  try {
    const m = manifests(options.capacity);
    c.world.setColdStart(NS, 'llm-production-v1', 0);
    c.world.setColdStart(NS, 'llm-production-v2', 120);
    await c.apply(m.objects);
    // the stable version settles at the trough before the rollout starts
    c.seconds(60);
    c.world.setColdStart(NS, 'llm-production-v1', 120);
    // the figures count from the rollout's start
    Object.assign(c.report, { requests: 0, failed: 0, overloaded: 0, longestOutageSeconds: 0 });
    c.world.peakGpus = c.world.gpusInUse;
    c.world.gpuSeconds = 0;
    c.watch(m.plan, 'llm-production');
    let promotedAt: number | undefined;
    for (let i = 0; i < minutes; i++) {
      const before = c.state('llm-production')?.phase;
      // capacity the new version has when it takes everything, against what the whole load needs
      await c.run(1);
      if (before !== 'promoted' && c.state('llm-production')?.phase === 'promoted' && promotedAt === undefined) {
        promotedAt = c.world.time;
        (c as any).promotion = { ready: c.readyReplicas('llm-production-v2'), needed: Math.ceil(rpsAt(c.world.time) / 5) };
      }
    }
    if (process.env.SCENARIO_DEBUG) for (const l of c.logs) console.log(`t=${String(l.t)} ${JSON.stringify(l.weights)} ${JSON.stringify(l.floors)} ${String(l.reason ?? l.msg)}`);
    reports[name] = { ...c.report, peakGpus: c.world.peakGpus, gpuHours: Math.round((c.world.gpuSeconds / 3600) * 100) / 100 };
    return c;
  } finally {
    await c.stop();
  }
}

describeWithKubectl('capacity in the cluster twin', kubectl, () => {
  afterAll(() => {
    for (const [name, r] of Object.entries(reports)) {
      console.log(`${name}: ${r.requests} requests, ${r.failed} without a ready replica, ${r.overloaded} beyond ready capacity, `
          + `${r.overPlanSeconds} s over the plan, peak ${r.peakGpus} GPUs, ${r.gpuHours} GPU-hours`);
    }
  });

  test('a rollout crossing a 3x peak: no request without a ready replica, and promotion does not shrink serving capacity', async () => {
    const c = await run('full mode, 3x peak', {}, 42);
    const r = reports['full mode, 3x peak'];
    expect(c.state === undefined).toBe(false);
    const safety = { failed: r.failed, overloaded: r.overloaded, overPlanSeconds: r.overPlanSeconds };
    expect(safety).toEqual({ failed: 0, overloaded: 0, overPlanSeconds: 0 });
    expect(r.requests).toBeGreaterThan(80_000);
    const promotion = (c as any).promotion;
    expect(promotion).toBeDefined();
    // the new stable version took all the traffic with at least the replicas the whole load needs
    expect(promotion.ready).toBeGreaterThanOrEqual(promotion.needed);
  }, 300_000);

  test('surge mode on a GPU quota that cannot hold both versions completes with zero overload and reports its peak GPUs', async () => {
    // the peak needs 12 one-GPU replicas; both versions at that size would need 24; the quota is 16, full mode peaks at 18 here
    const c = await run('surge, 16-GPU quota', { capacity: RolloutCapacity.surge({ maxExtraGpus: 3 }), gpuQuota: 16 }, 60);
    const r = reports['surge, 16-GPU quota'];
    expect((c as any).promotion).toBeDefined();
    expect({ failed: r.failed, overloaded: r.overloaded }).toEqual({ failed: 0, overloaded: 0 });
    expect(r.peakGpus).toBeLessThanOrEqual(16);
    expect(r.peakGpus).toBeGreaterThan(0);
  }, 300_000);
});
