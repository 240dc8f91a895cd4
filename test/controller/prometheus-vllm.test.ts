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
import { counterIncrease } from '../../src/core/counters';
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

    test('error and request counts: the preset selects the HTTP layer\'s completion responses, 4xx/5xx as errors', async () => {
      // the preset's queries are raw counter series: over the last minute, as the controller's differences add up
      const minute = (query: string) => `sum(increase(${query}[60s]))`;
      const counts = async (version: string) => ({
        requests: (await q(minute(ServingEngine.VLLM.requestsQuery), version))!,
        errors: (await q(minute(ServingEngine.VLLM.errorsQuery), version))!,
      });
      const stable = await counts('v1');
      const broken = await counts('v2');
      const healthy = await counts('v3');
      expect(stable.requests).toBeGreaterThan(500);
      expect(broken.errors / broken.requests).toBeGreaterThan(0.15);
      expect(broken.errors / broken.requests).toBeLessThan(0.25);
      expect(healthy.errors / healthy.requests).toBeLessThan(0.01);
      expect(await q(minute(ServingEngine.VLLM.requestsQuery), 'v9')).toBeUndefined(); // no series: no data
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

    test('sub-minute ticks: the adapter reads raw totals at the end of the grid slot; two readings a slot apart, differenced, fail the broken canary', async () => {
      // GIVEN the synthesized spec, ticking every 10 s, its error check on raw totals
      const errorCheck = synthesized.checks[0];
      expect(errorCheck.provider === 'prometheus' && errorCheck.sequential?.totals).toBe(true);
      const spec = { ...synthesized, steps: [] };
      expect(spec.tickSeconds).toBe(10);
      const adapter = new PrometheusMetrics(prom.url);
      // WHEN it reads twice, in two consecutive slots
      // (a grid instant before Prometheus' first scrape of stable has no series yet: a measurement error; wait it out)
      let first = await adapter.measure(spec, ['v2', 'v3']);
      for (let i = 0; i < 20 && !(first.v2[errorCheck.name].totals && first.v3[errorCheck.name].totals); i++) {
        await new Promise((r) => setTimeout(r, 1000));
        first = await adapter.measure(spec, ['v2', 'v3']);
      }
      let second = first;
      while (second.v2[errorCheck.name].totals!.at === first.v2[errorCheck.name].totals!.at) {
        await new Promise((r) => setTimeout(r, 1000));
        second = await adapter.measure(spec, ['v2', 'v3']);
      }
      // THEN each reading is on the 10 s grid, and holds what `sum()` of the same query returns at that instant
      const reading = second.v2[errorCheck.name].totals!;
      expect(reading.at % 10_000).toBe(0);
      const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
      const at = { time: reading.at / 1000 };
      const filled = (query: string, version: string) => fillPlaceholders(`sum(${query})`, vars(version));
      expect(sum(reading.canary.requests)).toBe((await instantQuery(prom.url, filled(ServingEngine.VLLM.requestsQuery, 'v2'), at)).value);
      expect(sum(reading.canary.errors)).toBe((await instantQuery(prom.url, filled(ServingEngine.VLLM.errorsQuery, 'v2'), at)).value);
      expect(sum(reading.stable.requests)).toBe((await instantQuery(prom.url, filled(ServingEngine.VLLM.requestsQuery, 'v1'), at)).value);
      // and the differences, as the engine takes them, fail the broken canary and not the healthy one
      const diff = (version: 'v2' | 'v3') => {
        const a = first[version][errorCheck.name].totals!;
        const b = second[version][errorCheck.name].totals!;
        const inc = (side: 'canary' | 'stable', kind: 'requests' | 'errors') =>
          counterIncrease(counterIncrease(undefined, a[side][kind], a.at).snapshot, b[side][kind], b.at).increase!;
        return { canary: { requests: inc('canary', 'requests'), errors: inc('canary', 'errors') }, stable: { requests: inc('stable', 'requests'), errors: inc('stable', 'errors') } };
      };
      const broken = diff('v2');
      expect(broken.canary.requests).toBeGreaterThan(0);
      expect(broken.canary.errors / broken.canary.requests).toBeGreaterThan(0.15);
      let out = sequentialStep(DEFAULT_SEQUENTIAL, undefined, broken);
      for (let i = 0; i < 2 && out.verdict !== 'fail'; i++) out = sequentialStep(DEFAULT_SEQUENTIAL, out.state, broken);
      expect(out.verdict).toBe('fail');
      expect(sequentialStep(DEFAULT_SEQUENTIAL, undefined, diff('v3')).verdict).not.toBe('fail');
    });

    test('a stable version whose requests query matches no series is a measurement error naming the query, never "no traffic"', async () => {
      // GIVEN the synthesized spec with a stable version nobody scrapes
      const errorCheck = synthesized.checks[0];
      const spec = { ...synthesized, steps: [], stable: 'v9' };
      // WHEN the adapter measures the canary
      const obs = await new PrometheusMetrics(prom.url).measure(spec, ['v2']);
      // THEN the check holds on a measurement error that says which query selected nothing
      expect(obs.v2[errorCheck.name].totals).toBeUndefined();
      expect(obs.v2[errorCheck.name].error).toMatch(/requestsQuery matches no series for the stable version v9 \(http_requests_total\{model="llama",environment="production",version="v9"/);
    });
  });
}
