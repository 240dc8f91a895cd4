/**
 * The pass-wide Prometheus gate: once a measurement runs into the query timeout, the other rollouts of the pass get
 * an error observation at once (they hold, and their error window runs) while one rollout at a time probes; an
 * answer within the timeout opens the gate again. A fast error (a 401, a bad query) never shuts it.
 */
import { PrometheusGate } from '../../../src/controller/k8s/prometheus-gate';
import { Metrics } from '../../../src/controller/ports';
import { RolloutSpec } from '../../../src/core/spec';

const spec = { name: 'llama-production', checks: [{ name: 'error-rate' }] } as unknown as RolloutSpec;

/** A Prometheus whose answers take `latency()` ms of the fake clock and fail when they come past 5 s. */
function prometheus(clock: { t: number }, latency: () => number) {
  let queries = 0;
  const metrics: Metrics = {
    measure: async (_s, versions) => {
      queries++;
      const ms = latency();
      clock.t += Math.min(ms, 5000);
      const obs = ms >= 5000 ? { error: 'GET /api/v1/query timed out after 5000 ms' } : { value: 0.001 };
      return Object.fromEntries(versions.map((v) => [v, { 'error-rate': obs }]));
    },
  };
  return { metrics, queries: () => queries };
}

describe('PrometheusGate', () => {
  test('a Prometheus past its timeout is waited on once a pass, not once per rollout; an answer in time opens the gate', async () => {
    const clock = { t: 0 };
    let latency = 6000;
    const p = prometheus(clock, () => latency);
    const gate = new PrometheusGate(5000, () => clock.t);
    const metrics = gate.wrap(p.metrics);
    // the first rollout waits the timeout and shuts the gate
    expect((await metrics.measure(spec, ['v2'])).v2['error-rate'].error).toMatch(/timed out/);
    expect(gate.shut).toBe(true);
    // eight rollouts at once: one probes (and waits), seven hold at once with the reason
    const results = await Promise.all(Array.from({ length: 8 }, () => metrics.measure(spec, ['v2'])));
    expect(p.queries()).toBe(2);
    expect(results.filter((r) => /not queried for this rollout/.test(r.v2['error-rate'].error ?? ''))).toHaveLength(7);
    // Prometheus recovers: the next probe answers in time and the gate opens for everyone
    latency = 30;
    expect((await metrics.measure(spec, ['v2'])).v2['error-rate'].value).toBe(0.001);
    expect(gate.shut).toBe(false);
    await Promise.all(Array.from({ length: 3 }, () => metrics.measure(spec, ['v2'])));
    expect(p.queries()).toBe(6);
  });

  test('a fast error does not shut the gate', async () => {
    const clock = { t: 0 };
    const failing: Metrics = { measure: async (_s, versions) => Object.fromEntries(versions.map((v) => [v, { 'error-rate': { error: 'HTTP 401' } }])) };
    const gate = new PrometheusGate(5000, () => clock.t);
    await gate.wrap(failing).measure(spec, ['v2']);
    expect(gate.shut).toBe(false);
  });
});
