/**
 * The in-cluster step controller: one CronJob run a minute (concurrencyPolicy Forbid) ticks every rollout of its
 * namespace, then every `tickSeconds` (10 s by default) the rollouts in progress until 50 s into the run
 * (`runMinute`). Bundled by the build into assets/controller/k8s/main/index.js and run by a stock Node
 * image.
 *
 * Which rollouts: those whose spec ConfigMap the controller's ServiceAccount may read. It asks the API server
 * (SelfSubjectRulesReview, open to every authenticated user) instead of listing ConfigMaps, so it needs no `list`
 * and each rollout's own RoleBinding is what enrols it. One rollout's failure (a bad spec, a 422, a deleted
 * object) is logged and recorded on its own, and never stops the others.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR, ENV_CONTROLLER_PROMETHEUS_CA_FILE, ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE,
  ENV_CONTROLLER_PROMETHEUS_URL, ENV_CONTROLLER_SPEC_CONFIGMAP, ENV_CONTROLLER_STATE_CONFIGMAP,
  rolloutOfSpecConfigMap, specConfigMapName, stateConfigMapName, TICK_SECONDS,
} from '../../core/constants';
import { MetricObservation } from '../../core/state';
import { NotifierSink } from '../notify';
import { Metrics } from '../ports';
import { PrometheusConnection, PrometheusMetrics } from '../prometheus';
import { tick } from '../tick';
import { ConfigMapStore, HttpRouteRouter, WorkloadCapacity } from './adapter';
import { KubeEventSink } from './events';
import { inClusterConnection, inClusterNamespace, KubeClient, KubeConnection } from './kube-client';
import * as errors from '../errors';

/** Run one tick against the cluster described by `conn` and the environment variables `env`. */
export async function runTick(
  conn: KubeConnection,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
  log: (line: Record<string, unknown>) => void = (line) => process.stdout.write(`${JSON.stringify({ time: new Date(now).toISOString(), ...line })}\n`),
) {
  const namespace = env[ENV_CONTROLLER_NAMESPACE] || inClusterNamespace();
  const specConfigMap = env[ENV_CONTROLLER_SPEC_CONFIGMAP];
  const stateConfigMap = env[ENV_CONTROLLER_STATE_CONFIGMAP];
  if (!namespace || !specConfigMap || !stateConfigMap) {
    throw errors.environmentUnset([ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_SPEC_CONFIGMAP, ENV_CONTROLLER_STATE_CONFIGMAP]);
  }
  const kube = new KubeClient(conn);
  const store = new ConfigMapStore(kube, { namespace, specConfigMap, stateConfigMap });
  // the router and capacity ports need the spec and target: read them once, the tick reads again (cheap GETs)
  await store.read();
  const spec = store.spec!;
  const target = store.target!;
  const prometheusUrl = target.prometheusUrl ?? env[ENV_CONTROLLER_PROMETHEUS_URL];
  const connection = prometheusConnectionFromEnv(env);
  const metrics: Metrics = !prometheusUrl
    ? { measure: async (_s, versions) => Object.fromEntries(versions.map((v) => [v, {}])) }
    : 'error' in connection
      // an unreadable CA or token is a measurement error: the checks hold the weights and say why
      ? { measure: async (s, versions) => Object.fromEntries(versions.map((v) => [v, errorObservations(s, connection.error)])) }
      : new PrometheusMetrics(prometheusUrl, { ...connection, now: () => now });
  const result = await tick({
    store,
    router: new HttpRouteRouter(kube, spec, target),
    capacity: new WorkloadCapacity(kube, target),
    metrics,
    log,
    // phase changes: Events on the state ConfigMap and the route's status annotation (best-effort)
    sinks: [
      new KubeEventSink(kube, { namespace, stateConfigMap, target }, () => now),
      // webhooks and Slack; a URL in a Secret is read when there is something to post
      ...(store.notifications?.length ? [new NotifierSink(store.notifications, async (ref) => {
        const secret = await kube.get(`/api/v1/namespaces/${namespace}/secrets/${ref.name}`) as { data?: Record<string, string> };
        const value = secret.data?.[ref.key];
        if (value === undefined) throw errors.secretKeyMissing(ref.name, ref.key);
        return Buffer.from(value, 'base64').toString('utf8');
      }, namespace)] : []),
    ],
  }, now);
  return { ...result, tickSeconds: spec.tickSeconds ?? TICK_SECONDS };
}

/**
 * Prometheus' CA and credentials from the files the pod mounts (`k8s/private/prometheus-connection.ts`), read at
 * every tick so a rotated token or CA is used without a restart. A file that cannot be read is an error the
 * checks report (they hold), never a query sent without the credentials.
 */
export function prometheusConnectionFromEnv(env: NodeJS.ProcessEnv): PrometheusConnection | { error: string } {
  const read = (file: string) => fs.readFileSync(file, 'utf8');
  try {
    const caFile = env[ENV_CONTROLLER_PROMETHEUS_CA_FILE];
    const tokenFile = env[ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE];
    const basicDir = env[ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR];
    const headers: Record<string, string> = {};
    if (tokenFile) headers.authorization = `Bearer ${read(tokenFile).trim()}`;
    if (basicDir) {
      const user = read(path.join(basicDir, 'username')).replace(/\r?\n$/, '');
      const password = read(path.join(basicDir, 'password')).replace(/\r?\n$/, '');
      headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    return { ...(caFile ? { ca: read(caFile) } : {}), ...(Object.keys(headers).length ? { headers } : {}) };
  } catch (e) {
    return { error: `Prometheus credentials or CA could not be read: ${(e as Error).message}` };
  }
}

function errorObservations(spec: { checks: readonly { name: string }[] }, error: string): Record<string, MetricObservation> {
  return Object.fromEntries(spec.checks.map((m) => [m.name, { error }]));
}

/** Names of the rollouts the controller may tick in `namespace`: the spec ConfigMaps its Roles name. */
async function discoverRollouts(kube: KubeClient, namespace: string): Promise<string[]> {
  const review = await kube.create('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace },
  });
  const names = new Set<string>();
  for (const rule of review.status?.resourceRules ?? []) {
    if (!(rule.apiGroups ?? []).includes('') || !(rule.resources ?? []).includes('configmaps') || !(rule.verbs ?? []).includes('get')) continue;
    for (const n of rule.resourceNames ?? []) {
      const rollout = rolloutOfSpecConfigMap(n);
      if (rollout) names.add(rollout);
    }
  }
  return [...names].sort();
}

/** Rollouts ticked at the same time by one namespace controller. */
const PARALLEL_ROLLOUTS = 8;

/** The outcome of one namespace tick: each rollout's, in order. */
export interface NamespaceTickResult {
  readonly rollouts: ReadonlyArray<{
    readonly name: string;
    readonly ok: boolean;
    readonly error?: string;
    /** The rollout's tick (`spec.tickSeconds`), when its tick ran. */
    readonly tickSeconds?: number;
    /** Whether it is progressing (it wants its sub-minute ticks). */
    readonly active?: boolean;
  }>;
  readonly failed: boolean;
}

/**
 * Tick every rollout of the namespace once, a few at a time (a namespace of 300 idle rollouts makes about 2,700
 * reads a tick and no write). A rollout that fails is logged with its name and the others go on.
 */
export async function runNamespace(
  conn: KubeConnection,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
  log: (line: Record<string, unknown>) => void = defaultLog(now),
  only?: readonly string[],
): Promise<NamespaceTickResult> {
  const namespace = env[ENV_CONTROLLER_NAMESPACE] || inClusterNamespace();
  if (!namespace) throw errors.environmentUnset([ENV_CONTROLLER_NAMESPACE]);
  // one rollout named by the environment: the single-rollout mode of earlier versions (and of tests)
  if (env[ENV_CONTROLLER_SPEC_CONFIGMAP]) {
    const r = await runTick(conn, env, now, log);
    return {
      rollouts: [{ name: String(env[ENV_CONTROLLER_SPEC_CONFIGMAP]), ok: !r.failed, tickSeconds: r.tickSeconds, active: r.decision?.state.phase === 'progressing' }],
      failed: !!r.failed,
    };
  }
  const names = only ? [...only] : await discoverRollouts(new KubeClient(conn), namespace);
  const rollouts: Array<NamespaceTickResult['rollouts'][number]> = new Array(names.length);
  const tickOne = async (i: number) => {
    const name = names[i];
    const one = {
      ...env,
      [ENV_CONTROLLER_NAMESPACE]: namespace,
      [ENV_CONTROLLER_SPEC_CONFIGMAP]: specConfigMapName(name),
      [ENV_CONTROLLER_STATE_CONFIGMAP]: stateConfigMapName(name),
    };
    try {
      const r = await runTick(conn, one, now, (line) => log({ rollout: name, ...line }));
      rollouts[i] = { name, ok: !r.failed, tickSeconds: r.tickSeconds, active: r.decision?.state.phase === 'progressing' };
    } catch (e) {
      const error = (e as Error).message;
      log({ rollout: name, level: 'error', error });
      rollouts[i] = { name, ok: false, error };
    }
  };
  // a few rollouts at a time: 300 rollouts fit in one tick, and a slow one (a trickling answer, bounded by the
  // client's deadline) holds one lane, not the others
  let next = 0;
  const lanes = Array.from({ length: Math.min(PARALLEL_ROLLOUTS, names.length) }, async () => {
    while (next < names.length) await tickOne(next++);
  });
  await Promise.all(lanes);
  log({ level: 'info', msg: `namespace ${namespace}: ${names.length} rollout(s) ticked, ${rollouts.filter((r) => !r.ok).length} failed` });
  return { rollouts, failed: rollouts.some((r) => !r.ok) };
}

/** Sub-minute ticks start at most this long after the run's first tick (the Job ends at 58 s: step-controller.ts). */
export const LAST_TICK_OFFSET_SECONDS = 50;

/**
 * One CronJob run: tick every rollout of the namespace, then tick again the rollouts in progress whose
 * `tickSeconds` is under a minute, every `tickSeconds` from the run's start until `LAST_TICK_OFFSET_SECONDS`
 * (6 ticks a minute at 10 s). A rollout stops being re-ticked once it is not progressing (paused, promoted,
 * aborted) or fails; an idle namespace's run ends after its first pass. `sleep` and `clock` are injectable.
 */
export async function runMinute(
  conn: KubeConnection,
  env: NodeJS.ProcessEnv,
  options: {
    readonly clock?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly log?: (line: Record<string, unknown>) => void;
  } = {},
): Promise<NamespaceTickResult> {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = clock();
  const first = await runNamespace(conn, env, start, options.log ?? defaultLog(start));
  let failed = first.failed;
  let fast = first.rollouts.filter((r) => r.ok && r.active && (r.tickSeconds ?? TICK_SECONDS) < TICK_SECONDS);
  // every tick divides a minute: their greatest common divisor is the slot every due tick falls on
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const step = fast.reduce((g, r) => gcd(g, r.tickSeconds!), TICK_SECONDS);
  for (let offset = step; fast.length > 0 && offset <= LAST_TICK_OFFSET_SECONDS; offset += step) {
    const due = fast.filter((r) => offset % r.tickSeconds! === 0);
    if (due.length === 0) continue;
    const wait = start + offset * 1000 - clock();
    if (wait > 0) await sleep(wait);
    // a slow pass ran past this slot: skip to the next one rather than tick late twice
    if (clock() - start > (offset + step / 2) * 1000) continue;
    const now = clock();
    const single = !!env[ENV_CONTROLLER_SPEC_CONFIGMAP];
    const r = await runNamespace(conn, env, now, options.log ?? defaultLog(now), single ? undefined : due.map((x) => x.name));
    failed = failed || r.failed;
    const stillFast = new Set(r.rollouts.filter((x) => x.ok && x.active).map((x) => x.name));
    fast = fast.filter((x) => !due.includes(x) || stillFast.has(x.name));
  }
  return { rollouts: first.rollouts, failed };
}

if (require.main === module) {
  Promise.resolve().then(() => runMinute(inClusterConnection(), process.env)).then(
    (r) => { process.exitCode = r.failed ? 1 : 0; },
    (e: Error) => {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', error: e.message })}\n`);
      process.exitCode = 1;
    },
  );
}

function defaultLog(now: number): (line: Record<string, unknown>) => void {
  return (line) => process.stdout.write(`${JSON.stringify({ time: new Date(now).toISOString(), ...line })}\n`);
}
