/**
 * Sequential test of the canary's errors against the stable version's: Wald's SPRT on Bernoulli outcomes, pure.
 *
 * Each request of the canary is an independent Bernoulli trial that fails with probability p. The stable version,
 * serving the same traffic over the same windows, gives the baseline error rate b (a lower confidence bound of its
 * cumulative errors over its cumulative requests, `lowerBound`: at 99 % until stable has `minStableRequests`, at
 * 95 % after; never below `baselineFloor`).
 *
 *   H0: p = p0 = b * (1 + tolerance)        the canary is no worse than stable, within the tolerance
 *   H1: p = p1 = p0 * detectRatio           the canary is clearly worse
 *
 * After every window the log-likelihood ratio grows by  e * ln(p1/p0) + (n - e) * ln((1 - p1)/(1 - p0))  for the
 * canary's n requests and e errors in that window. Wald's bounds: A = ln((1 - beta)/alpha), B = ln(beta/(1 - alpha)).
 * LLR >= A: fail (abort; the false-abort probability of a canary at p0 or better is at most about alpha). LLR <= B:
 * pass; the LLR is then held at B (a CUSUM-style floor) instead of stopping, so a canary that degrades later is still
 * caught quickly, and evidence of past health never masks a later failure. In between: no verdict yet.
 *
 * Assumptions (stated in the README, "Metrics and gates"): canary and stable see the same request mix (random
 * routing) over the same windows; the stable rate is the baseline (estimated, not known: taken at its lower
 * confidence bound, which only makes the test stricter, and the `tolerance` absorbs the rest of its noise); error
 * counts come from monotonic counters (exact differences of raw totals, `counters.ts`, or `increase()` over a
 * window). Errors need not be independent within a window: one window adds at most `windowErrorCap` errors.
 * No I/O, no clock: the caller passes the per-window counts and keeps the returned state.
 */
import type { SequentialTestSpec } from './spec';
import type { Verdict } from './state';

/** Requests and errors (of one version, in one window or cumulated). */
export interface ErrorCounts {
  readonly requests: number;
  readonly errors: number;
}

/** What the sequential test carries from one measurement to the next (persist it in the controller state). */
export interface SequentialState {
  /** Log-likelihood ratio so far (H1 against H0). */
  readonly llr: number;
  /** Canary requests and errors so far. */
  readonly canary: ErrorCounts;
  /** Stable requests and errors so far (the baseline). */
  readonly stable: ErrorCounts;
  /** Set once the test failed: a failed test stays failed. */
  readonly failed?: boolean;
  /**
   * Sums over stable's windows for its dispersion (`dispersion()`): errors squared, errors x requests, requests
   * squared, per window.
   */
  readonly spread?: { readonly ee: number; readonly en: number; readonly nn: number };
}

/** Outcome of one step of the test. */
export interface SequentialOutcome {
  readonly state: SequentialState;
  /** fail: abort; pass: the canary is no worse than stable so far; inconclusive: not enough evidence yet, or bad input. */
  readonly verdict: Verdict;
  readonly p0: number;
  readonly p1: number;
  /** One line for the log. */
  readonly reason: string;
}

/**
 * Defaults: alpha 1 % per rollout (false abort), beta 10 %, baseline floor 0.1 %, tolerance +50 %, H1 at 10x H0,
 * 1000 stable requests before the stable rate replaces the floor. With a 0.1 % stable rate: p0 = 0.15 %, p1 = 1.5 %.
 *
 * Why these (bench/rollout-sim/sweep.ts, bench/results/rollout-sim.md): H1 = 10 x H0 aborts a 2 % canary on its third
 * error within about 175 requests (5 x H0 waits for the fourth, about 200 requests later at 2 %), which is what
 * brings the exposure at 50 requests/s down to Flagger's best (abort on a 1-minute success rate below 99 % every
 * 30 s); alpha 1 % bounds false aborts at one healthy rollout in a hundred. Measured with 10 s ticks and the test alone (no shadow step): 1 false
 * abort in 1,000 healthy rollouts at 5 and at 50 requests/s, 0 at 500. The price: a 0.5 % canary (3.3 x H0, below
 * H1) is caught less often.
 */
export const DEFAULT_SEQUENTIAL: Omit<SequentialTestSpec, 'errorsQuery' | 'requestsQuery'> = {
  falseAbortRate: 0.01,
  missRate: 0.1,
  baselineFloor: 0.001,
  tolerance: 0.5,
  detectRatio: 10,
  minStableRequests: 1000,
};

/** Wald's bounds: fail at or above `upper`, pass at or below `lower`. */
export function sprtBounds(falseAbortRate: number, missRate: number): { upper: number; lower: number } {
  return { upper: Math.log((1 - missRate) / falseAbortRate), lower: Math.log(missRate / (1 - falseAbortRate)) };
}

/** H0 and H1 error rates given the stable version's counts so far. */
export function hypotheses(test: Omit<SequentialTestSpec, 'errorsQuery' | 'requestsQuery'>, stable: ErrorCounts): { p0: number; p1: number } {
  // stable's own rate from its first request on: against the floor alone, a canary erring as often as a 1 % stable
  // (8/801 beside stable's 8/800) would reach LLR 7.65 and fail. Below `minStableRequests` the bound is taken
  // at 99 % (z = 2.326), so one early stable error does not lift H0 far: 1/50 gives 0.27 %, 8/800 gives 0.45 %.
  const z = stable.requests >= test.minStableRequests ? Z95 : Z99;
  const observed = stable.requests > 0 ? lowerBound(stable.errors, stable.requests, z) : 0;
  const baseline = Math.max(test.baselineFloor, observed);
  const p0 = Math.min(0.5, baseline * (1 + test.tolerance));
  const p1 = Math.min(0.99, Math.max(p0 * test.detectRatio, p0 + 1e-9));
  return { p0, p1 };
}

/**
 * Requests a canary at H1 needs, on average, to climb from the pass bound to the fail bound: Wald's expected
 * sample size, (upper - lower) / KL(p1 || p0), where KL(p1 || p0) = p1 ln(p1/p0) + (1 - p1) ln((1 - p1)/(1 - p0))
 * is the LLR's mean growth per request of a canary at p1. Over a 0.1 % stable with the defaults: about 320.
 * A test that passed by chance on a canary at H1 or worse is, after that many more requests, most likely failed.
 */
export function requestsToClimb(test: Omit<SequentialTestSpec, 'errorsQuery' | 'requestsQuery'>, stable: ErrorCounts, spread?: SequentialState['spread']): number {
  const { upper, lower } = sprtBounds(test.falseAbortRate, test.missRate);
  const { p0, p1 } = hypotheses(test, stable);
  const drift = p1 * Math.log(p1 / p0) + (1 - p1) * Math.log((1 - p1) / (1 - p0));
  // clustered errors: each request carries 1 / dispersion of the evidence, so as many times more requests
  return Math.ceil(((upper - lower) / drift) * dispersion(stable, spread));
}

/**
 * One-sided 95 % lower confidence bound of an error rate (Wilson's score interval, z = 1.645): the stable rate the
 * test takes as its baseline. Why not the observed rate: a stable version at 0.1 % that happened to err 3 times in its
 * first 1,000 requests would raise H0 to 0.45 % and H1 to 4.5 %, and a 2 % canary then looks no worse than stable
 * (bench/rollout-sim: at 50 requests/s, where stable reaches `minStableRequests` within the shadow step, a 2 % canary
 * passed the step in 5 of 1,000 runs with the observed rate, in none with this bound). The bound errs low, which
 * only makes the test stricter, and the floor still applies; with H1 = 10 x H0 a canary at stable's true rate stays
 * far below the test's indifference point (about 4 x H0), so false aborts stay within alpha (0.4 % at 50 requests/s).
 */
export function lowerBound(errors: number, requests: number, z: number = Z95): number {
  const p = Math.min(1, Math.max(0, errors / requests));
  const z2 = z * z;
  const centre = p + z2 / (2 * requests);
  const spread = z * Math.sqrt(p * (1 - p) / requests + z2 / (4 * requests * requests));
  return Math.max(0, (centre - spread) / (1 + z2 / requests));
}

const Z95 = 1.645;
const Z99 = 2.326;

/**
 * Most errors one window adds to the test: max(1, floor(2 n p1)) for n canary requests. Errors are not independent:
 * clients retry a failed request (the OpenAI SDK makes 3 attempts by default, `max_retries` 2) and a batch of client
 * aborts lands together, so one fault arrives as a cluster of errors in one window, and a cluster of 3 counted as 3
 * independent errors adds 3 ln 10 = 6.9 to the LLR, above the fail bound (4.5) from a fresh start. With the cap,
 * while a window holds fewer than one expected H1 error (n p1 < 1: every window of a 2 % canary below about 70
 * requests) the test counts failing windows, and a cluster inside one window is one; a canary at H1 still adds its
 * expected errors (n p1 is below the cap). Each window's increment is then no larger than the uncapped one, so
 * Wald's alpha still bounds false aborts of independent errors, and clusters within a window cannot raise the odds
 * of a failing window above independent errors at the same mean rate.
 */
export function windowErrorCap(requests: number, p1: number): number {
  return Math.max(1, Math.floor(2 * requests * p1));
}

/**
 * How clustered errors are, from stable's windows: the quasi-Poisson dispersion, Pearson's statistic over stable's
 * errors, sum over windows of (e - n r)^2 over sum of n r, with r stable's rate; never below 1. Independent errors
 * give about 1; errors in clusters of k (a request and its retries, a batch of aborts) about k, since a window then
 * holds k errors or none. The test divides each window's evidence by it (a quasi-likelihood ratio): a cluster of k
 * weighs as one error, as it is one event, and Wald's alpha holds again for the clusters (McCullagh & Nelder,
 * Generalized Linear Models, 2nd ed., section 4.5, over-dispersion). Stable serves most of the traffic beside the
 * canary, so it shows the clustering of the requests both versions get.
 */
export function dispersion(stable: ErrorCounts, spread: SequentialState['spread']): number {
  if (!spread || stable.errors <= 0 || stable.requests <= 0) return 1;
  const r = stable.errors / stable.requests;
  const pearson = spread.ee - 2 * r * spread.en + r * r * spread.nn;
  return Math.max(1, pearson / stable.errors);
}

/** Check a spec's numbers; returns the first problem, or undefined. */
export function sequentialSpecProblem(test: Omit<SequentialTestSpec, 'errorsQuery' | 'requestsQuery'>): string | undefined {
  const unit = (n: number) => Number.isFinite(n) && n > 0 && n < 1;
  if (!unit(test.falseAbortRate)) return `falseAbortRate must be in (0, 1), got ${test.falseAbortRate}`;
  if (!unit(test.missRate)) return `missRate must be in (0, 1), got ${test.missRate}`;
  if (!unit(test.baselineFloor)) return `baselineFloor must be in (0, 1), got ${test.baselineFloor}`;
  if (!(Number.isFinite(test.tolerance) && test.tolerance >= 0)) return `tolerance must be at least 0, got ${test.tolerance}`;
  if (!(Number.isFinite(test.detectRatio) && test.detectRatio > 1)) return `detectRatio must be above 1, got ${test.detectRatio}`;
  if (!(Number.isFinite(test.minStableRequests) && test.minStableRequests >= 0)) return `minStableRequests must be at least 0, got ${test.minStableRequests}`;
  return undefined;
}

function validCounts(c: ErrorCounts | undefined): c is ErrorCounts {
  return !!c && Number.isFinite(c.requests) && Number.isFinite(c.errors) && c.requests >= 0 && c.errors >= 0 && c.errors <= c.requests + 1e-9;
}

/**
 * One step of the test: add one window's counts of canary and stable, return the new state and the verdict.
 * Invalid counts (negative, NaN, more errors than requests: a counter reset mid-window, a bad query) change nothing
 * and are inconclusive. Fractional counts (Prometheus `increase()` extrapolates) are used as they are.
 */
export function sequentialStep(
  test: Omit<SequentialTestSpec, 'errorsQuery' | 'requestsQuery'>,
  previous: SequentialState | undefined,
  window: { readonly canary: ErrorCounts; readonly stable: ErrorCounts },
): SequentialOutcome {
  const prev: SequentialState = previous ?? { llr: 0, canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
  const { upper, lower } = sprtBounds(test.falseAbortRate, test.missRate);
  if (!validCounts(window.canary) || !validCounts(window.stable)) {
    const { p0, p1 } = hypotheses(test, prev.stable);
    return { state: prev, verdict: prev.failed ? 'fail' : 'inconclusive', p0, p1, reason: 'invalid counts: no evidence added' };
  }
  const stable = { requests: prev.stable.requests + window.stable.requests, errors: prev.stable.errors + window.stable.errors };
  const canary = { requests: prev.canary.requests + window.canary.requests, errors: prev.canary.errors + window.canary.errors };
  const { p0, p1 } = hypotheses(test, stable);
  const w = window.stable;
  const spread = {
    ee: (prev.spread?.ee ?? 0) + w.errors * w.errors,
    en: (prev.spread?.en ?? 0) + w.errors * w.requests,
    nn: (prev.spread?.nn ?? 0) + w.requests * w.requests,
  };
  const d = dispersion(stable, spread);
  // independent events: the window's requests and errors over the dispersion, at most `windowErrorCap` error events
  const n = window.canary.requests / d;
  const e = Math.min(window.canary.errors / d, windowErrorCap(n, p1));
  let llr = prev.llr + e * Math.log(p1 / p0) + (n - e) * Math.log((1 - p1) / (1 - p0));
  const failed = prev.failed || llr >= upper;
  let verdict: Verdict;
  if (failed) {verdict = 'fail';} else if (llr <= lower) {
    llr = lower;
    verdict = 'pass';
  } else {verdict = 'inconclusive';}
  const pct = (x: number) => `${(x * 100).toFixed(3)} %`;
  const reason = `SPRT canary ${canary.errors.toFixed(0)}/${canary.requests.toFixed(0)} errors vs stable ${stable.errors.toFixed(0)}/${stable.requests.toFixed(0)}: `
    + `LLR ${llr.toFixed(2)} in [${lower.toFixed(2)}, ${upper.toFixed(2)}] (H0 ${pct(p0)}, H1 ${pct(p1)}) -> ${verdict}`;
  return { state: { llr, canary, stable, spread, ...(failed ? { failed: true } : {}) }, verdict, p0, p1, reason: d > 1.05 ? `${reason} (evidence / ${d.toFixed(1)}: stable's errors cluster)` : reason };
}

export type { SequentialTestSpec } from './spec';
