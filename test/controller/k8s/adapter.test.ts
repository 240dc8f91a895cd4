/**
 * The Kubernetes adapter and CronJob entrypoint against the kube twin on loopback (test/support/kube-twin), which
 * enforces authentication, RBAC (403), 404s and resourceVersion conflicts (409, and 422 for a failed JSON-patch test).
 */
import { HttpRouteRouter, weightsFromRules } from '../../../src/controller/k8s/adapter';
import { KubeClient, paths } from '../../../src/controller/k8s/kube-client';
import { runTick } from '../../../src/controller/k8s/main';
import { STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../../../src/core/constants';
import { KubernetesTarget } from '../../../src/core/contract/target';
import { renderHttpRouteRules } from '../../../src/core/routes/gateway-api';
import { RolloutSpec } from '../../../src/core/spec';
import { KubeTwin } from '../../support/kube-twin';
import { rolloutSpec } from '../../support/spec-fixture';

const NS = 'models';
const MIN = 60_000;
const spec: RolloutSpec = rolloutSpec();
const target: KubernetesTarget = {
  kind: 'kubernetes',
  namespace: NS,
  httpRoute: 'llama-production',
  pathPrefix: '/llama',
  backends: {
    v1: { service: 'llama-production-v1', port: 8080, deployment: 'llama-production-v1', scaledObject: 'llama-production-v1', baseReplicas: 4 },
    v2: { service: 'llama-production-v2', port: 8080, deployment: 'llama-production-v2', scaledObject: 'llama-production-v2', baseReplicas: 0 },
  },
  routing: { kind: 'random' },
  pins: [{ version: 'v2', header: { name: 'x-model-version', value: 'v2' } }],
};
const env = { ROLLOUT_NAMESPACE: NS, ROLLOUT_SPEC_CONFIGMAP: 'llama-rollout-spec', ROLLOUT_STATE_CONFIGMAP: 'llama-rollout-state' };
const p = {
  spec: paths.configMap(NS, env.ROLLOUT_SPEC_CONFIGMAP),
  state: paths.configMap(NS, env.ROLLOUT_STATE_CONFIGMAP),
  route: paths.httpRoute(NS, target.httpRoute),
  d1: paths.deployment(NS, 'llama-production-v1'),
  d2: paths.deployment(NS, 'llama-production-v2'),
  so1: paths.scaledObject(NS, 'llama-production-v1'),
  so2: paths.scaledObject(NS, 'llama-production-v2'),
};

/** The RBAC of src/controller/README.md as Role rules, by object name; `routePatch: false` leaves out patching the route. */
function rbac({ routePatch = true } = {}) {
  const so = [target.backends.v1.scaledObject!, target.backends.v2.scaledObject!];
  return [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: [env.ROLLOUT_SPEC_CONFIGMAP, env.ROLLOUT_STATE_CONFIGMAP] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['patch'], resourceNames: [env.ROLLOUT_STATE_CONFIGMAP] },
    { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: routePatch ? ['get', 'patch'] : ['get'], resourceNames: [target.httpRoute] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: [target.backends.v1.deployment, target.backends.v2.deployment] },
    { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get', 'patch'], resourceNames: so },
    // phase changes as Events (create, no resourceNames: a new Event's name is not known in advance)
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ];
}
const SA = 'model-rollout-controller';

function seed(api: KubeTwin, ready2 = 0) {
  api.seedAt(p.spec, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: env.ROLLOUT_SPEC_CONFIGMAP, namespace: NS }, data: { [STATE_KEY_SPEC]: JSON.stringify(spec), [STATE_KEY_TARGET]: JSON.stringify(target) } } as any);
  api.seedAt(p.state, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: env.ROLLOUT_STATE_CONFIGMAP, namespace: NS } } as any);
  api.seedAt(p.route, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: target.httpRoute, namespace: NS }, spec: { rules: renderHttpRouteRules(spec, target, { v1: 100, v2: 0 }) } } as any);
  api.seedAt(p.d1, { metadata: { name: 'llama-production-v1' }, spec: { replicas: 4 }, status: { readyReplicas: 4 } } as any);
  api.seedAt(p.d2, { metadata: { name: 'llama-production-v2' }, spec: { replicas: ready2 }, status: { readyReplicas: ready2 } } as any);
  api.seedAt(p.so1, { metadata: { name: 'llama-production-v1' }, spec: { minReplicaCount: 4, maxReplicaCount: 8 } } as any);
  api.seedAt(p.so2, { metadata: { name: 'llama-production-v2' }, spec: { minReplicaCount: 0, maxReplicaCount: 8 } } as any);
}

describe('Kubernetes adapter against the kube twin', () => {
  let api: KubeTwin;
  let token: string;
  const conn = () => ({ server: api.url, token });
  const quiet = () => undefined;
  beforeEach(async () => {
    api = await KubeTwin.start();
    token = api.tokenWithRole(NS, SA, rbac());
  });
  afterEach(async () => api.stop());

  test('ticks write the state, raise the canary floor first, then move the route once the canary is ready', async () => {
    seed(api);
    // WHEN: the first tick pre-warms
    const first = await runTick(conn(), env, 0, quiet);
    // THEN
    expect(first.applied).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 2 }]);
    expect(api.at(p.so2).spec.minReplicaCount).toBe(2);
    expect(JSON.parse(api.at(p.state).data[STATE_KEY_STATE]).phase).toBe('progressing');
    // WHEN: the canary becomes ready (KEDA + the GPU node did their part) and the first pause is over
    api.modifyAt(p.d2, (o) => { o.status.readyReplicas = 2; });
    const durations: number[] = [];
    const second = await runTick(conn(), env, MIN, quiet);
    durations.push(second.millis);
    // THEN: the route now splits 90/10, pins first
    const rules = api.at(p.route).spec.rules;
    expect(weightsFromRules(spec, target, rules)).toEqual({ v1: 90, v2: 10 });
    expect(rules[0].matches[0].headers[0]).toEqual({ type: 'Exact', name: 'x-model-version', value: 'v2' });
    for (let i = 2; i < 7; i++) durations.push((await runTick(conn(), env, i * MIN, quiet)).millis);
    durations.sort((a, b) => a - b);
    console.log(`tick against the kube twin: median ${durations[Math.floor(durations.length / 2)]} ms over ${durations.length} ticks`);
  });

  test('a concurrent write to the state (a failed resourceVersion test: 422, as the API server answers it) stops the tick before it acts', async () => {
    seed(api, 4);
    await runTick(conn(), env, 0, quiet);
    const routeBefore = JSON.stringify(api.at(p.route));
    api.beforeWrite = (e) => { if (e.verb === 'patch' && e.name === env.ROLLOUT_STATE_CONFIGMAP) api.modifyAt(p.state); };
    const r = await runTick(conn(), env, MIN, quiet);
    expect(r.conflict).toMatch(/changed since resourceVersion/);
    expect(r.applied).toEqual([]);
    expect(JSON.stringify(api.at(p.route))).toBe(routeBefore);
    expect(api.requests.some((q) => q.status === 422)).toBe(true);
  });

  test('a route changed by someone else between read and write is read again and patched', async () => {
    seed(api, 4);
    await runTick(conn(), env, 0, quiet);
    let once = true;
    api.beforeWrite = (e) => { if (e.verb === 'patch' && e.name === target.httpRoute && once) { once = false; api.modifyAt(p.route); } };
    await runTick(conn(), env, MIN, quiet);
    expect(weightsFromRules(spec, target, api.at(p.route).spec.rules)).toEqual({ v1: 90, v2: 10 });
  });

  test('a missing state ConfigMap (404) fails the tick with the object named, and nothing is written', async () => {
    seed(api);
    api.deleteAt(p.state);
    await expect(runTick(conn(), env, 0, quiet)).rejects.toThrow(/HTTP 404.*configmaps \\"llama-rollout-state\\" not found/);
    expect(api.requests.filter((q) => q.method === 'PATCH')).toEqual([]);
  });

  test('RBAC without patch on the HTTPRoute (403): the tick reports the failed action; once granted, the next tick repairs', async () => {
    seed(api, 4);
    api.tokenWithRole(NS, SA, rbac({ routePatch: false }));
    await runTick(conn(), env, 0, quiet);
    const r = await runTick(conn(), env, MIN, quiet);
    expect(r.failed?.action.kind).toBe('setWeights');
    expect(r.failed?.error).toMatch(/HTTP 403/);
    api.tokenWithRole(NS, SA, rbac());
    await runTick(conn(), env, 2 * MIN, quiet);
    expect(weightsFromRules(spec, target, api.at(p.route).spec.rules)).toEqual({ v1: 90, v2: 10 });
  });

  test('a CRD older than Gateway API v1.3 that prunes RequestMirror.percent: the mirror is taken off, the tick fails with the fix', async () => {
    // GIVEN an HTTPRoute CRD that prunes `percent` (it would mirror 100 % to a shadow sized for 5 %)
    const mirrored: RolloutSpec = { ...spec, mirror: { version: 'v2', percent: 5 } };
    const router = new HttpRouteRouter(new KubeClient(conn()), mirrored, target);
    seed(api, 4);
    api.prune = (e, obj: any) => {
      if (e.name !== target.httpRoute) return;
      for (const r of obj.spec?.rules ?? []) for (const f of r.filters ?? []) if (f.requestMirror) delete f.requestMirror.percent;
    };
    // WHEN the controller sends weights with the mirror
    await expect(router.setWeights({ v1: 90, v2: 10 })).rejects.toThrow(/dropped RequestMirror\.percent .*install the Gateway API v1\.3\+ standard CRDs/);
    // THEN no rule mirrors anything, and the weights are on the route
    const rules = api.at(p.route).spec.rules;
    expect(rules.some((r: any) => (r.filters ?? []).some((f: any) => f.type === 'RequestMirror'))).toBe(false);
    expect(weightsFromRules(spec, target, rules)).toEqual({ v1: 90, v2: 10 });
  });
  test('only the documented RBAC is used: every request of a rollout is on the allow-list', async () => {
    seed(api, 4);
    for (let i = 0; i < 14; i++) await runTick(conn(), env, i * MIN, quiet);
    expect(api.requests.filter((q) => q.status === 403)).toEqual([]);
    expect(JSON.parse(api.at(p.state).data[STATE_KEY_STATE]).phase).toBe('promoted');
    expect(api.at(p.so1).spec.minReplicaCount).toBe(0);
  });
});

describe('weights read back from rules', () => {
  test.each([[0], [1], [37], [99], [100]])('sticky bucket rules at %i %% read back as rendered', (w) => {
    const sticky: KubernetesTarget = { ...target, routing: { kind: 'headerHash', header: 'x-user-id' } };
    const weights = { v1: 100 - w, v2: w };
    expect(weightsFromRules(spec, sticky, renderHttpRouteRules(spec, sticky, weights))).toEqual(weights);
  });

});
