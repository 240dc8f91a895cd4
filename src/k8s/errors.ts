/**
 * Messages of the Kubernetes constructs, one named function per rule (a message reused for another prop gives a
 * wrong fix). Each names the construct path, the property, the value received, the problem and the fix.
 */
import { configError, rendered } from '../core/errors';

// ---------------------------------------------------------------------------------------------
// Kubernetes target: Model, Environment, node pools (src/k8s)
// ---------------------------------------------------------------------------------------------

export function minAboveMax(path: string, property: string, min: number, max: number) {
  return configError(path, property, rendered(`minReplicas ${min} > maxReplicas ${max}`), 'the minimum replica count is above the maximum',
    `lower minReplicas to ${max} at most, or raise maxReplicas to ${min} or more`);
}

export function secondProduction(path: string, property: string, name: string, existing: string) {
  return configError(path, property, name, `the model already has a production environment ("${existing}"); a model has exactly one`,
    'give this environment another kind (EnvironmentKind.STAGING or EnvironmentKind.custom(...)), or promote into the existing production environment');
}

export function noProduction(path: string) {
  return configError(path, 'environments', [], 'the model has no production environment; every model has exactly one',
    "add one with `model.addEnvironment('production', { version: 'v1', ... })`");
}

export function developmentTooManyReplicas(path: string, property: string, value: number) {
  return configError(path, property, value, 'a development environment runs one replica at most',
    'set maxReplicas (and minReplicas) to 0 or 1, or use EnvironmentKind.STAGING for more');
}

export function rolloutOnDevelopment(path: string, property: string, env: string) {
  return configError(path, property, env, 'a development environment takes no rollout: it serves one replica of whatever it points at',
    'promote the version directly with `environment.promote()`, or roll out in a staging or production environment');
}

export function secondRollout(path: string, property: string, env: string, existing: string) {
  return configError(path, property, env, `environment "${env}" already has a rollout (${existing}); one promotion per environment at a time`,
    'remove the other rollout, or wait for it to finish and then change its spec');
}

export function scaleToZeroWithoutNodePool(path: string, property: string, product: string, provided: readonly string[]) {
  return configError(path, property, product,
    `scaling to zero needs a node pool that can create ${product} nodes from nothing, and none provides it (pools: ${provided.join(', ') || 'none'})`,
    `add \`new GpuNodePools(chart, 'GpuNodes', { models: [model], ... })\` covering ${product}, declare pools managed elsewhere with \`GpuNodePools.external(chart, [GpuProduct.${product}])\`, or keep minReplicas >= 1`);
}

export function scaleToZeroNeedsHostname(path: string, property: string) {
  return configError(path, property, [], 'scaling to zero goes through the KEDA HTTP add-on interceptor, which routes requests by host name',
    "give the environment `hostnames: ['llama.example.com']`, or keep minReplicas >= 1");
}

export function nameTooLong(path: string, property: string, value: string, max: number) {
  return configError(path, property, value, `the derived object name is ${value.length} characters; Kubernetes allows ${max}`,
    'shorten the model, environment or version name');
}

export function productAddedAfterNodePools(path: string, property: string, product: string) {
  return configError(path, property, product, `a version needs ${product} GPUs, but the node pools were derived before that version was added`,
    'create GpuNodePools after every `addVersion()` call, or list the product in `extraProducts`');
}

export function duplicateEnvironment(path: string, property: string, name: string) {
  return configError(path, property, name, `the model already has an environment called "${name}"`, 'give every environment of a model a distinct name');
}

// ---------------------------------------------------------------------------------------------
// Kubernetes target: CanaryRollout and its step controller (src/k8s)
// ---------------------------------------------------------------------------------------------

export function emptyHashKey(path: string, property: string) {
  return configError(path, property, '', 'a sticky split needs the name of the header or query parameter whose value is hashed',
    "name it, for example `Routing.headerHash('x-user-id')` or `Routing.queryHash('user')`");
}

export function pinShared(path: string, property: string, match: string, first: string, second: string) {
  return configError(path, property, match, `the pin ${match} is given to both "${first}" and "${second}"; a pinned request can reach one version only`,
    'give each version its own pin value');
}

export function rolloutOnScaleToZero(path: string, property: string, env: string) {
  return configError(path, property, env, `environment "${env}" scales to zero: at zero replicas the KEDA interceptor, not the weighted route, picks the backend`,
    'give the environment `autoscaling.minReplicas` of at least 1 for the rollout');
}

export function replicaCountInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'replica counts are whole numbers of at least 0', 'use for example `autoscaling: { minReplicas: 1, maxReplicas: 4 }`');
}

export function maxReplicasZero(path: string, property: string, value: number) {
  return configError(path, property, value, 'an environment needs at least one replica at its maximum, or it can never serve',
    'set `autoscaling.maxReplicas` to 1 or more, or `active: false` to keep the environment without serving');
}

export function concurrencyTargetInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the in-flight requests per replica the autoscaler aims at must be above 0',
    'use for example `concurrencyTarget: 4` (vLLM batches many requests per replica; measure yours)');
}

export function maxGpusInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'the GPU limit of a node pool must be a whole number of at least 1',
    'use for example `maxGpus: 16` (Karpenter stops creating nodes past it)');
}

export function pinEmpty(path: string, property: string) {
  return configError(path, property, '', 'a pin needs the name and the value of the header or query parameter it matches',
    "give the pin a name and a value, for example `Pin.header('x-model-version', 'v2', 'v2')`");
}

export function notFromThisLibrary(path: string, property: string, received: string) {
  return configError(path, property, rendered(received), 'this construct was not created by cdk-model-rollout',
    'pass a Model made with `new Model()` and an environment made with `model.addEnvironment()` or `new Environment()`');
}

export function rolloutWithoutEndpoint(path: string, property: string, env: string) {
  return configError(path, property, env, `environment "${env}" has no gateway, so there is no HTTPRoute whose weights a rollout could move`,
    "give the environment `gateway: { name: 'inference', namespace: 'gateways' }`, or roll out behind an ALB with the AWS `AlbCanaryRollout`");
}

export function scaleToZeroNeedsGateway(path: string, property: string) {
  return configError(path, property, undefined, 'scaling to zero routes requests through the KEDA HTTP add-on interceptor, which needs the environment\'s HTTPRoute',
    "give the environment `gateway: { name: 'inference', namespace: 'gateways' }` and `hostnames`, or keep minReplicas >= 1");
}
