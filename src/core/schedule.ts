/**
 * Step schedules: generation (equal, linear) and validation of step lists. Pure arithmetic.
 *
 * Shape of a generated schedule: every step waits one interval, then sets the next weight, so
 * `equal(10, 600 s)` yields 10 % at 1:00, 20 % at 2:00, ... 100 % at 10:00, and lasts exactly the window.
 * The wait comes first because the canary needs that time to get its replicas ready (GPU cold start).
 */
import { TICK_SECONDS } from './constants';
import * as errors from './errors';
import { queriesOf, unknownPlaceholders } from './placeholders';
import { AnalysisGateSpec, StepSpec } from './spec';

/** `count` equal steps over `overSeconds`. The last step sets exactly 100. */
export function equalSteps(count: number, overSeconds: number, path = '', property = 'steps'): StepSpec[] {
  validateCount(path, `${property}.count`, count);
  validateDuration(path, `${property}.over`, overSeconds);
  if (overSeconds < count * TICK_SECONDS) {
    throw errors.windowTooShort(path, `${property}.over`, overSeconds, count, TICK_SECONDS);
  }
  const interval = overSeconds / count;
  const steps: StepSpec[] = [];
  for (let i = 1; i <= count; i++) {
    steps.push({ kind: 'pause', seconds: interval });
    steps.push({ kind: 'setWeight', weight: i === count ? 100 : Math.round((100 * i) / count) });
  }
  return steps;
}

/** `percent` more every `everySeconds`, until 100 (the last step may be smaller). */
export function linearSteps(percent: number, everySeconds: number, path = '', property = 'steps'): StepSpec[] {
  if (!Number.isInteger(percent) || percent < 1 || percent > 100) {
    throw errors.percentInvalid(path, `${property}.percent`, percent);
  }
  validateDuration(path, `${property}.every`, everySeconds);
  if (everySeconds < TICK_SECONDS) {
    throw errors.intervalTooShort(path, `${property}.every`, everySeconds, TICK_SECONDS);
  }
  const steps: StepSpec[] = [];
  for (let w = percent; ; w += percent) {
    steps.push({ kind: 'pause', seconds: everySeconds });
    steps.push({ kind: 'setWeight', weight: Math.min(100, w) });
    if (w >= 100) break;
  }
  return steps;
}

/**
 * Check a step list (custom or generated). Throws the first problem found.
 * Rules: not empty; weights whole 0..100 and never decreasing; pauses at least one tick; analysis gates
 * well-formed; no shadow step after the final 100 % step (nothing is left to mirror to). Pauses and gates after it
 * are the bake: the new version holds all the traffic, its checks keep running, and the previous version stays warm,
 * so a failing check or a cancel sends everything back at once (SageMaker's baking period, Argo's steps after
 * `setWeight: 100`).
 */
export function validateSteps(path: string, property: string, steps: readonly StepSpec[]): void {
  if (steps.length === 0) {
    throw errors.stepsEmpty(path, property);
  }
  let previous = 0;
  let reached100At = -1;
  steps.forEach((step, i) => {
    const p = `${property}[${i}]`;
    switch (step.kind) {
      case 'setWeight':
        validateWeight(path, `${p}.weight`, step.weight);
        if (step.weight < previous) {
          throw errors.weightDecreases(path, `${p}.weight`, i, previous, step.weight);
        }
        previous = step.weight;
        if (step.weight === 100 && reached100At < 0) reached100At = i;
        break;
      case 'pause':
        validateDuration(path, `${p}.duration`, step.seconds);
        if (step.seconds < TICK_SECONDS) {
          throw errors.intervalTooShort(path, `${p}.duration`, step.seconds, TICK_SECONDS);
        }
        break;
      case 'pauseUntilPromoted':
        break;
      case 'analysis':
        validateGate(path, `${p}.gate`, step.gate);
        break;
      case 'shadow':
        if (!Number.isInteger(step.percent) || step.percent < 1 || step.percent > 100) throw errors.shadowPercentInvalid(path, `${p}.percent`, step.percent);
        validateDuration(path, `${p}.max`, step.maxSeconds);
        if (step.maxSeconds < TICK_SECONDS) throw errors.intervalTooShort(path, `${p}.max`, step.maxSeconds, TICK_SECONDS);
        if (reached100At >= 0) throw errors.shadowAfterFinalStep(path, p, i);
        break;
    }
  });
}

/** Check an analysis gate's data. */
export function validateGate(path: string, property: string, gate: AnalysisGateSpec): void {
  if (gate.metrics.length === 0) {
    throw errors.gateWithoutMetrics(path, `${property}.metrics`);
  }
  validateDuration(path, `${property}.interval`, gate.intervalSeconds);
  if (gate.intervalSeconds < TICK_SECONDS) {
    throw errors.intervalTooShort(path, `${property}.interval`, gate.intervalSeconds, TICK_SECONDS);
  }
  if (!Number.isInteger(gate.count) || gate.count < 1) {
    throw errors.gateCountInvalid(path, `${property}.count`, gate.count);
  }
  if (!Number.isInteger(gate.failureLimit) || gate.failureLimit < 0) {
    throw errors.failureLimitInvalid(path, `${property}.failureLimit`, gate.failureLimit);
  }
  if (!Number.isInteger(gate.inconclusiveLimit) || gate.inconclusiveLimit < 0) {
    throw errors.inconclusiveLimitInvalid(path, `${property}.inconclusiveLimit`, gate.inconclusiveLimit);
  }
  const names = new Set<string>();
  gate.metrics.forEach((m, i) => {
    if (!m.name) throw errors.metricNameEmpty(path, `${property}.metrics[${i}].name`);
    if (names.has(m.name)) {
      throw errors.metricNameDuplicate(path, `${property}.metrics[${i}].name`, m.name);
    }
    names.add(m.name);
    if (m.provider === 'prometheus') {
      if (!m.query.trim()) throw errors.queryEmpty(path, `${property}.metrics[${i}].query`);
      for (const q of queriesOf(m)) {
        const unknown = unknownPlaceholders(q.query);
        if (unknown.length > 0) throw errors.placeholderUnknown(path, `${property}.metrics[${i}].${q.property}`, q.query, unknown);
      }
      if (!Number.isFinite(m.threshold)) {
        throw errors.thresholdNotFinite(path, `${property}.metrics[${i}].threshold`, m.threshold);
      }
      if (m.minSamples !== undefined && (!Number.isInteger(m.minSamples) || m.minSamples < 0)) {
        throw errors.minSamplesInvalid(path, `${property}.metrics[${i}].minSamples`, m.minSamples);
      }
      if (m.minSamples !== undefined && m.minSamples > 0 && !m.sampleQuery) {
        throw errors.minSamplesWithoutQuery(path, `${property}.metrics[${i}].sampleQuery`);
      }
    } else if (!m.alarmName) {
      throw errors.alarmNameEmpty(path, `${property}.metrics[${i}].alarmName`);
    }
  });
}

/** Where a rollout's shadow steps go: what `resolveShadowSteps` needs to know of the rollout and its target. */
export interface ShadowContext {
  /** Canaries of the rollout, with their targets (percent of all requests). */
  readonly canaries: ReadonlyArray<{ readonly targetWeight: number }>;
  /** Replicas the stable version runs at 100 % (the plan's load). */
  readonly stableReplicas: number;
  /** Whether the target's router can mirror (Gateway API: yes; an ALB: no). */
  readonly canMirror: boolean;
  /** Whether it can mirror a share below 100 % (Gateway API `RequestMirror.percent`, v1.3+). */
  readonly partialMirror: boolean;
}

/**
 * Resolve the shadow steps of a step list: a `percent` of 0 means "what the replicas of the first step with traffic
 * can answer" (the canary runs them anyway: mirroring fills them at no extra GPU), at least that step's share, at
 * most 100. The default shadow step (`auto`) is left out where it cannot work (a router without mirrors, several
 * canaries, a partial mirror on Gateway API CRDs before v1.3); a shadow step asked for explicitly is an error there.
 */
export function resolveShadowSteps(path: string, property: string, steps: readonly StepSpec[], ctx: ShadowContext,
  errorsFor: { unsupported: (p: string) => Error; partial: (p: string, percent: number) => Error }): StepSpec[] {
  const out: StepSpec[] = [];
  steps.forEach((step, i) => {
    if (step.kind !== 'shadow') {
      out.push(step);
      return;
    }
    const p = `${property}[${i}]`;
    if (!ctx.canMirror) {
      if (step.auto) return;
      throw errorsFor.unsupported(p);
    }
    if (ctx.canaries.length !== 1) {
      if (step.auto) return;
      throw errors.shadowNeedsOneCanary(path, p, ctx.canaries.length);
    }
    let percent = step.percent;
    if (percent === 0) {
      const next = steps.slice(i + 1).find((x): x is Extract<StepSpec, { kind: 'setWeight' }> => x.kind === 'setWeight' && x.weight > 0);
      const share = next ? (next.weight * ctx.canaries[0].targetWeight) / 100 : ctx.canaries[0].targetWeight;
      const replicas = Math.max(1, Math.ceil((share * ctx.stableReplicas) / 100));
      percent = Math.max(1, Math.min(100, Math.max(Math.ceil(share), Math.floor((100 * replicas) / ctx.stableReplicas))));
    }
    if (percent < 100 && !ctx.partialMirror) {
      if (step.auto) return;
      throw errorsFor.partial(`${p}.percent`, percent);
    }
    out.push({ ...step, percent });
  });
  return out;
}

/** The canary progress (percent of target) after the first `executed` steps ran. */
export function progressAfter(steps: readonly StepSpec[], executed: number): number {
  // the last setWeight among them (searched backwards: the plan asks at every tick of every step)
  for (let i = Math.min(executed, steps.length) - 1; i >= 0; i--) {
    const s = steps[i];
    if (s.kind === 'setWeight') return s.weight;
  }
  return 0;
}

/** Nominal length of a step in seconds (an analysis gate: its measurements; waiting for promotion: 0). */
export function stepSeconds(step: StepSpec): number {
  switch (step.kind) {
    case 'pause':
      return step.seconds;
    case 'analysis':
      return step.gate.count * step.gate.intervalSeconds;
    case 'shadow':
      // at most: the step ends as soon as the error test passes on the mirrored requests
      return step.maxSeconds;
    default:
      return 0;
  }
}

export function validateWeight(path: string, property: string, weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
    throw errors.weightInvalid(path, property, weight);
  }
}

function validateCount(path: string, property: string, count: number): void {
  if (!Number.isInteger(count) || count < 1) throw errors.stepCountInvalid(path, property, count);
  if (count > 100) throw errors.stepCountTooLarge(path, property, count);
}

function validateDuration(path: string, property: string, seconds: number): void {
  if (!Number.isFinite(seconds) || seconds <= 0) throw errors.durationInvalid(path, property, seconds);
}
