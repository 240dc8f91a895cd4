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

export function reservedKindName(path: string, property: string, name: string) {
  return configError(path, property, rendered(`EnvironmentKind.custom('${name}')`),
    `"${name}" is the name of a built-in kind: a custom kind with it would have none of its rules (production's single environment and destroy protection, development's one replica and scale to zero)`,
    `use EnvironmentKind.${name.toUpperCase()}, or give the custom kind another name (for example '${name}-eu')`);
}

export function reservedEnvironmentName(path: string, property: string, name: string, kind: string) {
  return configError(path, property, name, `an environment named "${name}" is the ${name} environment, but its kind is "${kind}"`,
    `leave \`kind\` out (the name implies EnvironmentKind.${name.toUpperCase()}), or give the environment another name`);
}

export function developmentNotNamedDevelopment(path: string, property: string, name: string) {
  return configError(path, property, name, 'a development environment is always named "development" (one per model, Baseten\'s development deployment)',
    "name it 'development' (`model.addEnvironment('development', { ... })`), or use EnvironmentKind.STAGING or EnvironmentKind.custom(...) for another environment");
}

export function secondDevelopment(path: string, property: string, name: string, existing: string) {
  return configError(path, property, name, `the model already has a development environment ("${existing}"); a model has one at most`,
    'iterate in the existing development environment, or give this one another kind (EnvironmentKind.STAGING or EnvironmentKind.custom(...))');
}

export function developmentNotScalingToZero(path: string, property: string, value: number) {
  return configError(path, property, value, 'a development environment always scales to zero when idle',
    'leave minReplicas out (development is 0..1), or use EnvironmentKind.STAGING for an environment that keeps a replica');
}

export function versionMaxTwice(path: string, property: string, maxReplicas: number, autoscalingMax: number) {
  return configError(path, property, rendered(`maxReplicas ${maxReplicas}, autoscaling.maxReplicas ${autoscalingMax}`), 'the version gives two different maximums',
    'give it once, in `autoscaling.maxReplicas`');
}

export function versionMaxInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a version\'s most replicas is a whole number of at least 1, or it can never serve',
    'use for example `autoscaling: { maxReplicas: 2 }`, or leave it out for the environment\'s');
}

export function stickyWithoutImplementation(path: string, property: string) {
  return configError(path, property, undefined,
    'a sticky split needs the gateway to run a bucket filter, and which Gateway API implementation serves the Gateway is not declared (on one without the filter, every request would fall through to the random split, silently)',
    'declare it: `gatewayImplementation: GatewayImplementation.ISTIO` or `GatewayImplementation.ENVOY_GATEWAY`; on another implementation use `Routing.random()` (with pins for testers)');
}

export function stickyUnsupported(path: string, property: string, implementation: string) {
  return configError(path, property, implementation,
    `${implementation} has no API this library can install the sticky split's bucket filter with (an Envoy Lua filter), so every request would be split at random`,
    'use `Routing.random()` (with pins for testers and key splits), or serve the environment from an Istio or Envoy Gateway Gateway');
}

export function pinRegexInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'the gateways match regular expressions with RE2, which has no lookaround or backreferences, and this one does not compile there',
    'write it in RE2 syntax (https://github.com/google/re2/wiki/Syntax), for example `^(beta|canary)-.*$`');
}

export function cookieValueInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'a cookie value is printable ASCII without spaces, `"`, `,`, `;` or backslashes (RFC 6265)',
    'use the value your site sets, for example `Pin.cookie(\'ab\', \'b\', \'v2\')`');
}

export function urlInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'an address must be an absolute http:// or https:// URL with a host',
    "write it in full, for example 'http://prometheus-operated.monitoring.svc:9090'");
}

/** `what`: who queries, as a clause (`the KEDA autoscaler of environment "x" queries Prometheus`). */
export function prometheusUrlMissing(path: string, property: string, what: string) {
  return configError(path, property, undefined, `${what}, and no address is given (none is guessed: a wrong one makes KEDA fall back to every version's maximum replicas, silently)`,
    "give the Prometheus that scrapes the model's pods: `new Model(..., { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090' })` "
    + "(prometheus-operator; kube-prometheus-stack: 'http://<release>-kube-prometheus-prometheus.monitoring.svc:9090'), or `Autoscaler.keda({ prometheusUrl })`, "
    + 'or use `Autoscaler.hpa()` with a metrics adapter');
}

export function developmentTooManyReplicas(path: string, property: string, value: number) {
  return configError(path, property, value, 'a development environment runs one replica at most',
    'set maxReplicas to 1 (development scales 0..1), or use EnvironmentKind.STAGING for more');
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

export function budgetAboveNodePool(path: string, property: string, value: number, product: string, stableGpus: number, maxGpus: number) {
  return configError(path, property, value,
    `the stable version already uses ${stableGpus} ${product} GPUs and the node pool for ${product} stops at maxGpus ${maxGpus}: the budget can never be used, canary pods would stay Pending and the rollout abort at its progress deadline`,
    `use \`maxExtraGpus: ${Math.max(0, maxGpus - stableGpus)}\` or less, or raise the GpuNodePools' \`maxGpus\` to at least ${stableGpus + value}`);
}

// ---------------------------------------------------------------------------------------------
// Input a real cluster rejects or misreads
// ---------------------------------------------------------------------------------------------

export function serviceNameNotDns1035(path: string, property: string, value: string) {
  return configError(path, property, value, 'every object name starts with the model name, and Service names must start with a letter (DNS-1035 label)',
    `start the name with a letter, for example ${JSON.stringify(`m-${value}`)} or ${JSON.stringify(value.replace(/^[0-9-]+/, '') || 'model')}`);
}

export function imageInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'the container image is empty or contains whitespace', "give an image reference, for example 'vllm/vllm-openai:v0.6.3'");
}

export function portInvalid(path: string, property: string, value: number) {
  return configError(path, property, value, 'a port is a whole number from 1 to 65535', 'use the port the server listens on, for example 8000 for vLLM (pass the same `--port` in args)');
}

export function durationTooShort(path: string, property: string, seconds: number) {
  return configError(path, property, rendered(`${seconds} s`), 'this duration must be at least 1 second (probes, deadlines and timeouts are derived from it)',
    'use for example `Duration.minutes(15)`');
}

export function objectNameInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'names of Secrets, ConfigMaps, ServiceAccounts and claims are DNS-1123 subdomains: lowercase letters, digits, "-" and ".", at most 253 characters',
    'use the name of the existing object exactly as `kubectl get` shows it');
}

export function secretKeyEmpty(path: string, property: string) {
  return configError(path, property, '', 'a Secret reference needs the key whose value becomes the variable', "give the key, for example `{ secretName: 'hf-token', key: 'token' }`");
}

export function cacheSizeInvalid(path: string, property: string, gib: number) {
  return configError(path, property, rendered(`${gib} GiB`), 'the model cache must have room for the weights', 'use for example `ModelCache.emptyDir(Size.gibibytes(100))` (about 2 bytes per parameter in fp16, plus compile caches)');
}

export function drainDelayNotBelowGrace(path: string, property: string, drain: number, grace: number) {
  return configError(path, property, rendered(`${drain} s`), `the preStop delay uses up the termination grace period (${grace} s), so the server would be killed before it drains`,
    'make drainDelay a few seconds and terminationGracePeriod long enough for your longest generation');
}

export function headerNameInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'header and query parameter names are HTTP tokens (letters, digits and !#$%&\'*+-.^_`|~; no spaces), as Gateway API requires',
    "use for example 'x-user-id'");
}

export function hostnameInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'a host name is a lowercase DNS name, optionally starting with "*." (no scheme, port, path or IP address)',
    `use for example ${JSON.stringify(value.replace(/^[a-z]+:\/\//i, '').replace(/[:/].*$/, '').toLowerCase() || 'llama.example.com')}`);
}

export function pathInvalid(path: string, property: string, value: string) {
  return configError(path, property, value, 'a path must start with "/" and carry no query, fragment, whitespace or "//"', `use for example ${JSON.stringify(`/${value.replace(/^\/*/, '').replace(/[?#\s].*$/, '')}`)}`);
}

export function rolloutOnInactive(path: string, property: string, env: string) {
  return configError(path, property, env, `environment "${env}" is inactive (\`active: false\`): it has no route and no replicas to move traffic between`,
    'activate the environment, or remove the rollout');
}

export function keepWarmWithKubectl(path: string, property: string, value: string, env: string) {
  return configError(path, property, value,
    `environment "${env}" is applied with kubectl (\`appliedBy\` default): a re-apply after the promotion sends every request to the previous version, so it cannot be scaled to zero after a window while the code still names it`,
    'set the environment\'s `appliedBy` to ManifestApplier.FLUX, ARGO_CD (with ignoreDifferences and RespectIgnoreDifferences=true) or TERRAFORM, or drop keepPreviousWarmFor (the previous version then keeps its replicas until the code names the new one)');
}

export function tooManyRouteRules(path: string, property: string, rules: number, matches: number) {
  return configError(path, property, rendered(`${rules} rules, ${matches} matches`),
    'the HTTPRoute would exceed Gateway API limits: at most 16 rules, 64 matches per rule and fewer than 128 matches in all (the API server rejects it)',
    'use fewer pin versions, canaries or pin values (pins to one version share a rule), or pin through `pinEndpoint` on a separate route');
}

export function progressDeadlineBelowLoad(path: string, property: string, seconds: number, version: string, loadSeconds: number) {
  return configError(path, property, rendered(`${seconds} s`),
    `canary "${version}" may take ${loadSeconds} s to load (its loadTimeout), plus node provisioning; a shorter progress deadline aborts every rollout of it`,
    `leave progressDeadline out (derived from the canaries' load timeouts) or make it at least ${loadSeconds} s`);
}

export function mirrorPercentNeedsGatewayApi13(path: string, property: string, percent: number) {
  return configError(path, property, percent,
    'a partial mirror needs `RequestMirror.percent`, standard since Gateway API v1.3 (Istio 1.24+): on older CRDs the API server prunes it and the shadow gets 100 % of requests',
    'install Gateway API v1.3+ standard CRDs and declare `gatewayApiVersion: \'1.3\'` (the default), or mirror 100 percent to a shadow sized for all traffic');
}

export function driftWindowInvalid(path: string, property: string, value: string) {
  return configError(path, property, rendered(value), 'the drift window is a start hour 0..23 (UTC) and a whole number of hours from 1 to 23',
    'use for example `driftWindow: { startHourUtc: 2, length: Duration.hours(4) }`');
}

export function promoteStepsWithoutController(path: string, property: string, env: string) {
  return configError(path, property, undefined, `environment "${env}" switches versions at once (it scales to zero, or is a development environment): there is no weighted route to ramp`,
    'promote without `steps`, or give the environment `autoscaling.minReplicas` of at least 1');
}

export function stepsWithFixedSplit(path: string, property: string) {
  return configError(path, property, undefined, 'every canary holds a fixed weight (`ramp: false`), so the split is rendered into the route and no step runs',
    'leave `steps` out, or let a canary ramp (`ramp: true`)');
}

export function controllerImageConflict(path: string, property: string, value: string, existing: string, namespace: string) {
  return configError(path, property, value, `the rollouts of namespace "${namespace}" share one controller, which already runs ${existing}`,
    'give every rollout of the namespace the same `controllerImage` (or none)');
}

export function noDataWindowsInvalid(path: string, property: string, holdSeconds: number, abortSeconds: number) {
  return configError(path, property, rendered(`hold after ${holdSeconds} s, abort after ${abortSeconds} s`),
    'a canary without data first holds, then aborts: the abort must come no earlier than the hold, and both after some time',
    'use for example `noDataHoldAfter: Duration.minutes(2), noDataAbortAfter: Duration.minutes(10)`');
}

export function pinEndpointWithoutPins(path: string, property: string) {
  return configError(path, property, undefined, 'a pin endpoint routes pinned requests only, and the rollout has no pin',
    "add `pins: [Pin.header('x-model-version', 'v2', 'v2')]`, or leave `pinEndpoint` out");
}

export function pinEndpointWithoutHostnames(path: string, property: string) {
  return configError(path, property, [], 'a pin endpoint needs the host names testers use (an internal host keeps pins away from public clients)',
    "give `hostnames: ['llm.internal.example.com']`");
}

export function tickIntervalInvalid(path: string, property: string, seconds: number) {
  return configError(path, property, rendered(`${seconds} s`),
    'the controller runs once a minute and ticks again every `tickInterval` within the run, so the interval must divide 60 s and be at least 10 s (a tick takes a few seconds)',
    'use Duration.seconds(10), 12, 15, 20, 30 or 60');
}

export function prometheusConnectionInvalid(path: string, property: string, value: string, problem: string, fix: string) {
  return configError(path, property, rendered(value), problem, fix);
}

export function tooManyRolloutsPerController(path: string, property: string, count: number, max: number, controller: string) {
  return configError(path, property, rendered(`rollout ${count} of controller ${controller}`),
    `one controller ticks at most ${max} rollouts (its stated capacity at 250m CPU and 192Mi: bench/results/namespace.md)`,
    'put the rollouts beyond it in another chart: every chart gets its own controller (CronJob, ServiceAccount, rate limit)');
}

export function prometheusConnectionConflict(path: string, property: string, namespace: string) {
  return configError(path, property, rendered('a different Prometheus connection'),
    `the rollouts of namespace "${namespace}" share one controller pod, which already mounts another CA or credentials for Prometheus`,
    'give every rollout of the namespace the same `prometheusConnection` (or none)');
}

/** `callSite`: how the options are passed where the refusal comes from (a rollout's props, or `promote()`'s options). */
export function noServingEngine(path: string, property: string, model: string, callSite = '`checks` of your own, or `defaultChecks: false`') {
  return configError(path, property, rendered('default checks on, no serving engine'),
    `the serving engine of model "${model}" is not recognisable from its image, so the rollout would have no check at all and would promote a canary that fails every request`,
    `set \`servingEngine\` on the Model (ServingEngine.VLLM, TGI, TRITON or ServingEngine.custom(...)), or pass ${callSite} to roll out unchecked on purpose`);
}

export function sequentialWindowFixed(path: string, property: string, metric: string, query: string, tickSeconds: number) {
  return configError(path, property, query,
    `the sequential test "${metric}" takes one window per tick (every ${tickSeconds} s), but this query counts over a fixed range, so every request would count ${tickSeconds < 60 ? 'several times' : 'again'} and healthy canaries would be aborted`,
    'count over the tick: `sum(increase(<counter>{...}[{{window}}]))` (the controller puts the tick, e.g. `10s`, there), or set `tickInterval: Duration.minutes(1)`');
}

export function scrapeSlowerThanTick(path: string, property: string, tickSeconds: number, scrapeSeconds: number) {
  return configError(path, property, rendered(`${tickSeconds} s (the PodMonitor scrapes every ${scrapeSeconds} s)`),
    'the sequential error test counts `increase()` over one tick, and Prometheus needs two samples within the window to see an increase: with fewer the canary reads as silent, the rollout holds and then rolls back',
    `scrape at least twice per tick (the Model's \`monitoring: { interval: Duration.seconds(${Math.floor(tickSeconds / 2)}) }\`), or tick less often (\`tickInterval: Duration.seconds(${Math.min(60, 60 / Math.floor(60 / (scrapeSeconds * 2)))})\`)`);
}

// ---------------------------------------------------------------------------------------------
// Notifiers (src/k8s/notifications.ts)
// ---------------------------------------------------------------------------------------------

export function webhookUrlSources(path: string, property: string, given: number) {
  return configError(path, property, rendered(given === 0 ? 'neither url nor urlSecret' : 'both url and urlSecret'),
    'a webhook notifier needs exactly one place to read its URL from',
    'give `url` for a URL that is no secret, or `urlSecret: { name, key }` for one kept in a Secret');
}

export function webhookUrlInvalid(path: string, property: string, url: string) {
  return configError(path, property, url, 'the webhook URL is not an http(s) URL', 'give a URL such as https://alerts.example.com/hooks/rollouts');
}

export function secretKeyIncomplete(path: string, property: string, ref: { readonly name: string; readonly key: string }) {
  return configError(path, property, rendered(`{ name: ${JSON.stringify(ref.name)}, key: ${JSON.stringify(ref.key)} }`),
    'the Secret reference needs a name and a key', 'give the Secret\'s name and the key of its data that holds the URL');
}

export function noEvents(path: string, property: string) {
  return configError(path, property, rendered('[]'), 'the notifier subscribes to no event',
    'leave `events` out for the defaults, or name at least one NotificationEvent');
}
