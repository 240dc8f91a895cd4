/**
 * The pure gate functions of issue 16: the SPRT of canary errors against stable errors, the canary-versus-stable
 * comparison, and the no-data policy.
 */
import { binomial, rng } from '../../bench/rollout-sim/sim';
import { decide } from '../../src/core/decide';
import { DEFAULT_NO_DATA, judgeComparison, judgeWithBaseline, noDataDecision, watchData } from '../../src/core/gates';
import { DEFAULT_SEQUENTIAL, hypotheses, lowerBound, requestsToClimb, sequentialSpecProblem, sequentialStep, SequentialState, sprtBounds } from '../../src/core/sequential';
import { MetricSpec, RolloutSpec } from '../../src/core/spec';
import { ControllerState, Observations } from '../../src/core/state';
import { Metric } from '../../src/rollout/analysis';
import { ServingEngine } from '../../src/rollout/serving-engine';
import { rolloutSpec } from '../support/spec-fixture';

describe('sequential test (SPRT, canary vs stable errors)', () => {
  test('Wald bounds from alpha and beta', () => {
    const { upper, lower } = sprtBounds(0.005, 0.1);
    expect(upper).toBeCloseTo(Math.log(0.9 / 0.005));
    expect(lower).toBeCloseTo(Math.log(0.1 / 0.995));
  });

  test('hypotheses: stable\'s lower bound (99 % before minStableRequests, 95 % after) x (1 + tolerance), never below the floor; H1 = 10 x H0', () => {
    expect(hypotheses(DEFAULT_SEQUENTIAL, { requests: 0, errors: 0 })).toEqual({ p0: 0.0015, p1: 0.015 });
    expect(hypotheses(DEFAULT_SEQUENTIAL, { requests: 500, errors: 0 })).toEqual({ p0: 0.0015, p1: 0.015 });
    // 8 errors in 800 (below minStableRequests): the 99 % bound, 0.45 %, not the floor
    expect(lowerBound(8, 800, 2.326)).toBeLessThan(lowerBound(8, 800));
    expect(hypotheses(DEFAULT_SEQUENTIAL, { requests: 800, errors: 8 }).p0).toBeCloseTo(lowerBound(8, 800, 2.326) * 1.5, 6);
    expect(lowerBound(8, 800, 2.326)).toBeGreaterThan(0.004);
    // 100 errors in 10,000: Wilson's one-sided 95 % lower bound is 0.849 % (worked by hand: (0.01 + 1.645^2/20,000 -
    // 1.645 * sqrt(0.01 * 0.99 / 10,000 + 1.645^2 / (4 * 10,000^2))) / (1 + 1.645^2 / 10,000))
    expect(lowerBound(100, 10_000)).toBeCloseTo(0.008491, 5);
    const { p0, p1 } = hypotheses(DEFAULT_SEQUENTIAL, { requests: 10_000, errors: 100 });
    expect(p0).toBeCloseTo(0.008491 * 1.5, 5);
    expect(p1).toBeCloseTo(0.008491 * 15, 4);
  });

  test('the baseline\'s lower bound: below the observed rate, closing on it as stable serves more, 0 without errors', () => {
    expect(lowerBound(0, 1000)).toBe(0);
    const bounds = [1_000, 10_000, 100_000, 1_000_000].map((n) => lowerBound(n / 500, n));
    for (const b of bounds) expect(b).toBeLessThan(0.002);
    for (let i = 1; i < bounds.length; i++) expect(bounds[i]).toBeGreaterThan(bounds[i - 1]);
    expect(bounds[3]).toBeGreaterThan(0.0019);
    // a 0.1 % stable that erred 3 times in its first 1,000 requests: H0 0.18 %, not the 0.45 % its observed rate
    // gives, so a 2 % canary is still above H1 (1.8 %) and the test fails it
    const { p0, p1 } = hypotheses(DEFAULT_SEQUENTIAL, { requests: 1000, errors: 3 });
    expect(p0).toBeLessThan(0.002);
    expect(p1).toBeLessThan(0.02);
  });

  test('requests to climb: Wald\'s expected sample size of a canary at H1 from the pass bound to the fail bound', () => {
    const { upper, lower } = sprtBounds(DEFAULT_SEQUENTIAL.falseAbortRate, DEFAULT_SEQUENTIAL.missRate);
    // over a 0.1 % stable: p0 0.15 %, p1 1.5 %, KL(p1 || p0) = 0.015 ln 10 + 0.985 ln(0.985 / 0.9985) = 0.02113
    expect(requestsToClimb(DEFAULT_SEQUENTIAL, { requests: 0, errors: 0 })).toBe(Math.ceil((upper - lower) / 0.021132));
    // a canary at H1 does climb that far in that many requests on average: simulated with a seeded walk
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const n = requestsToClimb(DEFAULT_SEQUENTIAL, { requests: 0, errors: 0 });
    let failed = 0;
    for (let run = 0; run < 400; run++) {
      let state: SequentialState = { llr: lower, canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
      for (let i = 0; i < 2 * n && !state.failed; i++) {
        const canary = { requests: 1, errors: next() < 0.015 ? 1 : 0 };
        state = sequentialStep(DEFAULT_SEQUENTIAL, state, { canary, stable: { requests: 0, errors: 0 } }).state;
      }
      if (state.failed) failed++;
    }
    // within twice the expected sample size, most such walks reach the fail bound
    expect(failed / 400).toBeGreaterThan(0.7);
  });

  test('a canary erring as often as a 1 % stable is not failed before stable has minStableRequests', () => {
    // GIVEN stable and canary both at 1 %, window by window, 80 requests each
    let state: SequentialState | undefined;
    let worst = -Infinity;
    for (let w = 1; w <= 10; w++) {
      const out = sequentialStep(DEFAULT_SEQUENTIAL, state, {
        canary: { requests: 80, errors: w % 10 === 0 ? 0 : (w % 5 === 0 ? 1 : (w === 3 ? 2 : 1)) },
        stable: { requests: 80, errors: w % 10 === 0 ? 0 : 1 },
      });
      state = out.state;
      worst = Math.max(worst, state.llr);
      // THEN it never fails
      expect(out.verdict).not.toBe('fail');
    }
    expect(state!.stable).toEqual({ requests: 800, errors: 9 });
    expect(worst).toBeLessThan(sprtBounds(0.01, 0.1).upper);
  });

  test('one window adds at most max(1, floor(2 n p1)) errors: a cluster in a small window counts once', () => {
    const stable = { requests: 5000, errors: 5 };
    // 50 requests, p1 1.5 %: 2 n p1 = 1.5, so 3 errors (one request tried three times) count as one
    const clustered = sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 50, errors: 3 }, stable });
    const single = sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 50, errors: 1 }, stable });
    expect(clustered.state.llr).toBeCloseTo(single.state.llr, 9);
    expect(clustered.verdict).toBe('inconclusive');
    // 5,000 requests: 2 n p1 = 150, so 100 errors all count
    const big = sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 5000, errors: 100 }, stable });
    const p = hypotheses(DEFAULT_SEQUENTIAL, { requests: 10_000, errors: 10 });
    expect(big.state.llr).toBeCloseTo(100 * Math.log(p.p1 / p.p0) + 4900 * Math.log((1 - p.p1) / (1 - p.p0)), 6);
  });

  test('a 20 % canary fails within three small windows; the failure is sticky', () => {
    const stable = { requests: 5000, errors: 5 };
    let out = sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 50, errors: 10 }, stable });
    for (let w = 2; w <= 3 && out.verdict !== 'fail'; w++) out = sequentialStep(DEFAULT_SEQUENTIAL, out.state, { canary: { requests: 50, errors: 10 }, stable });
    expect(out.verdict).toBe('fail');
    expect(out.state.failed).toBe(true);
    const later = sequentialStep(DEFAULT_SEQUENTIAL, out.state, { canary: { requests: 1000, errors: 0 }, stable });
    expect(later.verdict).toBe('fail');
  });

  test('a healthy canary passes once the evidence is enough, and the LLR is held at the pass bound (later degradation still caught)', () => {
    let state: SequentialState | undefined;
    const stable = { requests: 10_000, errors: 10 };
    let verdict = 'inconclusive';
    for (let i = 0; i < 10 && verdict !== 'pass'; i++) {
      const out = sequentialStep(DEFAULT_SEQUENTIAL, state, { canary: { requests: 300, errors: 0 }, stable });
      state = out.state;
      verdict = out.verdict;
    }
    expect(verdict).toBe('pass');
    expect(state!.llr).toBeCloseTo(sprtBounds(0.01, 0.1).lower);
    // now the canary breaks: 2 % errors are caught within a few windows
    let fails = 0;
    for (let i = 0; i < 10 && fails === 0; i++) {
      const out = sequentialStep(DEFAULT_SEQUENTIAL, state, { canary: { requests: 300, errors: 6 }, stable });
      state = out.state;
      if (out.verdict === 'fail') fails = i + 1;
    }
    expect(fails).toBeGreaterThan(0);
    expect(fails).toBeLessThanOrEqual(3);
  });

  test('invalid counts add no evidence and are inconclusive', () => {
    const prev = sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 100, errors: 0 }, stable: { requests: 100, errors: 0 } }).state;
    for (const canary of [{ requests: -1, errors: 0 }, { requests: 10, errors: 11 }, { requests: NaN, errors: 0 }]) {
      const out = sequentialStep(DEFAULT_SEQUENTIAL, prev, { canary, stable: { requests: 100, errors: 0 } });
      expect(out.verdict).toBe('inconclusive');
      expect(out.state).toBe(prev);
    }
  });

  test('spec validation names the bad number', () => {
    expect(sequentialSpecProblem(DEFAULT_SEQUENTIAL)).toBeUndefined();
    expect(sequentialSpecProblem({ ...DEFAULT_SEQUENTIAL, falseAbortRate: 0 })).toMatch(/falseAbortRate/);
    expect(sequentialSpecProblem({ ...DEFAULT_SEQUENTIAL, detectRatio: 1 })).toMatch(/detectRatio/);
  });

  test('seeded: false aborts at the baseline rate stay under alpha; a 2 % canary is always caught', () => {
    const run = (p: number, seed: number) => {
      const u = rng(seed);
      let state: SequentialState | undefined;
      for (let w = 0; w < 20; w++) {
        const n = 300;
        const out = sequentialStep(DEFAULT_SEQUENTIAL, state, {
          canary: { requests: n, errors: binomial(u, n, p) },
          stable: { requests: 2700, errors: binomial(u, 2700, 0.001) },
        });
        state = out.state;
        if (out.verdict === 'fail') return true;
      }
      return false;
    };
    let falseAborts = 0;
    for (let s = 1; s <= 400; s++) if (run(0.001, s)) falseAborts++;
    expect(falseAborts / 400).toBeLessThanOrEqual(0.01);
    for (let s = 1; s <= 100; s++) expect(run(0.02, 10_000 + s)).toBe(true);
  });
});

describe('canary versus stable', () => {
  const baseline = { maxRatio: 1.5, maxDifference: 0.25 };
  test('fails only when worse by both the ratio and the difference; missing values are inconclusive', () => {
    expect(judgeComparison(baseline, 'lt', 0.9, 0.08)).toBe('fail');
    expect(judgeComparison(baseline, 'lt', 0.2, 0.08)).toBe('pass'); // 2.5x but only +0.12 s
    expect(judgeComparison(baseline, 'lt', 10.3, 10)).toBe('pass'); // +0.3 s but only 1.03x
    expect(judgeComparison(baseline, 'gt', 0.5, 0.99)).toBe('fail'); // higher is better: success rate fell
    expect(judgeComparison(baseline, 'lt', undefined, 0.1)).toBe('inconclusive');
    expect(judgeComparison(baseline, 'lt', 0.1, undefined)).toBe('inconclusive');
  });

  test('the absolute ceiling and the comparison must both pass; few samples are inconclusive', () => {
    const metric: Extract<MetricSpec, { provider: 'prometheus' }> = { provider: 'prometheus', name: 'ttft', query: 'q', comparison: 'lt', threshold: 30, minSamples: 20, baseline };
    expect(judgeWithBaseline(metric, { value: 0.1, samples: 100, baseline: 0.1 })).toBe('pass');
    expect(judgeWithBaseline(metric, { value: 40, samples: 100, baseline: 40 })).toBe('fail');
    expect(judgeWithBaseline(metric, { value: 2, samples: 100, baseline: 0.1 })).toBe('fail');
    expect(judgeWithBaseline(metric, { value: 2, samples: 5, baseline: 0.1 })).toBe('inconclusive');
    expect(judgeWithBaseline(metric, { error: 'down' })).toBe('inconclusive');
  });
});

describe('no data from a canary with weight', () => {
  const MIN = 60_000;
  test('holds after holdAfterSeconds of silence, aborts after abortAfterSeconds; data resets the clock', () => {
    let w = watchData(undefined, { now: 0, canaryWeight: 10, canaryRequests: 0 });
    const at = (now: number, requests = 0) => {
      w = watchData(w, { now, canaryWeight: 10, canaryRequests: requests });
      return noDataDecision(DEFAULT_NO_DATA, w, { now, canaryWeight: 10 }).action;
    };
    expect(at(1 * MIN)).toBe('proceed');
    expect(at(2 * MIN)).toBe('hold');
    expect(at(5 * MIN, 30)).toBe('proceed');
    expect(at(7 * MIN)).toBe('hold');
    expect(at(15 * MIN)).toBe('abort');
  });

  test('measurement errors hold and never abort; no weight, no rule', () => {
    const w = watchData(undefined, { now: 0, canaryWeight: 10 });
    expect(noDataDecision(DEFAULT_NO_DATA, w, { now: 60 * MIN, canaryWeight: 10, measurementError: true }).action).toBe('hold');
    expect(noDataDecision(DEFAULT_NO_DATA, watchData(w, { now: 60 * MIN, canaryWeight: 0 }), { now: 60 * MIN, canaryWeight: 0 }).action).toBe('proceed');
  });
});

describe('the defaults abort a 2 % canary on its third error (H1 = 10 x H0, alpha 1 %)', () => {
  test('3 errors in 150 requests over a 0.1 % stable fail; 2 errors in 150 do not', () => {
    const stable = { requests: 10_000, errors: 10 };
    expect(sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 150, errors: 3 }, stable }).verdict).toBe('fail');
    expect(sequentialStep(DEFAULT_SEQUENTIAL, undefined, { canary: { requests: 150, errors: 2 }, stable }).verdict).toBe('inconclusive');
    // the stated bound: Wald's A = ln((1 - beta) / alpha)
    expect(sprtBounds(DEFAULT_SEQUENTIAL.falseAbortRate, DEFAULT_SEQUENTIAL.missRate).upper).toBeCloseTo(Math.log(0.9 / 0.01));
  });
});

describe('decide() takes each window of the sequential test once', () => {
  // a test on window queries (`increase()` over `{{window}}`), as a custom check writes them
  const windowed = Metric.sequentialErrorRate({
    name: 'vllm-error-rate',
    errorsQuery: 'sum(increase(errors_total{version="{{version}}"}[{{window}}]))',
    requestsQuery: 'sum(increase(requests_total{version="{{version}}"}[{{window}}]))',
  });
  const spec: RolloutSpec = rolloutSpec({
    steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'pause', seconds: 600 }],
    stableReplicas: 2,
    checks: [windowed._spec()],
    checkFailureLimit: 0,
    tickSeconds: 10,
  });
  const obs = (windowEnd: number | undefined, w: number) => ({
    readyReplicas: { v1: 2, v2: 1 },
    routerWeights: { v1: 100 - w, v2: w },
    metrics: { v2: { 'vllm-error-rate': { value: 0, samples: 100, counts: { canary: { requests: 100, errors: 0 }, stable: { requests: 900, errors: 1 }, ...(windowEnd !== undefined ? { windowEnd } : {}) } } } },
  });

  test('by window end: a second tick in the same grid slot adds nothing, the next slot adds its counts', () => {
    let state: ControllerState | undefined;
    for (let t = 0; t <= 20_000; t += 10_000) state = decide(spec, state, obs(t, state?.weights.v2 ?? 0), t).state;
    const key = 'v2/vllm-error-rate';
    const before = state!.sequential![key].canary.requests;
    // a tick 7 s later (half a tick has passed: the clock rule alone would take it) reads the same window
    state = decide(spec, state, obs(20_000, state!.weights.v2), 27_000).state;
    expect(state.sequential![key].canary.requests).toBe(before);
    // the next slot's window counts
    state = decide(spec, state, obs(30_000, state.weights.v2), 31_000).state;
    expect(state.sequential![key].canary.requests).toBe(before + 100);
    expect(state.sequential![key].windowEnd).toBe(30_000);
  });

  test('without a window end (one tick a minute): once per half tick by the clock', () => {
    const key = 'v2/vllm-error-rate';
    let state = decide(spec, undefined, obs(undefined, 0), 0).state;
    const n = state.sequential![key].canary.requests;
    // a retry 3 s later (under half of a 10 s tick) is the same tick
    state = decide(spec, state, obs(undefined, state.weights.v2), 3_000).state;
    expect(state.sequential![key].canary.requests).toBe(n);
    state = decide(spec, state, obs(undefined, state.weights.v2), 10_000).state;
    expect(state.sequential![key].canary.requests).toBe(n + 100);
  });
});

describe('decide() on raw counter totals', () => {
  const check = ServingEngine.VLLM.errorCheck()._spec();
  const spec: RolloutSpec = rolloutSpec({
    steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'pause', seconds: 600 }],
    stableReplicas: 2,
    checks: [check],
    checkFailureLimit: 0,
    tickSeconds: 10,
  });
  const reading = (at: number, canary: [number, number], stable: [number, number], w: number): Observations => ({
    readyReplicas: { v1: 2, v2: 1 },
    routerWeights: { v1: 100 - w, v2: w },
    metrics: {
      v2: {
        [check.name]: {
          totals: {
            at,
            canary: { requests: { a: canary[0] }, errors: canary[1] > 0 ? { b: canary[1] } : ({} as Record<string, number>) },
            stable: { requests: { c: stable[0] }, errors: { d: stable[1] } },
          },
        },
      },
    },
  });

  test('the first reading is the starting point; each later one adds its exact difference, once; a reset counts from zero', () => {
    // GIVEN the vLLM preset's check on raw totals
    expect(check.provider === 'prometheus' && check.sequential?.totals).toBe(true);
    const key = `v2/${check.name}`;
    // WHEN the first reading comes (canary at 1,000 requests already, stable at 50,000)
    let state = decide(spec, undefined, reading(0, [1000, 0], [50_000, 50], 0), 0).state;
    state = decide(spec, state, reading(10_000, [1000, 0], [50_000, 50], state.weights.v2 ?? 0), 10_000).state;
    // THEN it adds nothing
    expect(state.sequential![key].canary).toEqual({ requests: 0, errors: 0 });
    // WHEN the next slot reads 40 more canary requests and 1 error (a new error series), stable 400 more
    state = decide(spec, state, reading(20_000, [1040, 1], [50_400, 50], state.weights.v2 ?? 0), 20_000).state;
    expect(state.sequential![key].canary).toEqual({ requests: 40, errors: 1 });
    expect(state.sequential![key].stable).toEqual({ requests: 400, errors: 0 });
    // a second tick in the same slot adds nothing
    state = decide(spec, state, reading(20_000, [1040, 1], [50_400, 50], state.weights.v2 ?? 0), 27_000).state;
    expect(state.sequential![key].canary).toEqual({ requests: 40, errors: 1 });
    // the canary restarts: its counter reads 30, all of them new
    state = decide(spec, state, reading(30_000, [30, 1], [50_800, 50], state.weights.v2 ?? 0), 30_000).state;
    expect(state.sequential![key].canary).toEqual({ requests: 70, errors: 1 });
  });
});
