/**
 * Every message this library throws or warns with, in one place.
 *
 * Each message names: the construct path (or the spec path at run time), the property, the value
 * received, what is wrong, and the fix. Functions return the error; callers `throw` it, so stack
 * traces point at the caller.
 *
 * Pure module: used at synth time by the constructs and at run time by the bundled controller.
 */

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

function err(path: string, property: string, value: unknown, problem: string, fix: string): RolloutConfigError {
  return new RolloutConfigError({ path, property, received: show(value), problem, fix });
}

// ---------------------------------------------------------------------------------------------
// Schedules and weights (src/core, src/rollout)
// ---------------------------------------------------------------------------------------------

export function stepCountInvalid(path: string, property: string, value: number) {
  return err(path, property, value, 'the step count must be a whole number of at least 1',
    'use a positive integer, for example `Steps.equal({ count: 10, over: Duration.minutes(10) })`');
}

export function stepCountTooLarge(path: string, property: string, value: number) {
  return err(path, property, value, 'at most 100 steps are possible, since weights move in whole percent',
    'use 100 steps or fewer');
}

export function weightInvalid(path: string, property: string, value: number) {
  return err(path, property, value, 'a weight must be a whole number from 0 to 100 (percent of requests)',
    'round it to an integer between 0 and 100');
}

export function percentInvalid(path: string, property: string, value: number) {
  return err(path, property, value, 'the percent per step must be a whole number from 1 to 100',
    'use an integer between 1 and 100, for example `Steps.linear({ percent: 10, every: Duration.minutes(2) })`');
}

export function windowTooShort(path: string, property: string, windowSeconds: number, count: number, tickSeconds: number) {
  return err(path, property, rendered(`${windowSeconds} s`),
    `${count} steps need at least ${count * tickSeconds} s (${count} steps x one controller tick of ${tickSeconds} s), but the window is ${windowSeconds} s`,
    `make the window at least ${count * tickSeconds} s, or use at most ${Math.max(1, Math.floor(windowSeconds / tickSeconds))} steps`);
}

export function intervalTooShort(path: string, property: string, seconds: number, tickSeconds: number) {
  return err(path, property, rendered(`${seconds} s`),
    `the controller ticks once every ${tickSeconds} s, so a step cannot be shorter than ${tickSeconds} s`,
    `use a duration of at least ${tickSeconds} s, for example \`Duration.minutes(1)\``);
}

export function stepsEmpty(path: string, property: string) {
  return err(path, property, [], 'a custom schedule needs at least one step',
    'add steps, for example `Steps.custom([Step.setWeight(20), Step.pause(Duration.minutes(5)), Step.setWeight(100)])`, or use `Steps.equal()`');
}

export function pauseAfterFinalStep(path: string, property: string, index: number) {
  return err(path, property, rendered(`step ${index}`),
    'a pause after the final 100% step holds nothing: the rollout is promoted when the weight reaches 100',
    'remove the pause, or put it before `Step.setWeight(100)` to bake at a lower weight');
}

export function weightDecreases(path: string, property: string, index: number, previous: number, value: number) {
  return err(path, property, value,
    `step ${index} lowers the canary weight from ${previous} to ${value}; weights only grow during a rollout (an abort is what sends traffic back)`,
    `use a weight of at least ${previous}, or cancel the rollout to go back`);
}

export function durationInvalid(path: string, property: string, seconds: number) {
  return err(path, property, rendered(`${seconds} s`), 'a duration must be a positive, finite number of seconds',
    'use `Duration.seconds(n)`, `Duration.minutes(n)` or `Duration.hours(n)` with n > 0');
}

export function canaryTotalOver100(path: string, property: string, total: number, parts: string) {
  return err(path, property, rendered(`${parts} = ${total}`),
    `canary weights add up to ${total}, over 100; the stable version gets what the canaries leave`,
    'lower the canary weights so they add up to 100 at most');
}

export function duplicateVersion(path: string, property: string, name: string) {
  return err(path, property, name, `version "${name}" appears more than once`,
    'give every version a distinct name, and list each canary once');
}

export function canaryIsStable(path: string, property: string, name: string) {
  return err(path, property, name, `"${name}" is the stable version, so it cannot also be a canary`,
    'name a different version as the canary, or promote it through the environment');
}

export function noCanaries(path: string, property: string) {
  return err(path, property, [], 'a rollout needs at least one canary version',
    "add a canary, for example `canaries: [{ version: 'v2' }]`");
}

export function replicasInvalid(path: string, property: string, value: number, min: number) {
  return err(path, property, value, `replicas must be a whole number of at least ${min}`,
    `use an integer >= ${min}`);
}

export function gpuCountInvalid(path: string, property: string, value: number) {
  return err(path, property, value, 'a GPU count must be a whole number of at least 1',
    'use `Gpu.nvidia({ count: 1, product: GpuProduct.A10G })` or leave `gpu` out for a CPU-only model');
}

export function nameNotDns1123(path: string, property: string, value: string) {
  return err(path, property, value,
    'names must be DNS-1123 labels: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
    `use for example ${JSON.stringify(value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'model-v1')}`);
}

export function analysisInvalid(path: string, property: string, value: unknown, problem: string, fix: string) {
  return err(path, property, value, problem, fix);
}

export function emptyString(path: string, property: string, fix: string) {
  return err(path, property, '', 'this value must not be empty', fix);
}

export function mirrorToStable(path: string, property: string, name: string) {
  return err(path, property, name, `"${name}" is the stable version; mirroring it to itself doubles its load for nothing`,
    'mirror to a version that is not stable, for example a shadow build of the next release');
}

export function mirrorPercentInvalid(path: string, property: string, value: number) {
  return err(path, property, value, 'the mirrored share must be a whole percent from 1 to 100',
    'use an integer between 1 and 100, for example `mirror: { version: \'v3\', percent: 5 }`');
}

export function unknownVersion(path: string, property: string, name: string, known: readonly string[]) {
  return err(path, property, name, `there is no version "${name}"; known versions: ${known.join(', ') || '(none)'}`,
    `add it first with \`model.addVersion('${name}', { ... })\`, or use one of the known versions`);
}

// ---------------------------------------------------------------------------------------------
// Kubernetes target: Model, Environment, node pools (src/k8s)
// ---------------------------------------------------------------------------------------------

export function minAboveMax(path: string, property: string, min: number, max: number) {
  return err(path, property, rendered(`minReplicas ${min} > maxReplicas ${max}`), 'the minimum replica count is above the maximum',
    `lower minReplicas to ${max} at most, or raise maxReplicas to ${min} or more`);
}

export function secondProduction(path: string, property: string, name: string, existing: string) {
  return err(path, property, name, `the model already has a production environment ("${existing}"); a model has exactly one`,
    'give this environment another kind (EnvironmentKind.STAGING or EnvironmentKind.custom(...)), or promote into the existing production environment');
}

export function noProduction(path: string) {
  return err(path, 'environments', [], 'the model has no production environment; every model has exactly one',
    "add one with `model.addEnvironment('production', { version: 'v1', ... })`");
}

export function developmentTooManyReplicas(path: string, property: string, value: number) {
  return err(path, property, value, 'a development environment runs one replica at most',
    'set maxReplicas (and minReplicas) to 0 or 1, or use EnvironmentKind.STAGING for more');
}

export function rolloutOnDevelopment(path: string, property: string, env: string) {
  return err(path, property, env, 'a development environment takes no rollout: it serves one replica of whatever it points at',
    'promote the version directly with `environment.promote()`, or roll out in a staging or production environment');
}

export function secondRollout(path: string, property: string, env: string, existing: string) {
  return err(path, property, env, `environment "${env}" already has a rollout (${existing}); one promotion per environment at a time`,
    'remove the other rollout, or wait for it to finish and then change its spec');
}

export function scaleToZeroWithoutNodePool(path: string, property: string, product: string, provided: readonly string[]) {
  return err(path, property, product,
    `scaling to zero needs a node pool that can create ${product} nodes from nothing, and none provides it (pools: ${provided.join(', ') || 'none'})`,
    `add \`new GpuNodePools(chart, 'GpuNodes', { models: [model], ... })\` covering ${product}, declare pools managed elsewhere with \`GpuNodePools.external(chart, [GpuProduct.${product}])\`, or keep minReplicas >= 1`);
}

export function scaleToZeroNeedsHostname(path: string, property: string) {
  return err(path, property, [], 'scaling to zero goes through the KEDA HTTP add-on interceptor, which routes requests by host name',
    "give the environment `hostnames: ['llama.example.com']`, or keep minReplicas >= 1");
}

export function nameTooLong(path: string, property: string, value: string, max: number) {
  return err(path, property, value, `the derived object name is ${value.length} characters; Kubernetes allows ${max}`,
    'shorten the model, environment or version name');
}

export function productAddedAfterNodePools(path: string, property: string, product: string) {
  return err(path, property, product, `a version needs ${product} GPUs, but the node pools were derived before that version was added`,
    'create GpuNodePools after every `addVersion()` call, or list the product in `extraProducts`');
}

export function duplicateEnvironment(path: string, property: string, name: string) {
  return err(path, property, name, `the model already has an environment called "${name}"`, 'give every environment of a model a distinct name');
}

// ---------------------------------------------------------------------------------------------
// Kubernetes target: CanaryRollout and its step controller (src/k8s)
// ---------------------------------------------------------------------------------------------

export function emptyHashKey(path: string, property: string) {
  return err(path, property, '', 'a sticky split needs the name of the header or query parameter whose value is hashed',
    "name it, for example `Routing.headerHash('x-user-id')` or `Routing.queryHash('user')`");
}

export function pinShared(path: string, property: string, match: string, first: string, second: string) {
  return err(path, property, match, `the pin ${match} is given to both "${first}" and "${second}"; a pinned request can reach one version only`,
    'give each version its own pin value');
}

export function rolloutOnScaleToZero(path: string, property: string, env: string) {
  return err(path, property, env, `environment "${env}" scales to zero: at zero replicas the KEDA interceptor, not the weighted route, picks the backend`,
    'give the environment `autoscaling.minReplicas` of at least 1 for the rollout');
}

export function bundleMissing(path: string, bundle: string) {
  return err(path, 'controller', rendered(bundle), 'the step controller bundle is not built',
    'run `npx projen bundle` (the build and `npm test` do it first)');
}

// ---------------------------------------------------------------------------------------------
// AWS target (src/aws)
// ---------------------------------------------------------------------------------------------

export function notGpuInstanceType(path: string, property: string, value: string, known: string) {
  return err(path, property, value, `"${value}" is not a GPU instance type this library knows (GPU families: ${known})`,
    'use a GPU instance type such as g5.2xlarge, g6.xlarge, g6e.12xlarge, p4d.24xlarge or p5.48xlarge');
}

export function mixedGpuProducts(path: string, property: string, value: string[]) {
  return err(path, property, value, 'the instance types carry different GPU products; a node group labels its nodes with one product',
    'use one GPU family per node group (one group per product)');
}

export function tooManyTargetGroups(path: string, property: string, count: number, max: number) {
  return err(path, property, count, `an ALB forward action splits between ${max} target groups at most, and this rule would need ${count}`,
    `keep at most ${max} live versions on one listener rule (stable + ${max - 1} canaries)`);
}

export function noAlarmNoGate(path: string) {
  return `[${path}] the rollout has no alarm and no metric gate: a faulty canary is only stopped by \`model-rollout cancel\`. ` +
    'Add `alarms` thresholds (they are on by default), `rollout.addAlarm(alarm)` or an analysis step.';
}

export function targetGroupNameTooLong(path: string, property: string, value: string) {
  return err(path, property, value, `target group names are 32 characters at most, and "${value}" has ${value.length}`,
    'give the rollout a shorter `name`');
}
