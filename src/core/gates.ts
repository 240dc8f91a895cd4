/**
 * Fail-safe gate rules, pure: canary-versus-stable comparison of a measured value, and what to do when a canary with
 * traffic reports no data. No I/O, no clock (the caller passes `now`).
 */
import type { BaselineSpec, MetricSpec, NoDataPolicySpec } from './spec';
import type { Verdict } from './state';

/**
 * Verdict of a canary's value against the stable version's. Lower is better for `lt`/`lte` metrics (latency, error
 * rate), higher for `gt`/`gte`. Missing or non-finite values: inconclusive (never a pass).
 */
export function judgeComparison(
  baseline: BaselineSpec, comparison: 'lt' | 'lte' | 'gt' | 'gte', canary: number | undefined, stable: number | undefined,
): Verdict {
  if (canary === undefined || stable === undefined || !Number.isFinite(canary) || !Number.isFinite(stable)) return 'inconclusive';
  const lowerIsBetter = comparison === 'lt' || comparison === 'lte';
  const worseBy = lowerIsBetter ? canary - stable : stable - canary;
  const [worse, better] = lowerIsBetter ? [canary, stable] : [stable, canary];
  const ratio = better > 0 ? worse / better : worse > 0 ? Infinity : 1;
  return worseBy > baseline.maxDifference && ratio > baseline.maxRatio ? 'fail' : 'pass';
}

/** A measurement of a metric with a baseline: the canary's value, its sample count and the stable version's value. */
export interface ComparedObservation {
  readonly value?: number;
  readonly samples?: number;
  /** The stable version's value over the same window. */
  readonly baseline?: number;
  /** Samples behind the stable version's value. */
  readonly baselineSamples?: number;
  readonly error?: string;
}

/**
 * Full verdict of a Prometheus metric that has a `baseline`: the absolute threshold (a ceiling: `value <op>
 * threshold`) and the comparison with stable must both pass; a measurement error or too few samples is inconclusive.
 */
export function judgeWithBaseline(metric: Extract<MetricSpec, { provider: 'prometheus' }>, m: ComparedObservation | undefined): Verdict {
  if (!m || m.error || m.value === undefined || Number.isNaN(m.value)) return 'inconclusive';
  if (metric.minSamples && (m.samples === undefined || m.samples < metric.minSamples)) return 'inconclusive';
  const v = m.value;
  const t = metric.threshold;
  const absolute = metric.comparison === 'lt' ? v < t : metric.comparison === 'lte' ? v <= t : metric.comparison === 'gt' ? v > t : v >= t;
  if (!absolute) return 'fail';
  if (!metric.baseline) return 'pass';
  // stable's value is an estimate too: over too few samples (stable's share falls as the canary's grows) a noisy
  // low p95 of stable would fail a healthy canary, so the comparison waits for as many samples as the canary's
  if (metric.minSamples && m.baselineSamples !== undefined && !(m.baselineSamples >= metric.minSamples)) return 'inconclusive';
  return judgeComparison(metric.baseline, metric.comparison, v, m.baseline);
}

/** Default: hold after 2 minutes of silence (two ticks), abort after 10 minutes. */
export const DEFAULT_NO_DATA: NoDataPolicySpec = { holdAfterSeconds: 120, abortAfterSeconds: 600 };

/** What the engine remembers about the canary's data (persist it in the controller state). */
export interface DataWatch {
  /** Since when (ms) the canary has had a weight above 0; absent while it has none. */
  readonly weightSince?: number;
  /** When (ms) the canary last reported requests. */
  readonly lastDataAt?: number;
}

/** Update the watch with one tick's observation. */
export function watchData(
  previous: DataWatch | undefined, input: { readonly now: number; readonly canaryWeight: number; readonly canaryRequests?: number },
): DataWatch {
  if (input.canaryWeight <= 0) return {};
  const weightSince = previous?.weightSince ?? input.now;
  const lastDataAt = (input.canaryRequests ?? 0) > 0 ? input.now : previous?.lastDataAt;
  return lastDataAt === undefined ? { weightSince } : { weightSince, lastDataAt };
}

/** Decision of the no-data policy at one tick. */
export interface NoDataDecision {
  readonly action: 'proceed' | 'hold' | 'abort';
  readonly reason?: string;
}

/**
 * The no-data rule: a canary with weight that reported no request for `holdAfterSeconds` holds the weights, for
 * `abortAfterSeconds` aborts. A measurement error (Prometheus unreachable, bad answer) holds and never aborts by
 * itself: the monitoring being down must not roll back a healthy canary, nor let a silent one proceed.
 */
export function noDataDecision(
  policy: NoDataPolicySpec, watch: DataWatch, input: { readonly now: number; readonly canaryWeight: number; readonly measurementError?: boolean },
): NoDataDecision {
  if (input.canaryWeight <= 0 || watch.weightSince === undefined) return { action: 'proceed' };
  if (input.measurementError) return { action: 'hold', reason: 'metrics could not be measured: holding the weights until they can' };
  const silentSince = Math.max(watch.weightSince, watch.lastDataAt ?? watch.weightSince);
  const silent = (input.now - silentSince) / 1000;
  if (silent >= policy.abortAfterSeconds) return { action: 'abort', reason: `canary at ${input.canaryWeight} % reported no requests for ${Math.round(silent)} s (limit ${policy.abortAfterSeconds} s)` };
  if (silent >= policy.holdAfterSeconds) return { action: 'hold', reason: `canary at ${input.canaryWeight} % reported no requests for ${Math.round(silent)} s: holding (aborts at ${policy.abortAfterSeconds} s)` };
  return { action: 'proceed' };
}

export type { BaselineSpec, NoDataPolicySpec } from './spec';
