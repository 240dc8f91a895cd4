/**
 * Per-class tests at the adapters, the tick runner, the HTTP client and the CLI (the numbering), against
 * the kube twin (answers like the real API server: 422 for a failed JSON-patch test, 409 for a stale update,
 * 422 for a change to an immutable ConfigMap) and the in-memory world.
 */
import { request } from '../../src/controller/http-request';
import { weightsFromRules } from '../../src/controller/k8s/adapter';
import { KubeClient, paths } from '../../src/controller/k8s/kube-client';
import { runTick } from '../../src/controller/k8s/main';
import { tick } from '../../src/controller/tick';
import { STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../../src/core/constants';
import { KubernetesTarget } from '../../src/core/contract/target';
import { renderHttpRouteRules } from '../../src/core/routes/gateway-api';
import { KubeTwin } from '../support/kube-twin';
import { RolloutWorld } from '../support/rollout-world';
import { kubernetesTarget, rolloutSpec } from '../support/spec-fixture';

const NS = 'models';
const MIN = 60_000;
const UNKNOWN = '(unknown backend)';
const spec = rolloutSpec();
const target: KubernetesTarget = kubernetesTarget();

describe('class 3: the route read back with backends outside the target', () => {
  test('class 3: random routing: a replaced canary\'s backend is reported, not "unreadable"', () => {
    const rules = renderHttpRouteRules(spec, { ...target, backends: { ...target.backends, v2: { ...target.backends.v2, service: 'llama-old' } } }, { v1: 70, v2: 30 });
    expect(weightsFromRules(spec, target, rules)).toEqual({ v1: 70, v2: 0, [UNKNOWN]: 30 });
  });

  test('class 3: sticky routing: an unknown bucket rule is not counted as the stable version', () => {
    const sticky: KubernetesTarget = { ...target, routing: { kind: 'headerHash', header: 'x-user' } };
    const rules = renderHttpRouteRules(spec, { ...sticky, backends: { ...sticky.backends, v2: { ...sticky.backends.v2, service: 'llama-old' } } }, { v1: 70, v2: 30 });
    expect(weightsFromRules(spec, sticky, rules)).toEqual({ v1: 70, v2: 0, [UNKNOWN]: 30 });
  });
});

describe('class 6: a failed scale-down after promotion (world)', () => {
  test('class 6: the previous version is scaled down again when the first scale-down failed', async () => {
    const world = new RolloutWorld(rolloutSpec({ keepPreviousWarmSeconds: 0 }), { coldStartMs: 0 });
    // the first scale-down of the previous version fails (a 5xx); the next tick must not believe it happened
    world.faults.scaleDown = 1;
    for (let i = 0; i < 18; i++) { await tick(world.ports(), world.now); world.now += MIN; }
    expect(world.state!.phase).toBe('promoted');
    expect(world.logs.some((l) => (l.failed as any)?.action?.kind === 'scaleDown')).toBe(true);
    expect(world.floors.v1).toBe(0);
    expect(world.ready('v1')).toBe(0);
    expect(world.router).toEqual({ v1: 0, v2: 100 });
  });
});

describe('class 7: resends through the capacity gate (world)', () => {
  test('class 7: a failed route write, then a node loss: the resend waits until the canary is ready again', async () => {
    const world = new RolloutWorld(rolloutSpec(), { coldStartMs: 2 * MIN });
    for (let i = 0; i < 8; i++) { await tick(world.ports(), world.now); world.now += MIN; }
    expect(world.router.v2).toBeGreaterThan(0);
    world.faults.setWeights = 1;
    await tick(world.ports(), world.now);
    world.now += MIN;
    world.loseReplicas('v2', 4);
    const served = world.router.v2;
    for (let i = 0; i < 4; i++) {
      await tick(world.ports(), world.now);
      // a share above what the router served at the loss only on ready replicas
      if (world.router.v2 > served) expect(world.capacityHolds()).toBe(true);
      world.now += MIN;
    }
    expect(world.state!.weights.v2).toBeGreaterThan(served);
  });
});

describe('class 13: run-time errors are told apart', () => {
  let api: KubeTwin;
  let token: string;
  const env = { ROLLOUT_NAMESPACE: NS, ROLLOUT_SPEC_CONFIGMAP: 'llama-rollout-spec', ROLLOUT_STATE_CONFIGMAP: 'llama-rollout-state' };
  const p = { spec: paths.configMap(NS, env.ROLLOUT_SPEC_CONFIGMAP), state: paths.configMap(NS, env.ROLLOUT_STATE_CONFIGMAP), route: paths.httpRoute(NS, 'llama') };
  beforeEach(async () => {
    api = await KubeTwin.start();
    token = api.adminToken;
    const specData = { [STATE_KEY_SPEC]: JSON.stringify(spec), [STATE_KEY_TARGET]: JSON.stringify(target) };
    api.seedAt(p.spec, { metadata: { name: env.ROLLOUT_SPEC_CONFIGMAP }, data: specData } as any);
    api.seedAt(p.route, { metadata: { name: 'llama' }, spec: { rules: renderHttpRouteRules(spec, target, { v1: 100, v2: 0 }) } } as any);
    for (const v of ['v1', 'v2']) api.seedAt(paths.deployment(NS, `llama-${v}`), { metadata: { name: `llama-${v}` }, spec: { replicas: 4 }, status: { readyReplicas: 4 } } as any);
  });
  afterEach(async () => api.stop());

  test('class 13: an immutable state ConfigMap is a permanent rejection (an error, non-zero exit), not a conflict', async () => {
    api.seedAt(p.state, { metadata: { name: env.ROLLOUT_STATE_CONFIGMAP }, immutable: true, data: {} } as any);
    const failure = runTick({ server: api.url, token }, env, 0, () => undefined);
    await expect(failure).rejects.toMatchObject({ kind: 'rejected', status: 422 });
    await expect(runTick({ server: api.url, token }, env, 0, () => undefined)).rejects.toThrow(/refuses writes.*immutable/);
    expect(api.at(p.state).data[STATE_KEY_STATE]).toBeUndefined();
  });

  test('class 13: a stale resourceVersion on update is a 409 conflict; a failed JSON-patch test a 422', async () => {
    api.seedAt(p.state, { metadata: { name: env.ROLLOUT_STATE_CONFIGMAP }, data: {} } as any);
    const kube = new KubeClient({ server: api.url, token });
    await expect(request(`${api.url}${p.state}`, { method: 'PUT', headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: env.ROLLOUT_STATE_CONFIGMAP, resourceVersion: '1' } }) }))
      .rejects.toMatchObject({ kind: 'conflict', status: 409 });
    await expect(kube.jsonPatch(p.state, [{ op: 'test', path: '/metadata/resourceVersion', value: '1' }])).rejects.toMatchObject({ kind: 'rejected', status: 422 });
  });

  test('class 13: Retry-After on a 429 is honoured (bounded) and the request then succeeds', async () => {
    api.seedAt(p.state, { metadata: { name: env.ROLLOUT_STATE_CONFIGMAP }, data: {} } as any);
    api.inject({ path: p.state, status: 429, retryAfter: '1' });
    const started = Date.now();
    const kube = new KubeClient({ server: api.url, token });
    await expect(kube.get(p.state)).resolves.toMatchObject({ metadata: { name: env.ROLLOUT_STATE_CONFIGMAP } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    // a Retry-After past the bound is not waited for: the error comes back at once
    api.inject({ path: p.state, status: 503, retryAfter: '120' });
    await expect(kube.get(p.state)).rejects.toMatchObject({ kind: 'unavailable', status: 503, retryAfterMs: 120_000 });
  });

  test('class 13: the client timeout is a deadline: a trickling answer does not hold the tick', async () => {
    api.inject({ path: p.route, trickleMs: 50 });
    const started = Date.now();
    const kube = new KubeClient({ server: api.url, token, timeoutMs: 400 });
    await expect(kube.get(p.route)).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
