/**
 * Run-time messages of the step controller and the CLI, one named function per failure. Each returns a
 * `RolloutRuntimeError` whose kind tells the caller what to do (see `core/runtime-errors.ts`): `rejected` for a
 * configuration or an input a person must fix, `unavailable` or `timeout` for a server that may answer later.
 * The HTTP client's own errors (`HttpError`) and the CLI's `UsageError` carry their messages where they are raised.
 */
import { RolloutRuntimeError } from '../core/runtime-errors';

const rejected = (message: string) => new RolloutRuntimeError('rejected', message);

// ---------------------------------------------------------------------------------------------
// Entry points: the environment a controller runs in
// ---------------------------------------------------------------------------------------------

/** Environment variables an entry point needs and did not get. */
export function environmentUnset(names: readonly string[]) {
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  return rejected(`set ${list}`);
}

export function notInCluster() {
  return rejected('KUBERNETES_SERVICE_HOST is not set: not running in a cluster');
}

export function awsCredentialsUnset() {
  return rejected('AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set');
}

export function secretKeyMissing(secret: string, key: string) {
  return rejected(`Secret ${secret} has no key "${key}"`);
}

// ---------------------------------------------------------------------------------------------
// The namespace controller: which rollouts it ticks, and how long each may take
// ---------------------------------------------------------------------------------------------

/** Rollouts the controller may read but its app no longer lists: left behind by a sync without pruning. */
export function rolloutsNotOwned(namespace: string, list: string, rollouts: readonly string[]) {
  return `not ticking ${rollouts.join(', ')}: ConfigMap ${list} no longer lists them (removed from the code, or another app `
    + `uses this controller's name). Remove their objects: kubectl -n ${namespace} delete role,rolebinding,configmap `
    + `-l 'model-rollout.dev/rollout in (${rollouts.join(',')})' (or sync with pruning: Argo CD prune, Flux prune: true, kubectl apply --prune)`;
}

/** Rollouts the app lists whose Role the controller does not have (yet). */
export function rolloutsNotGranted(namespace: string, rollouts: readonly string[]) {
  return `not ticking ${rollouts.join(', ')} in ${namespace}: listed, but this controller's ServiceAccount has no Role on their `
    + 'spec ConfigMaps yet (apply the whole app: each rollout brings its Role and RoleBinding)';
}

/** Kinds the controller could not list: read object by object (more requests, same result). */
export function notListed(namespace: string, kinds: readonly string[]) {
  return `could not list in ${namespace} (reading object by object instead): ${kinds.join('; ')}`;
}

export function rolloutOverBudget(rollout: string, ms: number) {
  return new RolloutRuntimeError('timeout', `the tick of ${rollout} took over ${ms} ms: the pass moved on (the next tick repairs)`);
}

// ---------------------------------------------------------------------------------------------
// Stores and targets: the documents the constructs wrote
// ---------------------------------------------------------------------------------------------

/** A check names an alarm DescribeAlarms does not return (metric or composite): its verdict is unknown, not "no data". */
export function alarmNotFound(alarm: string) {
  return `CloudWatch alarm "${alarm}" was not found (neither a metric nor a composite alarm of this account and region): check its name in the rollout's checks`;
}

/** DescribeAlarms failed (denied, throttled, unreachable). */
export function alarmUnreadable(alarm: string, error: string) {
  return `CloudWatch alarm "${alarm}" could not be read (${error}): the Lambda's role needs cloudwatch:DescribeAlarms on it`;
}

export function specConfigMapIncomplete(configMap: string, specKey: string, targetKey: string) {
  return rejected(`ConfigMap ${configMap} lacks ${specKey} or ${targetKey}`);
}

export function specParameterIncomplete(parameter: string) {
  return rejected(`SSM parameter ${parameter} lacks "spec" or "target"`);
}

export function noBackendForVersion(version: string) {
  return rejected(`no Kubernetes backend for version "${version}" in the rollout target`);
}

// ---------------------------------------------------------------------------------------------
// Prometheus
// ---------------------------------------------------------------------------------------------

/**
 * node:tls' messages for "this CA did not sign that certificate" (or no CA was given for it); the HTTP client keeps
 * the message, not the code (openssl's verify errors, node `lib/_tls_wrap.js`).
 */
const TLS_TRUST = /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate signature failure|certificate has expired|does not match certificate's altnames/i;

/**
 * A query that got no answer, in one line that names the cause and the fix (the rollout holds on it: a measurement
 * error). Keeps the kind and status of the request's error.
 */
export function prometheusUnreachable(baseUrl: string, e: Error & { status?: number }) {
  const kind = e instanceof RolloutRuntimeError ? e.kind : 'unavailable';
  if (TLS_TRUST.test(e.message)) {
    return new RolloutRuntimeError(kind, `Prometheus ${baseUrl}: TLS certificate not trusted (${e.message}); give the controller the CA bundle that `
      + 'signed it (the rollout\'s `prometheusConnection.caConfigMap` or `caSecret`)', e.status);
  }
  if (e.status === 401 || e.status === 403) {
    return new RolloutRuntimeError(kind, `Prometheus ${baseUrl}: HTTP ${e.status}, not authorized; give the controller credentials (the rollout's `
      + '`prometheusConnection`: `bearerTokenSecret`, `bearerTokenFile` or `basicAuthSecret`)', e.status);
  }
  return new RolloutRuntimeError(kind, `Prometheus ${baseUrl}: ${e.message}`, e.status);
}

/**
 * A query with a placeholder left after the run-time values (a spec synthesized without its synth-time values, or
 * edited by hand): never sent, since it would match no series and read as "no data".
 */
export function placeholdersLeft(metric: string, property: string, query: string, left: readonly string[]) {
  return rejected(`check "${metric}": its ${property} still holds ${left.map((n) => `{{${n}}}`).join(', ')} after the controller's `
    + `substitution, so it was not sent (${query.length > 160 ? `${query.slice(0, 157)}...` : query}); `
    + 'synthesize the rollout again with this library version, which fills the model, environment and namespace');
}

export function queryFailed(error: string) {
  return rejected(`query failed: ${error}`);
}

export function queryNotOneSeries(count: number) {
  return rejected(`query returned ${count} series; a gate needs one (aggregate it with sum() or similar)`);
}

export function queryNotScalar(resultType: string) {
  return rejected(`query returned a ${resultType}; a gate needs a scalar or a one-element vector`);
}

export function queryNotVector(resultType: string) {
  return rejected(`query returned a ${resultType}; a counter query needs an instant vector`);
}

export function noStableSeries(metric: string, stable: string, query: string) {
  return rejected(`check "${metric}": its requestsQuery matches no series for the stable version ${stable} (${query}): the engine does not `
    + 'export that metric, or the labels differ');
}

// ---------------------------------------------------------------------------------------------
// Sinks: phase changes published after a tick (best-effort, logged)
// ---------------------------------------------------------------------------------------------

export function notifierWithoutUrl() {
  return rejected('no URL');
}

/** What a sink could not publish, each part naming where it failed. */
export function notPublished(failures: readonly string[]) {
  return new RolloutRuntimeError('unavailable', failures.join('; '));
}

export function sinkTimedOut(ms: number) {
  return new RolloutRuntimeError('timeout', `no answer within ${ms} ms`);
}

// ---------------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------------

export function noKubeconfig(file: string) {
  return rejected(`no kubeconfig at ${file}: give --kubeconfig PATH, set KUBECONFIG, or create one (for EKS: aws eks update-kubeconfig --name CLUSTER)`);
}

export function noKubeContext(context: string, file: string, known: readonly string[] = []) {
  return rejected(`no context "${context}" in ${file}${known.length > 0 ? ` (contexts: ${known.join(', ')})` : ''}: give --context NAME`);
}

export function notAKubeconfig(file: string) {
  return rejected(`${file} is not a kubeconfig (no \`contexts\` list): give --kubeconfig PATH to one, or set KUBECONFIG`);
}

export function noCurrentContext(file: string, known: readonly string[]) {
  return rejected(`${file} has no current-context: give --context NAME${known.length > 0 ? ` (contexts: ${known.join(', ')})` : ''}, `
    + 'or set one with kubectl config use-context NAME');
}

export function noKubeCluster(cluster: string, file: string) {
  return rejected(`no cluster "${cluster}" in ${file}`);
}

export function credentialPluginFailed(context: string, command: string, error: string) {
  return rejected(`context "${context}": the credential plugin \`${command}\` failed (${error}); `
    + 'check that it is installed and that you are logged in (for EKS: aws sts get-caller-identity)');
}

export function credentialPluginEmpty(context: string, command: string) {
  return rejected(`context "${context}": the credential plugin \`${command}\` returned no token or certificate`);
}

export function rolloutNotFound(rollout: string, specConfigMap: string) {
  return rejected(`rollout "${rollout}" not found: its spec ConfigMap ${specConfigMap} is not in the namespace; is it deployed, and is -n right?`);
}

export function noPlanFile(file: string) {
  return rejected(`no file ${file}: plans are written beside the manifests as <name>.rollout.json`);
}

export function planDirectory(dir: string, found: readonly string[]) {
  return rejected(found.length === 0
    ? `no <name>.rollout.json in the directory ${dir}: give the plan file a synthesis wrote (beside the manifests)`
    : `the directory ${dir} holds ${found.length} plans: give one of ${found.join(', ')}`);
}

export function planNotJson(file: string) {
  return rejected(`${file} is not JSON: give the <name>.rollout.json a synthesis wrote`);
}

export function notAPlan(file: string) {
  return rejected(`${file} is not a rollout plan (kind RolloutPlan): give the <name>.rollout.json a synthesis wrote`);
}
