/**
 * The in-cluster step controller: one tick per CronJob run (every minute, concurrencyPolicy Forbid), for every
 * rollout of its namespace. Bundled by the build into assets/controller/k8s/main/index.js and run by a stock Node
 * image.
 *
 * Which rollouts: those whose spec ConfigMap the controller's ServiceAccount may read. It asks the API server
 * (SelfSubjectRulesReview, open to every authenticated user) instead of listing ConfigMaps, so it needs no `list`
 * and each rollout's own RoleBinding is what enrols it. One rollout's failure (a bad spec, a 422, a deleted
 * object) is logged and recorded on its own, and never stops the others.
 */
import {
  ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_PROMETHEUS_URL, ENV_CONTROLLER_SPEC_CONFIGMAP, ENV_CONTROLLER_STATE_CONFIGMAP,
  specConfigMapName, stateConfigMapName,
} from '../../core/constants';
import { NotifierSink } from '../notify';
import { Metrics } from '../ports';
import { PrometheusMetrics } from '../prometheus';
import { tick } from '../tick';
import { ConfigMapStore, HttpRouteRouter, WorkloadCapacity } from './adapter';
import { KubeEventSink } from './events';
import { inClusterConnection, inClusterNamespace, KubeClient, KubeConnection } from './kube-client';

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
    throw new Error(`set ${ENV_CONTROLLER_NAMESPACE}, ${ENV_CONTROLLER_SPEC_CONFIGMAP} and ${ENV_CONTROLLER_STATE_CONFIGMAP}`);
  }
  const kube = new KubeClient(conn);
  const store = new ConfigMapStore(kube, { namespace, specConfigMap, stateConfigMap });
  // the router and capacity ports need the spec and target: read them once, the tick reads again (cheap GETs)
  await store.read();
  const spec = store.spec!;
  const target = store.target!;
  const prometheusUrl = target.prometheusUrl ?? env[ENV_CONTROLLER_PROMETHEUS_URL];
  const metrics: Metrics = prometheusUrl
    ? new PrometheusMetrics(prometheusUrl, { namespace })
    : { measure: async (_s, versions) => Object.fromEntries(versions.map((v) => [v, {}])) };
  return tick({
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
        if (value === undefined) throw new Error(`Secret ${ref.name} has no key "${ref.key}"`);
        return Buffer.from(value, 'base64').toString('utf8');
      }, namespace)] : []),
    ],
  }, now);
}

/** Names of the rollouts the controller may tick in `namespace`: the spec ConfigMaps its Roles name. */
export async function discoverRollouts(kube: KubeClient, namespace: string): Promise<string[]> {
  const review = await kube.create('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace },
  });
  const names = new Set<string>();
  for (const rule of review.status?.resourceRules ?? []) {
    if (!(rule.apiGroups ?? []).includes('') || !(rule.resources ?? []).includes('configmaps') || !(rule.verbs ?? []).includes('get')) continue;
    for (const n of rule.resourceNames ?? []) {
      const m = /^(.+)-rollout-spec$/.exec(n);
      if (m) names.add(m[1]);
    }
  }
  return [...names].sort();
}

/** Rollouts ticked at the same time by one namespace controller. */
const PARALLEL_ROLLOUTS = 8;

/** The outcome of one namespace tick: each rollout's, in order. */
export interface NamespaceTickResult {
  readonly rollouts: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly error?: string }>;
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
): Promise<NamespaceTickResult> {
  const namespace = env[ENV_CONTROLLER_NAMESPACE] || inClusterNamespace();
  if (!namespace) throw new Error(`set ${ENV_CONTROLLER_NAMESPACE}`);
  // one rollout named by the environment: the single-rollout mode of earlier versions (and of tests)
  if (env[ENV_CONTROLLER_SPEC_CONFIGMAP]) {
    const r = await runTick(conn, env, now, log);
    return { rollouts: [{ name: String(env[ENV_CONTROLLER_SPEC_CONFIGMAP]), ok: !r.failed }], failed: !!r.failed };
  }
  const names = await discoverRollouts(new KubeClient(conn), namespace);
  const rollouts: Array<{ name: string; ok: boolean; error?: string }> = new Array(names.length);
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
      rollouts[i] = { name, ok: !r.failed };
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

if (require.main === module) {
  Promise.resolve().then(() => runNamespace(inClusterConnection(), process.env)).then(
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
