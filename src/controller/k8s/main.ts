/**
 * The in-cluster step controller: one tick per CronJob run (every minute, concurrencyPolicy Forbid).
 * Bundled by the build into assets/controller/k8s/main/index.js and run by a stock Node image.
 */
import { ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_PROMETHEUS_URL, ENV_CONTROLLER_SPEC_CONFIGMAP, ENV_CONTROLLER_STATE_CONFIGMAP } from '../../core/constants';
import { Metrics } from '../ports';
import { PrometheusMetrics } from '../prometheus';
import { tick } from '../tick';
import { ConfigMapStore, HttpRouteRouter, WorkloadCapacity } from './adapter';
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
  const prometheusUrl = env[ENV_CONTROLLER_PROMETHEUS_URL];
  const metrics: Metrics = prometheusUrl
    ? new PrometheusMetrics(prometheusUrl, { namespace })
    : { measure: async (_s, versions) => Object.fromEntries(versions.map((v) => [v, {}])) };
  return tick({
    store,
    router: new HttpRouteRouter(kube, spec, target),
    capacity: new WorkloadCapacity(kube, target),
    metrics,
    log,
  }, now);
}

if (require.main === module) {
  Promise.resolve().then(() => runTick(inClusterConnection(), process.env)).then(
    (r) => { process.exitCode = r.failed ? 1 : 0; },
    (e: Error) => {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', error: e.message })}\n`);
      process.exitCode = 1;
    },
  );
}
