/**
 * Exact counts against a REAL Prometheus (Debian package) scraping every 5 s, the PodMonitor's default: an exporter
 * whose event log is known (requests and errors at seeded instants, errors in clusters of 3 as retries make them, a
 * counter reset when the canary's process restarts, an error series that appears only at its first error as
 * client_python creates labelled children), read by the controller's adapter on the 10 s tick grid with the vLLM
 * preset's raw-total queries, differenced as the engine does (core/counters.ts). The counts the engine sees equal
 * the events the exporter counted between the two scrapes the readings used. Where no prometheus binary exists:
 * in CI this fails (install it); locally one test warns SKIPPED and asserts the absence.
 */
import { PrometheusMetrics } from '../../src/controller/prometheus';
import { counterIncrease, CounterSnapshot } from '../../src/core/counters';
import { MetricSpec, RolloutSpec } from '../../src/core/spec';
import { ServingEngine } from '../../src/rollout';
import { prometheusBinary, PrometheusFixture, startPrometheusScraping } from '../support/prometheus-server';
import { rolloutSpec } from '../support/spec-fixture';

const binary = prometheusBinary();

/** A seeded event log: request instants (s since the exporter started) and which of them failed. */
interface EventLog {
  readonly at: number[];
  readonly failed: boolean[];
}

function eventLog(seed: number, rps: number, clusters: number[], seconds: number): EventLog {
  let a = seed;
  const u = () => ((a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const at: number[] = [];
  const failed: boolean[] = [];
  for (let t = -Math.log(1 - u()) / rps; t < seconds; t += -Math.log(1 - u()) / rps) {
    at.push(t);
    // three requests in a row fail around each cluster instant (a client and its two retries)
    failed.push(clusters.some((c) => t >= c && at.filter((x, i) => x >= c && failed[i]).length < 3));
  }
  return { at, failed };
}

if (!binary && !process.env.CI) {
  test('SKIPPED: no prometheus binary here (apt-get install prometheus); CI runs these tests', () => {
    // eslint-disable-next-line no-console
    console.warn('SKIPPED: test/controller/prometheus-exact-counts.test.ts needs the prometheus binary (apt-get install prometheus)');
    expect(prometheusBinary()).toBeUndefined();
  });
} else {
  describe('exact counts from raw totals against a real Prometheus at a 5 s scrape', () => {
    const HORIZON = 120;
    const logs: Record<string, EventLog> = {
      v1: eventLog(11, 7, [9, 31], HORIZON),
      v2: eventLog(23, 3, [14, 26, 41], HORIZON),
    };
    // the canary's process restarts at 50 s, after its last error: its counters start again from 0 (a restart while
    // an error child is absent reads as a continuation when the child comes back: see core/counters.ts)
    const RESTART = 50;
    /** When the exporter served each version (ms, and seconds on the event log's clock). */
    const served: Record<string, Array<{ at: number; seconds: number }>> = { v1: [], v2: [] };
    let prom: PrometheusFixture;

    const body = (path: string, seconds: number) => {
      const version = path.split('/').pop()!;
      const log = logs[version];
      const from = version === 'v2' && seconds >= RESTART ? RESTART : 0;
      let requests = 0;
      let errors = 0;
      log.at.forEach((t, i) => {
        if (t > from && t <= seconds) {
          requests++;
          if (log.failed[i]) errors++;
        }
      });
      served[version].push({ at: Date.now(), seconds });
      const sel = 'handler="/v1/chat/completions",method="POST"';
      return [
        '# TYPE http_requests_total counter',
        `http_requests_total{${sel},status="2xx"} ${requests - errors}`,
        // client_python creates a labelled child at its first increment: no 5xx series before the first error
        ...(errors > 0 ? [`http_requests_total{${sel},status="5xx"} ${errors}`] : []),
        '# TYPE vllm:num_requests_running gauge', 'vllm:num_requests_running 1', '',
      ].join('\n');
    };

    beforeAll(async () => {
      if (!binary) throw new Error('prometheus is not installed: apt-get install prometheus (.ci/run installs it); these tests must run in CI');
      prom = await startPrometheusScraping({
        targets: ['v1', 'v2'].map((version) => ({
          path: `/metrics/${version}`,
          labels: { model: 'llama', environment: 'production', version },
        })),
        relabelConfigs: [],
        body,
        scrapeIntervalSeconds: 5,
        readyQuery: 'vllm:num_requests_running{model="llama"}',
        readySeries: 2,
      });
    }, 60_000);
    afterAll(async () => prom?.stop());

    test('the differences of the readings equal the events counted between the scrapes they used: resets, new series, clusters', async () => {
      // GIVEN the vLLM preset's error check (raw totals) with the synth-time placeholders filled, ticking every 10 s
      const check = ServingEngine.VLLM.errorCheck()._spec() as Extract<MetricSpec, { provider: 'prometheus' }>;
      expect(check.sequential?.totals).toBe(true);
      const fill = (q: string) => q.replace(/\{\{model\}\}/g, 'llama').replace(/\{\{environment\}\}/g, 'production');
      const spec: RolloutSpec = rolloutSpec({
        tickSeconds: 10,
        checks: [{
          ...check,
          sequential: {
            ...check.sequential!, errorsQuery: fill(check.sequential!.errorsQuery), requestsQuery: fill(check.sequential!.requestsQuery),
          },
        }],
      });
      const adapter = new PrometheusMetrics(prom.url);
      // WHEN the adapter reads at every grid slot for a minute, and each reading is differenced as the engine does
      const kept: Record<string, CounterSnapshot | undefined> = {};
      const seen = { canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
      const timestamps: Array<{ v1: number; v2: number }> = [];
      let lastAt = -1;
      for (let slot = 0; slot < 7;) {
        const obs = await adapter.measure(spec, ['v2']);
        // a grid instant before Prometheus' first scrape of stable is a measurement error: wait it out
        const reading = obs.v2[check.name].error ? undefined : obs.v2[check.name].totals;
        // the scrapes a reading used: the latest sample at or before the grid instant, per version (none yet: skip)
        const ts = async (version: string, time: number) => {
          const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(`timestamp(vllm:num_requests_running{version="${version}"})`)}&time=${time / 1000}`);
          const result = (await r.json() as { data: { result: Array<{ value: [number, string] }> } }).data.result;
          return result.length > 0 ? Number(result[0].value[1]) * 1000 : undefined;
        };
        if (reading && reading.at > lastAt) {
          lastAt = reading.at;
          const used = { v1: await ts('v1', reading.at), v2: await ts('v2', reading.at) };
          if (used.v1 !== undefined && used.v2 !== undefined) {
            slot++;
            timestamps.push({ v1: used.v1, v2: used.v2 });
            for (const [side, kind] of [['canary', 'requests'], ['canary', 'errors'], ['stable', 'requests'], ['stable', 'errors']] as const) {
              const out = counterIncrease(kept[`${side}/${kind}`], reading[side][kind], reading.at);
              kept[`${side}/${kind}`] = out.snapshot;
              if (out.increase !== undefined) seen[side][kind] += out.increase;
            }
          }
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      // THEN for each version: the events of the log after the scrape the first reading used, up to the scrape the
      // last one used, less the canary's events that died with its process after the last reading before the restart
      const scrape = (version: 'v1' | 'v2', ms: number) => {
        const s = served[version].reduce((best, x) => (Math.abs(x.at - ms) < Math.abs(best.at - ms) ? x : best));
        expect(Math.abs(s.at - ms)).toBeLessThan(500);
        return s.seconds;
      };
      const events = (version: 'v1' | 'v2', from: number, to: number) => {
        const log = logs[version];
        const inside = log.at.map((t, i) => ({ t, failed: log.failed[i] })).filter((e) => e.t > from && e.t <= to);
        return { requests: inside.length, errors: inside.filter((e) => e.failed).length };
      };
      const expected = (version: 'v1' | 'v2') => {
        const from = scrape(version, timestamps[0][version]);
        const to = scrape(version, timestamps[timestamps.length - 1][version]);
        const all = events(version, from, to);
        if (version === 'v1' || !(from < RESTART && RESTART <= to)) return all;
        // a reset between two readings loses what the process counted after the earlier reading's scrape
        const before = Math.max(...timestamps.map((x) => scrape('v2', x.v2)).filter((x) => x < RESTART));
        const lost = events('v2', Math.max(from, before), RESTART);
        return { requests: all.requests - lost.requests, errors: all.errors - lost.errors };
      };
      expect(seen.canary).toEqual(expected('v2'));
      expect(seen.stable).toEqual(expected('v1'));
      expect(seen.canary.requests).toBeGreaterThan(50);
      expect(seen.canary.errors).toBeGreaterThan(0);
    }, 120_000);
  });
}
