/**
 * Analysis: continuous checks at every tick and the analysis gates of `analysis` steps. A measurement with no
 * data, an error or too few samples is inconclusive, never a failure.
 */
import { TickContext } from './context';
import { AnalysisGateSpec, MetricSpec } from '../spec';
import { MetricObservation, Verdict } from '../state';

/** Verdict of one measurement. */
export function judge(metric: MetricSpec, m: MetricObservation | undefined): Verdict {
  if (!m || m.error) return 'inconclusive';
  if (metric.provider === 'cloudwatchAlarm') {
    if (m.alarmState === 'ALARM') return 'fail';
    return m.alarmState === 'OK' ? 'pass' : 'inconclusive';
  }
  if (m.value === undefined || Number.isNaN(m.value)) return 'inconclusive';
  if (metric.minSamples && (m.samples === undefined || m.samples < metric.minSamples)) return 'inconclusive';
  switch (metric.comparison) {
    case 'lt': return m.value < metric.threshold ? 'pass' : 'fail';
    case 'lte': return m.value <= metric.threshold ? 'pass' : 'fail';
    case 'gt': return m.value > metric.threshold ? 'pass' : 'fail';
    case 'gte': return m.value >= metric.threshold ? 'pass' : 'fail';
  }
}

/** Measure `metrics` for every canary with traffic (all canaries when none has any); the worst verdict wins. */
export function measure(t: TickContext, metrics: readonly MetricSpec[]): Verdict {
  const { spec, s, obs } = t;
  const live = spec.canaries.filter((c) => (s.weights[c.version] ?? 0) > 0);
  const judged = live.length > 0 ? live : spec.canaries;
  let verdict: Verdict = 'pass';
  for (const c of judged) {
    for (const m of metrics) {
      const v = judge(m, obs.metrics[c.version]?.[m.name]);
      t.verdicts[`${c.version}/${m.name}`] = v;
      if (v === 'fail') verdict = 'fail';
      else if (v === 'inconclusive' && verdict === 'pass') verdict = 'inconclusive';
    }
  }
  return verdict;
}

/**
 * Continuous checks, at most once per tick while a canary has traffic. Returns true when a failing check holds
 * the weights at this tick; more failures than `checkFailureLimit` abort.
 */
export function runContinuousChecks(t: TickContext): boolean {
  const { spec, s, now } = t;
  if (spec.checks.length === 0 || !t.tickSince(s.lastCheckAt) || !spec.canaries.some((c) => (s.weights[c.version] ?? 0) > 0)) return false;
  s.lastCheckAt = now;
  if (measure(t, spec.checks) !== 'fail') return false;
  s.checkFailures += 1;
  t.reasons.push(`continuous check failed (${s.checkFailures}/${spec.checkFailureLimit} tolerated): holding the weights`);
  if (s.checkFailures > spec.checkFailureLimit) t.abort(`continuous checks failed ${s.checkFailures} times`);
  return true;
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
