/**
 * Analysis: continuous checks at every tick and the analysis gates of `analysis` steps. A measurement with no
 * data, an error or too few samples is inconclusive, never a failure.
 */
import { TickContext } from './context';
import { counterIncrease } from '../counters';
import { DEFAULT_NO_DATA, judgeWithBaseline, noDataDecision, watchData } from '../gates';
import { sequentialStep } from '../sequential';
import { AnalysisGateSpec, MetricSpec } from '../spec';
import { CounterTotalsReading, CounterTotalsState, MetricObservation, Verdict } from '../state';

/** Verdict of one measurement. */
export function judge(metric: MetricSpec, m: MetricObservation | undefined): Verdict {
  if (!m || m.error) return 'inconclusive';
  if (metric.provider === 'cloudwatchAlarm') {
    if (m.alarmState === 'ALARM') return 'fail';
    return m.alarmState === 'OK' ? 'pass' : 'inconclusive';
  }
  if (typeof m.value !== 'number' || Number.isNaN(m.value)) return 'inconclusive';
  // NaN (Prometheus' scalar() of an empty vector) is not a count: `NaN < minSamples` is false, so test finiteness
  if (metric.minSamples && !(typeof m.samples === 'number' && Number.isFinite(m.samples) && m.samples >= metric.minSamples)) return 'inconclusive';
  switch (metric.comparison) {
    case 'lt': return m.value < metric.threshold ? 'pass' : 'fail';
    case 'lte': return m.value <= metric.threshold ? 'pass' : 'fail';
    case 'gt': return m.value > metric.threshold ? 'pass' : 'fail';
    case 'gte': return m.value >= metric.threshold ? 'pass' : 'fail';
  }
}

/**
 * The verdict of one metric for one canary:
 * - with a `sequential` test, the test's (errors of canary against stable over the same windows, `sequential.ts`),
 *   and the metric's absolute ceiling: either failing fails; a test still collecting evidence defers to the ceiling;
 * - with a `baseline`, the ceiling and the comparison with stable over the same window (`gates.ts`);
 * - otherwise the threshold alone (`judge()`).
 * The sequential test takes each window once per tick: a retried tick adds no evidence twice. A test on raw
 * counter totals (`totals`) takes each reading once, by its time, and counts the exact differences since the
 * reading it kept (`counters.ts`); its ceiling is judged on those counts.
 */
function judgeMetric(t: TickContext, version: string, m: MetricSpec): Verdict {
  const { s, obs, now } = t;
  const o = obs.metrics[version]?.[m.name];
  if (m.provider !== 'prometheus') return judge(m, o);
  if (!m.sequential) return m.baseline ? judgeWithBaseline(m, o) : judge(m, o);
  const key = `${version}/${m.name}`;
  const previous = s.sequential?.[key];
  let verdict: Verdict = previous?.failed ? 'fail' : 'inconclusive';
  let ceiling: Verdict;
  if (m.sequential.totals) {
    const reading = o?.totals;
    ceiling = 'inconclusive';
    if (reading && !o?.error && (previous?.windowEnd === undefined || reading.at > previous.windowEnd)) {
      const { counts, totals } = countsFromTotals(previous?.totals, reading);
      const base = previous ?? { llr: 0, canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
      let next: NonNullable<typeof s.sequential>[string] = { ...base, at: now, windowEnd: reading.at, totals };
      if (counts) {
        t.windowRequests[key] = counts.canary.requests;
        const { requests, errors } = counts.canary;
        ceiling = judge(m, { value: requests > 0 ? errors / requests : undefined, samples: requests });
        const out = sequentialStep(m.sequential, previous, counts);
        next = { ...out.state, at: now, windowEnd: reading.at, totals };
        verdict = out.verdict;
        if (out.verdict === 'fail') t.reasons.push(`${m.name} of ${version}: ${out.reason}`);
      }
      s.sequential = { ...s.sequential, [key]: next };
    }
  } else {
    ceiling = judge(m, o);
    const windowEnd = o?.counts?.windowEnd;
    // a window is taken once: by its end when the adapter evaluates on a grid, else once per tick by the clock
    const fresh = previous === undefined
      || (windowEnd !== undefined ? windowEnd > (previous.windowEnd ?? -Infinity) : now - previous.at >= t.oncePerTickMs);
    if (o?.counts) t.windowRequests[key] = o.counts.canary.requests;
    if (o?.counts && !o.error && fresh) {
      const out = sequentialStep(m.sequential, previous, o.counts);
      s.sequential = { ...s.sequential, [key]: { ...out.state, at: now, ...(windowEnd !== undefined ? { windowEnd } : {}) } };
      verdict = out.verdict;
      if (out.verdict === 'fail') t.reasons.push(`${m.name} of ${version}: ${out.reason}`);
    }
  }
  if (verdict === 'fail') t.sequentialFailed = `${m.name} of ${version}: the sequential test found the canary's errors above stable's`;
  return verdict === 'fail' || ceiling === 'fail' ? 'fail' : ceiling;
}

/** The counts of canary and stable since the kept readings (undefined at the first reading) and the new readings. */
function countsFromTotals(kept: CounterTotalsState | undefined, reading: CounterTotalsReading) {
  const cr = counterIncrease(kept?.canary.requests, reading.canary.requests, reading.at);
  const ce = counterIncrease(kept?.canary.errors, reading.canary.errors, reading.at);
  const sr = counterIncrease(kept?.stable.requests, reading.stable.requests, reading.at);
  const se = counterIncrease(kept?.stable.errors, reading.stable.errors, reading.at);
  const totals: CounterTotalsState = {
    canary: { requests: cr.snapshot, errors: ce.snapshot },
    stable: { requests: sr.snapshot, errors: se.snapshot },
  };
  if (cr.increase === undefined || ce.increase === undefined || sr.increase === undefined || se.increase === undefined) return { totals };
  // an errors series may appear before its requests series is scraped (or reset apart from it): never more errors
  // than requests in one window
  return {
    totals,
    counts: {
      canary: { requests: cr.increase, errors: Math.min(ce.increase, cr.increase) },
      stable: { requests: sr.increase, errors: Math.min(se.increase, sr.increase) },
    },
  };
}

/** Measure `metrics` for every canary with traffic (all canaries when none has any); the worst verdict wins. */
export function measure(t: TickContext, metrics: readonly MetricSpec[]): Verdict {
  const { spec, s } = t;
  const live = spec.canaries.filter((c) => (s.weights[c.version] ?? 0) > 0);
  const judged = live.length > 0 ? live : spec.canaries;
  let verdict: Verdict = 'pass';
  for (const c of judged) {
    for (const m of metrics) {
      const v = judgeMetric(t, c.version, m);
      t.verdicts[`${c.version}/${m.name}`] = v;
      if (v === 'fail') verdict = 'fail';
      else if (v === 'inconclusive' && verdict === 'pass') verdict = 'inconclusive';
    }
  }
  return verdict;
}

/**
 * Continuous checks, measured at every tick that could raise a weight (every progressing tick): a tick that
 * skipped them could raise a weight while the error rate is still high. Returns true when the weights hold at
 * this tick: the measurement failed, or it was inconclusive after a failure (no data is no all-clear). A
 * failure counts toward `checkFailureLimit` once per tick, so a retried tick with the same inputs is idempotent.
 */
export function runContinuousChecks(t: TickContext): boolean {
  const { spec, s, now } = t;
  if (spec.checks.length === 0) return false;
  s.lastCheckAt = now;
  const verdict = measure(t, spec.checks);
  // the sequential test states its own false-abort rate: a failure aborts at once, no failure limit on top
  if (t.sequentialFailed) {
    t.abort(t.sequentialFailed);
    return true;
  }
  if (measurementErrors(t)) return true;
  if (noData(t)) return true;
  if (verdict === 'pass') {
    s.checkFailing = undefined;
    return false;
  }
  if (verdict === 'inconclusive') {
    if (s.checkFailing) t.reasons.push('continuous check inconclusive after a failure: holding the weights until it passes');
    return s.checkFailing === true;
  }
  s.checkFailing = true;
  if (s.checkCountedAt === undefined || now - s.checkCountedAt >= t.oncePerTickMs) {
    s.checkFailures += 1;
    s.checkCountedAt = now;
  }
  t.reasons.push(`continuous check failed (${s.checkFailures}/${spec.checkFailureLimit} tolerated): holding the weights`);
  if (s.checkFailures > spec.checkFailureLimit) t.abort(`continuous checks failed ${s.checkFailures} times`);
  return true;
}

/** Whether the continuous checks hold the canaries at this tick, measured without counting (a completed split). */
export function checksHold(t: TickContext): boolean {
  const { spec, s } = t;
  if (spec.checks.length === 0) return false;
  const verdict = measure(t, spec.checks);
  return verdict === 'fail' || (verdict === 'inconclusive' && s.checkFailing === true);
}

/**
 * One analysis step: one measurement per interval, the first one interval after the step started. Returns true
 * when the gate passed (the step is done).
 */
export function runGate(t: TickContext, gate: AnalysisGateSpec): boolean {
  const { s, now } = t;
  const progress = s.gate ?? { measurements: 0, failures: 0, inconclusive: 0 };
  const due = (progress.lastAt ?? s.stepStartedAt) + gate.intervalSeconds * 1000;
  if (now < due) {
    s.gate = progress;
    t.wakeAt = due;
    return false;
  }
  const verdict = measure(t, gate.metrics);
  const next = {
    measurements: progress.measurements + (verdict === 'inconclusive' ? 0 : 1),
    failures: progress.failures + (verdict === 'fail' ? 1 : 0),
    inconclusive: progress.inconclusive + (verdict === 'inconclusive' ? 1 : 0),
    lastAt: now,
  };
  s.gate = next;
  t.reasons.push(`analysis "${gate.name}": ${verdict} (${next.measurements}/${gate.count} measured, ${next.failures} failed, ${next.inconclusive} inconclusive)`);
  if (next.failures > gate.failureLimit) {
    t.abort(`analysis "${gate.name}" failed ${next.failures} times (limit ${gate.failureLimit})`);
  } else if (next.inconclusive > gate.inconclusiveLimit) {
    t.pause('inconclusive', `analysis "${gate.name}" had no conclusive data ${next.inconclusive} times: resume to measure again, or cancel`);
  } else if (next.measurements >= gate.count) {
    return true;
  } else {
    t.wakeAt = now + gate.intervalSeconds * 1000;
  }
  return false;
}

/**
 * The no-data rule (`gates.ts`): a canary with weight that reports no requests holds the weights after
 * `noData.holdAfterSeconds` and aborts after `abortAfterSeconds`; a measurement error holds and never aborts by
 * itself. Requests are known from the metrics that count them (the sequential error test of the presets): without
 * one, the rule cannot tell silence from health and stays out of the way. Returns true when the weights hold.
 */
function noData(t: TickContext): boolean {
  const { spec, s, obs, now } = t;
  const counted = spec.checks.filter((m) => m.provider === 'prometheus' && m.sequential);
  if (counted.length === 0) return false;
  // a shadow step's copies are traffic too: a mirrored canary that reports nothing is as silent as a weighted one
  const weight = spec.canaries.reduce((sum, c) => sum + (s.weights[c.version] ?? 0), 0) + (t.mirroring()?.percent ?? 0);
  const observations = spec.canaries.flatMap((c) => counted.map((m) => obs.metrics[c.version]?.[m.name]));
  // the canary requests of this tick's windows, as the tests took them (differences of totals, or window counts)
  const requests = spec.canaries.flatMap((c) => counted.map((m) => t.windowRequests[`${c.version}/${m.name}`] ?? 0))
    .reduce((sum, n) => sum + n, 0);
  s.dataWatch = watchData(s.dataWatch, { now, canaryWeight: weight, canaryRequests: requests });
  const decision = noDataDecision(spec.noData ?? DEFAULT_NO_DATA, s.dataWatch, {
    now, canaryWeight: weight, measurementError: observations.some((o) => o?.error !== undefined),
  });
  if (decision.action === 'abort') {
    t.abort(decision.reason!);
    return true;
  }
  if (decision.action === 'hold') {
    t.reasons.push(decision.reason!);
    return true;
  }
  return false;
}

/**
 * Checks that cannot be measured (Prometheus down, DescribeAlarms denied) hold the weights: a canary must not
 * proceed unjudged. After `measurementErrorAbortSeconds` in a row (default 10 minutes) the rollout aborts, since
 * stable is the version known to work. Returns true when the weights hold (or the rollout aborted).
 */
function measurementErrors(t: TickContext): boolean {
  const { spec, s, obs, now } = t;
  const shadowed = t.mirroring()?.version;
  const live = spec.canaries.filter((c) => (s.weights[c.version] ?? 0) > 0 || c.version === shadowed);
  const errors = live.flatMap((c) => spec.checks.map((m) => obs.metrics[c.version]?.[m.name]?.error).filter((e): e is string => !!e));
  if (errors.length === 0) {
    s.measurementErrorsSince = undefined;
    return false;
  }
  s.measurementErrorsSince = s.measurementErrorsSince ?? now;
  const limit = spec.measurementErrorAbortSeconds ?? DEFAULT_MEASUREMENT_ERROR_ABORT_SECONDS;
  const seconds = Math.round((now - s.measurementErrorsSince) / 1000);
  if (seconds >= limit) {
    t.abort(`checks could not be measured for ${seconds} s (limit ${limit} s): ${errors[0]}`);
  } else {
    t.reasons.push(`checks could not be measured (${errors[0]}): holding the weights, aborting after ${limit} s of errors`);
  }
  return true;
}

/** Default of `measurementErrorAbortSeconds`. */
export const DEFAULT_MEASUREMENT_ERROR_ABORT_SECONDS = 600;
