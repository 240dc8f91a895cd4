/**
 * The default queries and checks against a REAL Prometheus (Debian package) scraping a loopback exporter that speaks
 * vLLM's metric names. The scrape job's relabel_configs are translated from the PodMonitor this library synthesizes,
 * and the targets carry the pod labels Kubernetes service discovery would, so Prometheus itself puts `model`,
 * `environment`, `version` on every series. Where no prometheus binary exists: in CI this fails (install it); locally
 * one test warns SKIPPED and asserts the absence.
 */
import { App, Chart, Testing } from 'cdk8s';
import { instantQuery, PrometheusMetrics } from '../../src/controller/prometheus';
import { STATE_KEY_SPEC } from '../../src/core/constants';
import { judge } from '../../src/core/decide/analysis';
import { judgeComparison, judgeWithBaseline } from '../../src/core/gates';
import { fillPlaceholders } from '../../src/core/placeholders';
import { DEFAULT_SEQUENTIAL, sequentialStep } from '../../src/core/sequential';
import { RolloutSpec } from '../../src/core/spec';
import { CanaryRollout, Model } from '../../src/k8s';
import { ServingEngine } from '../../src/rollout';
import { prometheusBinary, PrometheusFixture, RelabelConfig, startPrometheusScraping } from '../support/prometheus-server';
import { findObject } from '../support/synth';
import { vllmExposition, VllmPod } from '../support/vllm-exporter';

const binary = prometheusBinary();

if (!binary && !process.env.CI) {
  test('SKIPPED: no prometheus binary here (apt-get install prometheus); CI runs these tests', () => {
    // eslint-disable-next-line no-console
    console.warn('SKIPPED: test/controller/prometheus-vllm.test.ts needs the prometheus binary (apt-get install prometheus)');
    expect(prometheusBinary()).toBeUndefined();
  });
} else {
  describe('vLLM preset against a real Prometheus', () => {
    const pods: Record<string, VllmPod> = {
      v1: { modelName: 'meta-llama/Llama-3.1-8B-Instruct', rps: 200, abortShare: 0.001, running: 3, waiting: 2, ttftSeconds: 0.08 },
      v2: { modelName: 'meta-llama/Llama-3.1-8B-Instruct', rps: 200, abortShare: 0.2, running: 1, waiting: 0, ttftSeconds: 0.9 },
      v3: { modelName: 'meta-llama/Llama-3.1-8B-Instruct', rps: 200, abortShare: 0.001, running: 0, waiting: 0, ttftSeconds: 0.08 },
    };
    let prom: PrometheusFixture;
    let relabelings: Array<{ sourceLabels: string[]; targetLabel: string; action: string }>;
    let synthesized: RolloutSpec;

    beforeAll(async () => {
      if (!binary) throw new Error('prometheus is not installed: apt-get install prometheus (.ci/run installs it); these tests must run in CI');
      // the PodMonitor exactly as synthesized for a vLLM model
      const app = Testing.app();
      const chart = new Chart(app as App, 'c', { namespace: 'models' });
      const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3' });
      model.addVersion('v2');
      const production = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' } });
      new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
      const objects = Testing.synth(chart);
      const monitor = findObject(objects, 'PodMonitor');
      // the spec the controller reads: the queries with the model, environment and namespace filled at synth
      synthesized = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.data?.[STATE_KEY_SPEC]).data[STATE_KEY_SPEC]);
      relabelings = monitor.spec.podMetricsEndpoints[0].relabelings;
      const relabelConfigs: RelabelConfig[] = relabelings.map((r) => ({
        source_labels: r.sourceLabels, target_label: r.targetLabel, action: r.action,
      }));
      prom = await startPrometheusScraping({
        // what Kubernetes service discovery attaches to each pod (its labels, sanitized)
        targets: Object.keys(pods).map((version) => ({
          path: `/metrics/${version}`,
          labels: {
            __meta_kubernetes_pod_label_model_rollout_dev_model: 'llama',
            __meta_kubernetes_pod_label_model_rollout_dev_environment: 'production',
            __meta_kubernetes_pod_label_model_rollout_dev_version: version,
          },
        })),
        relabelConfigs,
        body: (path, seconds) => vllmExposition(pods[path.split('/').pop()!], seconds),
        readyQuery: 'count_over_time(vllm:num_requests_running{model="llama",environment="production"}[1m]) >= 6',
        readySeries: 3,
      });
    }, 60_000);
    afterAll(async () => prom?.stop());

    // `{{window}}` is one tick; these counts read the last minute of the exporter's traffic
    const vars = (version: string) => ({ model: 'llama', environment: 'production', version, namespace: 'models', window: '60s' });
    const q = async (query: string, version: string) => (await instantQuery(prom.url, fillPlaceholders(query, vars(version)))).value;

    test('the relabeling gives every vLLM series model, environment and version labels', async () => {
      expect(relabelings.map((r) => r.targetLabel)).toEqual(['model', 'environment', 'version']);
      const body = JSON.parse(await (await fetch(`${prom.url}/api/v1/series?match[]=${encodeURIComponent('{__name__=~"vllm:.*"}')}`)).text());
      expect(body.data.length).toBeGreaterThan(0);
      for (const s of body.data) expect(s).toMatchObject({ model: 'llama', environment: 'production', model_name: 'meta-llama/Llama-3.1-8B-Instruct' });
      expect(new Set(body.data.map((s: { version: string }) => s.version))).toEqual(new Set(['v1', 'v2', 'v3']));
    });

    test('the KEDA in-flight query is running + waiting of one version; a version nobody scrapes answers empty (an error for KEDA)', async () => {
      expect(await q(ServingEngine.VLLM.inFlightQuery, 'v1')).toBe(5);
      expect(await q(ServingEngine.VLLM.inFlightQuery, 'v2')).toBe(1);
      expect(await q(ServingEngine.VLLM.inFlightQuery, 'v3')).toBe(0);
      expect(await q(ServingEngine.VLLM.inFlightQuery, 'v9')).toBeUndefined();
    });

    test('error and request counts; the sequential test fails the broken canary and not the healthy one', async () => {
      const counts = async (version: string) => ({
        requests: (await q(ServingEngine.VLLM.requestsQuery, version))!,
        errors: (await q(ServingEngine.VLLM.errorsQuery, version))!,
      });
      const stable = await counts('v1');
      const broken = await counts('v2');
      const healthy = await counts('v3');
      expect(stable.requests).toBeGreaterThan(500);
      expect(broken.errors / broken.requests).toBeGreaterThan(0.15);
      expect(broken.errors / broken.requests).toBeLessThan(0.25);
      expect(healthy.errors / healthy.requests).toBeLessThan(0.01);
      expect(await q(ServingEngine.VLLM.errorsQuery, 'v9')).toBe(0); // `or vector(0)`: no error series is 0 errors
      expect(await q(ServingEngine.VLLM.requestsQuery, 'v9')).toBeUndefined(); // but no requests is no data
      expect(sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: broken, stable }).verdict).toBe('fail');
      expect(sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: healthy, stable }).verdict).not.toBe('fail');
    });

    test('the latency check compares the canary with stable over the same window', async () => {
      const metric = ServingEngine.VLLM.latencyCheck()._spec();
      if (metric.provider !== 'prometheus') throw new Error('prometheus metric expected');
      const stable = await q(metric.query, 'v1');
      const slow = await q(metric.query, 'v2');
      const same = await q(metric.query, 'v3');
      expect(stable).toBeGreaterThan(0.06);
      expect(stable).toBeLessThanOrEqual(0.1);
      expect(slow).toBeGreaterThan(0.75);
      expect(judgeComparison(metric.baseline!, metric.comparison, slow, stable)).toBe('fail');
      expect(judgeComparison(metric.baseline!, metric.comparison, same, stable)).toBe('pass');
      const samples = await q(metric.sampleQuery!, 'v2');
      expect(judgeWithBaseline(metric, { value: slow, samples, baseline: stable })).toBe('fail');
    });

    test('today\'s adapter and judge() already fail the broken canary on the default error check\'s ceiling', async () => {
      const errorCheck = synthesized.checks[0];
      const spec = { ...synthesized, steps: [], tickSeconds: undefined };
      const adapter = new PrometheusMetrics(prom.url);
      const obs = await adapter.measure(spec, ['v2', 'v3']);
      expect(obs.v2[errorCheck.name].value).toBeGreaterThan(0.15);
      expect(judge(errorCheck, obs.v2[errorCheck.name])).toBe('fail');
      expect(judge(errorCheck, obs.v3[errorCheck.name])).toBe('pass');
    });

    test('sub-minute ticks: the counts of one 10 s window on the grid, {{window}} = 10s, evaluated at its end', async () => {
      // GIVEN a spec ticking every 10 s, and a clock just past a grid point
      const errorCheck = synthesized.checks[0];
      const spec = { ...synthesized, steps: [] };
      expect(spec.tickSeconds).toBe(10);
      let now = Date.now();
      const adapter = new PrometheusMetrics(prom.url, { now: () => now });
      // WHEN it measures the broken canary (a window that began before Prometheus' first scrapes has no increase
      // yet: measure again, a second later, until the grid's latest window lies within the scraped time)
      let obs = await adapter.measure(spec, ['v2']);
      for (let i = 0; i < 20 && !obs.v2[errorCheck.name].counts; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        now = Date.now();
        obs = await adapter.measure(spec, ['v2']);
      }
      // THEN the window ends on the 10 s grid at or before now; its counts are Prometheus' `increase(...[10s])` at
      // that instant (not a minute's, not now's), at most 10 s of the exporter's 200 requests/s, 20 % of them aborted
      const counts = obs.v2[errorCheck.name].counts!;
      expect(counts.windowEnd! % 10_000).toBe(0);
      expect(now - counts.windowEnd!).toBeLessThan(10_000);
      const at = { time: counts.windowEnd! / 1000 };
      const tick = { ...vars('v2'), window: '10s' };
      expect(counts.canary.requests).toBe((await instantQuery(prom.url, fillPlaceholders(ServingEngine.VLLM.requestsQuery, tick), at)).value);
      expect(counts.canary.errors).toBe((await instantQuery(prom.url, fillPlaceholders(ServingEngine.VLLM.errorsQuery, tick), at)).value);
      expect(counts.canary.requests).toBeGreaterThan(0);
      expect(counts.canary.requests).toBeLessThan(pods.v2.rps * 10 * 1.4);
      expect(counts.canary.errors / counts.canary.requests).toBeGreaterThan(0.15);
      expect(counts.canary.errors / counts.canary.requests).toBeLessThan(0.25);
    });
  });
}
