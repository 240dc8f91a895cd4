/**
 * The engine's configuration errors: `RolloutConfigError`, the helpers that build one, and a named message function
 * per rule of the rollout spec (schedules, weights, checks, capacity). Messages live beside the rule they state:
 * - the engine's spec rules: here;
 * - the constructs' own rules: beside the constructs, in `k8s/errors.ts` and `aws/errors.ts` (built with
 *   `configError` from here);
 * - run-time failures (API calls, a target that does not match the spec): `RolloutRuntimeError` and its named
 *   messages in `core/runtime-errors.ts`.
 *
 * Each message names: the construct path (or the spec path at run time), the property, the value
 * received, what is wrong, and the fix. Functions return the error; callers `throw` it, so stack
 * traces point at the caller.
 *
 * Pure module: used at synth time by the constructs and at run time by the bundled controller.
 */
import { RUNTIME_PLACEHOLDERS, SYNTH_PLACEHOLDERS } from './placeholders';

/** Machine-readable details of a configuration error. */
export interface RolloutErrorDetails {
  /** Construct path (synth time) or spec path (run time). */
  readonly path: string;
  /** The property at fault, as the user wrote it (`steps.count`, `canaries[1].weight`). */
  readonly property: string;
  /** The value received, rendered for humans. */
  readonly received: string;
  /** What is wrong. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

/**
 * A configuration error: thrown at synth time, before anything is written.
 */
export class RolloutConfigError extends Error {
  public readonly details: RolloutErrorDetails;
  constructor(details: RolloutErrorDetails) {
    super(`[${details.path}] ${details.property}: ${details.problem} (received ${details.received}). Fix: ${details.fix}`);
    this.name = 'RolloutConfigError';
    this.details = details;
  }

  /** The message without its `[path]` prefix: for `node.addValidation`, whose caller adds the path itself. */
  public get withoutPath(): string {
    const d = this.details;
    return `${d.property}: ${d.problem} (received ${d.received}). Fix: ${d.fix}`;
  }
}

/** A value already rendered for humans (`300 s`, `step 3`): shown as is, without quotes. */
export class Rendered {
  constructor(public readonly text: string) {}
}

/** Mark a pre-rendered value. */
export function rendered(text: string): Rendered {
  return new Rendered(text);
}

/** Render a value for an error message. */
export function show(value: unknown): string {
  if (value instanceof Rendered) return value.text;
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(value);
  }
}

/** A configuration error with the standard shape; each rule's named message function calls it. */
export function configError(path: string, property: string, value: unknown, problem: string, fix: string): RolloutConfigError {
  return new RolloutConfigError({ path, property, received: show(value), problem, fix });
}

// ---------------------------------------------------------------------------------------------
// Schedules and weights (src/core, src/rollout)
// ---------------------------------------------------------------------------------------------

export function stepCountInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the step count must be a whole number of at least 1',
    'use a positive integer, for example `Steps.equal({ count: 10, over: Duration.minutes(10) })`');
}

export function stepCountTooLarge(path: string, property: string, value: number) {
  return configError(path, property, value, 'at most 100 steps are possible, since weights move in whole percent',
    'use 100 steps or fewer');
}

export function weightInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a weight must be a whole number from 0 to 100 (percent of requests)',
    'round it to an integer between 0 and 100');
}

export function percentInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the percent per step must be a whole number from 1 to 100',
    'use an integer between 1 and 100, for example `Steps.linear({ percent: 10, every: Duration.minutes(2) })`');
}

export function windowTooShort(path: string, property: string, windowSeconds: number, count: number, tickSeconds: number) {
  return configError(path, property, rendered(`${windowSeconds} s`),
    `${count} steps need at least ${count * tickSeconds} s (${count} steps x one controller tick of ${tickSeconds} s), but the window is ${windowSeconds} s`,
    `make the window at least ${count * tickSeconds} s, or use at most ${Math.max(1, Math.floor(windowSeconds / tickSeconds))} steps`);
}

export function intervalTooShort(path: string, property: string, seconds: number, tickSeconds: number) {
  return configError(path, property, rendered(`${seconds} s`),
    `the controller ticks once every ${tickSeconds} s, so a step cannot be shorter than ${tickSeconds} s`,
    `use a duration of at least ${tickSeconds} s, for example \`Duration.minutes(1)\``);
}

export function stepsEmpty(path: string, property: string) {
  return configError(path, property, [], 'a custom schedule needs at least one step',
    'add steps, for example `Steps.custom([Step.setWeight(20), Step.pause(Duration.minutes(5)), Step.setWeight(100)])`, or use `Steps.equal()`');
}

export function shadowPercentInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a shadow step mirrors a whole percent of all requests, from 1 to 100',
    'use an integer between 1 and 100, for example `Step.shadow({ percent: 10 })`, or leave `percent` out to mirror what the first step\'s replicas can answer');
}

export function shadowAfterFinalStep(path: string, property: string, index: number) {
  return configError(path, property, rendered(`step ${index}`),
    'a shadow step after the final 100% step mirrors to the version that already serves every request',
    'put `Step.shadow()` before the steps that give the canary traffic (first, usually)');
}

export function shadowUnsupported(path: string, property: string) {
  return configError(path, property, rendered('Step.shadow()'),
    'this target\'s router cannot mirror requests (an Application Load Balancer has no mirroring), so a shadow step would never see a request',
    'remove `Step.shadow()` from the steps (the default `Steps.equal()` leaves it out on such targets by itself), or roll out through Gateway API (`CanaryRollout` of cdk-model-rollout/k8s)');
}

export function shadowNeedsOneCanary(path: string, property: string, canaries: number) {
  return configError(path, property, rendered(`${canaries} canaries`),
    'a shadow step mirrors to one canary: with several, which one the copies go to would be a guess',
    'roll out one canary with a shadow step, or leave the shadow step out (`Steps.equal({ shadowFirst: false })`)');
}

export function weightDecreases(path: string, property: string, index: number, previous: number, value: number) {
  return configError(path, property, value,
    `step ${index} lowers the canary weight from ${previous} to ${value}; weights only grow during a rollout (an abort is what sends traffic back)`,
    `use a weight of at least ${previous}, or cancel the rollout to go back`);
}

export function durationInvalid(path: string, property: string, seconds: number) {
  return configError(path, property, rendered(`${seconds} s`), 'a duration must be a positive, finite number of seconds',
    'use `Duration.seconds(n)`, `Duration.minutes(n)` or `Duration.hours(n)` with n > 0');
}

export function canaryTotalOver100(path: string, property: string, total: number, parts: string) {
  return configError(path, property, rendered(`${parts} = ${total}`),
    `canary weights add up to ${total}, over 100; the stable version gets what the canaries leave`,
    'lower the canary weights so they add up to 100 at most');
}

export function duplicateVersion(path: string, property: string, name: string) {
  return configError(path, property, name, `version "${name}" appears more than once`,
    'give every version a distinct name, and list each canary once');
}

export function canaryIsStable(path: string, property: string, name: string) {
  return configError(path, property, name, `"${name}" is the stable version, so it cannot also be a canary`,
    'name a different version as the canary, or promote it through the environment');
}

export function noCanaries(path: string, property: string) {
  return configError(path, property, [], 'a rollout needs at least one canary version',
    "add a canary, for example `canaries: [{ version: 'v2' }]`");
}

export function replicasInvalid(path: string, property: string, value: number, min: number) {
  return configError(path, property, value, `replicas must be a whole number of at least ${min}`,
    `use an integer >= ${min}`);
}

export function gpuCountInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a GPU count must be a whole number of at least 1',
    'use `Gpu.nvidia({ count: 1, product: GpuProduct.A10G })` or leave `gpu` out for a CPU-only model');
}

export function nameNotDns1123(path: string, property: string, value: string) {
  return configError(path, property, value,
    'names must be DNS-1123 labels: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
    `use for example ${JSON.stringify(value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'model-v1')}`);
}

export function gateWithoutMetrics(path: string, property: string) {
  return configError(path, property, [], 'an analysis gate needs at least one metric',
    "add a metric, for example `Metric.prometheus({ name: 'error-rate', query: '...', threshold: 0.01 })`");
}

export function gateCountInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the number of measurements must be a whole number of at least 1', 'use for example `count: 5`');
}

export function failureLimitInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the failure limit must be a whole number of at least 0',
    'use for example `failureLimit: 1` (one failed measurement tolerated)');
}

export function inconclusiveLimitInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the inconclusive limit must be a whole number of at least 0', 'use for example `inconclusiveLimit: 10`');
}

export function metricNameEmpty(path: string, property: string) {
  return configError(path, property, '', 'every metric needs a name (it appears in logs, the plan and `model-rollout status`)', "give the metric a name, for example `name: 'error-rate'`");
}

export function metricNameDuplicate(path: string, property: string, name: string) {
  return configError(path, property, name, 'metric names must be unique within a gate', 'rename one of the metrics');
}

export function queryEmpty(path: string, property: string) {
  return configError(path, property, '', 'a Prometheus metric needs a query', 'give a PromQL query that returns one sample');
}

export function placeholderUnknown(path: string, property: string, query: string, names: readonly string[]) {
  const shown = names.map((n) => (n === '{{' ? '`{{` without a name' : `\`{{${n}}}\``)).join(', ');
  return configError(path, property, query, `the query holds ${shown}, which nothing fills: it would be sent as written, `
    + 'match no series, and hold then abort the rollout on "no data"',
  `use only ${SYNTH_PLACEHOLDERS.map((n) => `\`{{${n}}}\``).join(', ')} (filled at synth) and `
    + `${RUNTIME_PLACEHOLDERS.map((n) => `\`{{${n}}}\``).join(', ')} (filled by the controller at every query), or write the value itself`);
}

export function thresholdNotFinite(path: string, property: string, value: number) {
  return configError(path, property, value, 'the threshold must be a finite number', 'use a number such as 0.01');
}

export function minSamplesInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the minimum sample count must be a whole number of at least 0', 'use for example `minSamples: 100`');
}

export function minSamplesWithoutQuery(path: string, property: string) {
  return configError(path, property, undefined, 'a minimum sample count needs a query that counts the samples',
    'give `sampleQuery`, for example the request count over the same window');
}

export function alarmNameEmpty(path: string, property: string) {
  return configError(path, property, '', 'a CloudWatch alarm metric needs the alarm\'s name', 'name the CloudWatch alarm');
}

export function mirrorToStable(path: string, property: string, name: string) {
  return configError(path, property, name, `"${name}" is the stable version; mirroring it to itself doubles its load for nothing`,
    'mirror to a version that is not stable, for example a shadow build of the next release');
}

export function mirrorPercentInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the mirrored share must be a whole percent from 1 to 100',
    'use an integer between 1 and 100, for example `mirror: { version: \'v3\', percent: 5 }`');
}

export function unknownVersion(path: string, property: string, name: string, known: readonly string[]) {
  return configError(path, property, name, `there is no version "${name}"; known versions: ${known.join(', ') || '(none)'}`,
    `add it first with \`model.addVersion('${name}', { ... })\`, or use one of the known versions`);
}

// ---------------------------------------------------------------------------------------------
// GPU clusters: canary weight 0, mirror to a canary, GPUs per node
// ---------------------------------------------------------------------------------------------

export function windowCronInvalid(path: string, property: string, cron: string) {
  return configError(path, property, cron, 'a release window starts where a five-field cron expression (minute hour day-of-month month day-of-week) matches',
    "use for example '0 9 * * 1-5' (09:00 on weekdays), with numbers, ranges, lists and steps");
}

export function windowDurationInvalid(path: string, property: string, seconds: number) {
  return configError(path, property, rendered(`${seconds} s`), 'a release window lasts whole minutes, from 1 minute to 7 days',
    'use for example `Duration.hours(8)`');
}

export function windowTimeZoneInvalid(path: string, property: string, zone: string) {
  return configError(path, property, zone, 'the time zone is not an IANA time zone name',
    "use a name like 'Europe/Berlin', 'America/New_York' or 'UTC'");
}

export function canaryWeightZero(path: string, property: string, version: string, pinsSupported: boolean) {
  return configError(path, property, 0, `canary "${version}" would never receive a request: its weight is 0 and no pin leads to it`,
    pinsSupported
      ? `give it a weight of at least 1, add a pin that leads to it for a key split (\`Pin.header('x-tier', 'gold', '${version}')\`), or remove "${version}" from the canaries (use \`mirror\` for shadow traffic)`
      : `give it a weight of at least 1, or remove "${version}" from the canaries (use \`mirror\` for shadow traffic)`);
}

export function mirrorToCanary(path: string, property: string, version: string) {
  return configError(path, property, version, `"${version}" is already a canary: mirroring to it doubles its requests and skews its checks`,
    'mirror to a version that is neither stable nor a canary (a shadow build), or drop the mirror');
}

export function gpuFeatureDiscoveryUnknownProduct(path: string, property: string, product: string) {
  return configError(path, property, rendered(`GpuNodeSelector.GPU_FEATURE_DISCOVERY for ${product}`),
    `there is no GPU Feature Discovery preset for "${product}" (presets: T4, A10G, L4, L40S, A100, H100, H200)`,
    'give the value GFD sets on your nodes (`kubectl get nodes -L nvidia.com/gpu.product`): `withNodeSelector(GpuNodeSelector.label(\'nvidia.com/gpu.product\', [\'NVIDIA-...\']))`');
}

export function nodeLabelKeyInvalid(path: string, property: string, key: string) {
  return configError(path, property, key, 'a node label key is an optional DNS subdomain prefix and `/`, then a name of at most 63 letters, digits, `-`, `_` or `.`',
    "use a label key your nodes carry, for example 'nvidia.com/gpu.product'");
}

export function nodeLabelValuesEmpty(path: string, property: string) {
  return configError(path, property, [], 'a node selector needs at least one label value, or no node ever matches',
    "list the values your GPU nodes carry, for example ['NVIDIA-L4']");
}

export function nodeLabelValueInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'a label value is 1 to 63 letters, digits, `-`, `_` or `.`, beginning and ending with a letter or digit',
    'copy the value from `kubectl get nodes --show-labels`');
}

export function gpuCountAboveNode(path: string, property: string, count: number, product: string, maxPerNode: number) {
  return configError(path, property, count, `a replica asks for ${count} ${product} GPUs, but the largest node with ${product} has ${maxPerNode}; a pod cannot span nodes, so it never schedules`,
    `use at most ${maxPerNode} GPUs per replica (tensor parallelism within one node), a product with more memory per GPU, or \`GpuProduct.custom(...)\` with the right maxPerNode`);
}

/** Fixes for the sequential test's numbers (`sequentialSpecProblem` names the property). */
const SEQUENTIAL_FIXES: Record<string, string> = {
  falseAbortRate: 'use a probability between 0 and 1, for example `falseAbortRate: 0.005` (0.5 % of healthy rollouts aborted)',
  missRate: 'use a probability between 0 and 1, for example `missRate: 0.1`',
  baselineFloor: 'use an error rate between 0 and 1, for example `baselineFloor: 0.001`',
  tolerance: 'use 0 or more, for example `tolerance: 0.5` (the canary may be 50 % worse than stable)',
  detectRatio: 'use a ratio above 1, for example `detectRatio: 5`',
  minStableRequests: 'use a whole number of at least 0, for example `minStableRequests: 1000`',
};

export function sequentialOptionInvalid(path: string, property: string, value: unknown, problem: string) {
  return configError(path, property, value, problem.replace(/, got .*$/, ''), SEQUENTIAL_FIXES[property] ?? 'see the option\'s documentation');
}

// ---------------------------------------------------------------------------------------------
// GPU capacity during a rollout (RolloutCapacity, src/rollout)
// ---------------------------------------------------------------------------------------------

export function maxExtraGpusInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a GPU budget must be a whole number of GPUs, at least 1',
    'use for example `RolloutCapacity.surge({ maxExtraGpus: 8 })` (one 8-GPU replica above the stable version), or `RolloutCapacity.full()`');
}

export function reserveInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the stable version\'s reserve is a whole number of replicas, 0 or more',
    'leave it out (1 replica), or use 0 to accept that an abort waits for a cold start before moving traffic back');
}

export function budgetTooSmall(path: string, property: string, value: number, need: number, reserve: number | undefined) {
  return configError(path, property, value,
    `the budget cannot fit one more canary replica beside the stable version's share and its reserve of ${reserve ?? 1} replica(s): it needs at least ${need} GPUs; the canary would never get a replica`,
    `use \`maxExtraGpus: ${need}\` or more, a smaller \`reserveReplicas\`, or \`RolloutCapacity.full()\``);
}
