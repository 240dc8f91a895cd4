/**
 * The metric gate against a REAL Prometheus (Debian package, installed by .ci/run) scraping a test exporter on
 * loopback. In CI this must run: it skips only where no prometheus binary exists and CI is not set.
 */
import { instantQuery, PrometheusMetrics } from '../../src/controller/prometheus';
import { tick } from '../../src/controller/tick';
import { RolloutSpec } from '../../src/core/spec';
import { prometheusBinary, PrometheusFixture, startPrometheus } from '../support/prometheus-server';
import { RolloutWorld } from '../support/rollout-world';

const MIN = 60_000;
const runs = Boolean(prometheusBinary()) || Boolean(process.env.CI);
const maybe = runs ? describe : describe.skip;

const errorRateQuery = 'sum(rate(model_requests_total{version="{{version}}",code=~"5.."}[5s])) / sum(rate(model_requests_total{version="{{version}}"}[5s]))';
const sampleQuery = 'sum(increase(model_requests_total{version="{{version}}"}[5s]))';

function spec(canary: string): RolloutSpec {
  return {
    name: 'llama',
    path: 'App/Rollout',
    stable: 'v1',
    canaries: [{ version: canary, targetWeight: 100, ramp: true }],
    versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: canary, gpusPerReplica: 1 }],
    steps: [
      { kind: 'setWeight', weight: 20 },
      {
        kind: 'analysis',
        gate: {
          name: 'error-rate',
          metrics: [{ provider: 'prometheus', name: 'error-rate', query: errorRateQuery, comparison: 'lt', threshold: 0.05, sampleQuery, minSamples: 20 }],
          intervalSeconds: 60,
          count: 2,
          failureLimit: 0,
          inconclusiveLimit: 5,
        },
      },
      { kind: 'setWeight', weight: 100 },
    ],
    stableReplicas: 2,
    checks: [],
    checkFailureLimit: 0,
    progressDeadlineSeconds: 900,
    keepPreviousWarmSeconds: 0,
  };
}

maybe('metric gate against a real Prometheus', () => {
  let prom: PrometheusFixture;
  beforeAll(async () => {
    prom = await startPrometheus({
      healthy: { rps: 200, errorShare: 0.001 },
      failing: { rps: 200, errorShare: 0.3 },
      quiet: { rps: 0.5, errorShare: 0.5 },
    });
  }, 60_000);
  afterAll(async () => prom?.stop());

  async function rollout(canary: string) {
    const world = new RolloutWorld(spec(canary), { coldStartMs: 0 });
    const metrics = new PrometheusMetrics(prom.url);
    const durations: number[] = [];
    for (let i = 0; i < 8 && !['promoted', 'aborted'].includes(world.state?.phase ?? ''); i++) {
      const r = await tick({ ...world.ports(), metrics }, world.now);
      durations.push(r.millis);
      world.now += MIN;
    }
    return { world, durations };
  }

  test('instant queries return one sample, and Prometheus errors surface', async () => {
    const r = await instantQuery(prom.url, errorRateQuery.replace(/\{\{version\}\}/g, 'failing'));
    expect(r.value).toBeGreaterThan(0.2);
    expect(r.value).toBeLessThan(0.4);
    await expect(instantQuery(prom.url, 'sum(')).rejects.toThrow(/HTTP 400/);
    await expect(instantQuery(prom.url, 'model_requests_total')).rejects.toThrow(/series; a gate needs one/);
  });

  test('the healthy canary passes the gate and is promoted', async () => {
    const { world, durations } = await rollout('healthy');
    expect(world.state!.phase).toBe('promoted');
    expect(world.router).toEqual({ v1: 0, healthy: 100 });
    const sorted = [...durations].sort((a, b) => a - b);
    console.log(`tick against loopback Prometheus: median ${sorted[Math.floor(sorted.length / 2)]} ms over ${sorted.length} ticks`);
  });

  test('the failing canary fails the gate and is rolled back', async () => {
    const { world } = await rollout('failing');
    expect(world.state!.phase).toBe('aborted');
    expect(world.state!.reason).toMatch(/analysis "error-rate" failed/);
    expect(world.router).toEqual({ v1: 100, failing: 0 });
  });

  test('a canary with too little traffic is not judged: the gate waits instead of rolling back', async () => {
    const { world } = await rollout('quiet');
    expect(world.state!.phase).not.toBe('aborted');
    expect(world.state!.gate?.inconclusive ?? 0).toBeGreaterThan(0);
  });

  test('Prometheus unreachable is inconclusive, never a failure', async () => {
    const metrics = new PrometheusMetrics('http://127.0.0.1:9', { timeoutMs: 1000 });
    const m = await metrics.measure(spec('healthy'), ['healthy']);
    expect(m.healthy['error-rate'].error).toMatch(/ECONNREFUSED/);
  });
});
