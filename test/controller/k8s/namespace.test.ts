/**
 * The namespace controller (one CronJob per namespace) against the kube twin, with exactly the objects the
 * constructs synthesize: it finds its rollouts through the Roles it is granted, ticks each, keeps going when one is
 * broken, and makes no writes when every rollout is idle. RBAC is the synthesized Roles', enforced by the twin.
 */
import { ConfigMapStore } from '../../../src/controller/k8s/adapter';
import { KubeClient } from '../../../src/controller/k8s/kube-client';
import { runMinute, runNamespace } from '../../../src/controller/k8s/main';
import { specConfigMapName, stateConfigMapName } from '../../../src/core/constants';
import { KubeTwin, World } from '../../support/kube-twin';
import { findKind } from '../../support/kube-twin/resources';
import { namespaceRollouts, NS } from '../../support/namespace-rollouts';

const manifests = (names: string[]) => namespaceRollouts(names.map((name) => ({ name })));

describe('one controller per namespace', () => {
  let twin: KubeTwin;
  beforeEach(async () => {
    twin = await KubeTwin.start();
    twin.seedNamespaces(NS, 'gateways');
  });
  afterEach(async () => twin.stop());

  const conn = () => ({ server: twin.url, token: twin.serviceAccountToken(NS, 'model-rollout-controller-chart') });
  const quiet = () => undefined;

  test('ticks every rollout it is granted; a broken one is reported and the others go on; idle rollouts cost no writes', async () => {
    // GIVEN three rollouts, the middle one with a spec the controller cannot read
    const objects = manifests(['llama', 'mistral', 'qwen']);
    for (const o of objects) {
      if (o.kind === 'ConfigMap' && o.metadata.name === 'mistral-production-rollout-spec') o.data['spec.json'] = '{ not json';
      twin.seed(o);
    }
    const world = new World(twin);
    world.reconcile();
    // WHEN the namespace's controller ticks
    const first = await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 0, quiet);
    // THEN it found all three by their grants, ticked the healthy two and reported the broken one
    expect(first.rollouts.map((r) => [r.name, r.ok])).toEqual([['llama-production', true], ['mistral-production', false], ['qwen-production', true]]);
    expect(first.failed).toBe(true);
    for (const n of ['llama', 'qwen']) {
      expect(JSON.parse((twin.object('v1', 'ConfigMap', NS, `${n}-production-rollout-state`) as any).data['state.json']).phase).toBe('progressing');
    }
    // no request was refused by the synthesized RBAC
    expect(twin.requests.filter((r) => r.status === 403)).toEqual([]);
  });

  test('a tick of idle rollouts only reads', async () => {
    // GIVEN two rollouts already over (aborted: every canary at 0, nothing to do)
    const objects = manifests(['llama', 'qwen']);
    for (const o of objects) twin.seed(o);
    new World(twin).reconcile();
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 0, quiet);
    for (const n of ['llama', 'qwen']) {
      twin.modify('v1', 'ConfigMap', NS, `${n}-production-rollout-state`, (cm: any) => {
        const state = JSON.parse(cm.data['state.json']);
        cm.data['state.json'] = JSON.stringify({ ...state, phase: 'aborted', reason: 'test', finishedAt: 0 });
      }, 'test');
    }
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 60_000, quiet);
    // the tick after that records each abort as settled (route and floors verified): one write each
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 120_000, quiet);
    const before = twin.requests.length;
    // WHEN the next minute's tick runs
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 180_000, quiet);
    const tick = twin.requests.slice(before);
    // THEN it read each rollout's spec and state only (core/decide/settle.ts) and wrote nothing
    const writes = tick.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectrulesreviews'));
    expect(writes).toEqual([]);
    expect(tick.filter((r) => r.method === 'GET').length).toBeGreaterThan(0);
    // one list per kind per pass, whatever the number of rollouts; no object of a rollout read by name
    expect(tick.filter((r) => r.method === 'GET' && r.query.includes('labelSelector')).map((r) => r.path.split('/').pop()).sort())
      .toEqual(['configmaps', 'deployments', 'horizontalpodautoscalers', 'httproutes', 'scaledobjects']);
    expect(tick.filter((r) => r.method === 'GET' && /-rollout-(spec|state)$|\/deployments\/|\/httproutes\//.test(r.path))).toEqual([]);
    console.log(`namespace controller, 2 idle rollouts: ${tick.length} requests in one tick, ${writes.length} writes`);
  });

  const stateOf = (rollout: string) => {
    const raw = (twin.object('v1', 'ConfigMap', NS, stateConfigMapName(rollout)) as any).data?.['state.json'];
    return raw ? JSON.parse(raw) : undefined;
  };

  test('a rollout removed from the code but not pruned is not ticked: the owner list no longer names it', async () => {
    // GIVEN the app had two rollouts; qwen then left the code and the sync did not prune its objects
    for (const o of manifests(['llama', 'qwen'])) twin.seed(o);
    new World(twin).reconcile();
    const list = manifests(['llama']).find((o) => o.data?.['rollouts.json']);
    twin.modify('v1', 'ConfigMap', NS, list.metadata.name, (cm: any) => { cm.data = list.data; }, 'kubectl');
    const lines: Array<Record<string, unknown>> = [];
    // WHEN the controller ticks with its synthesized environment
    const r = await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS, ROLLOUT_CONTROLLER_ROLLOUTS: list.metadata.name }, 0, (l) => lines.push(l));
    // THEN only llama was ticked; qwen's state was never written, and the log says how to clean up
    expect(r.rollouts.map((x) => x.name)).toEqual(['llama-production']);
    expect(stateOf('llama-production')?.phase).toBe('progressing');
    expect(stateOf('qwen-production')).toBeUndefined();
    expect(lines.some((l) => /not ticking qwen-production: .* no longer lists them.*kubectl -n models delete/.test(String(l.msg)))).toBe(true);
  });

  test('a pass cut short ticks the rollouts with a command first, and the next pass starts with those it did not reach', async () => {
    // GIVEN twenty rollouts in progress (more than the pass's eight lanes) and a cancel for the alphabetically last
    const names = 'abcdefghijklmnopqrst'.split('');
    for (const o of manifests(names)) twin.seed(o);
    new World(twin).reconcile();
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 0, quiet);
    const admin = new KubeClient({ server: twin.url, token: twin.adminToken });
    await new ConfigMapStore(admin, { namespace: NS, specConfigMap: specConfigMapName('t-production'), stateConfigMap: stateConfigMapName('t-production') })
      .appendCommand('cancel', 'c1', 1);
    // WHEN a pass is stopped (a deadline or SIGTERM) as soon as one tick is done: the eight lanes' first rollouts ran
    let ticked: string[] = [];
    const log = (l: Record<string, unknown>) => { if ('phase' in l) ticked.push(String(l.rollout)); };
    const run = { reached: new Map<string, number>(), gates: new Map(), stopping: () => ticked.length >= 1 };
    const first = await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 10_000, log, undefined, run);
    // THEN the cancel was among them and handled; the rest are reported not reached (not failed)
    expect(ticked).toHaveLength(8);
    expect(ticked).toContain('t-production');
    expect(stateOf('t-production').phase).toBe('aborted');
    expect(first.rollouts.filter((x) => x.skipped).length).toBe(12);
    expect(first.failed).toBe(false);
    // AND the next pass starts with those it did not reach
    const reachedFirst = new Set(ticked);
    ticked = [];
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 20_000, log, undefined, run);
    expect(ticked).toHaveLength(8);
    expect(ticked.filter((n) => reachedFirst.has(n))).toEqual([]);
  });

  test('a rollout whose tick fails gets a Warning Event; the run does not fail for it', async () => {
    for (const o of manifests(['llama', 'mistral'])) {
      if (o.kind === 'ConfigMap' && o.metadata.name === 'mistral-production-rollout-spec') o.data['spec.json'] = '{ not json';
      twin.seed(o);
    }
    new World(twin).reconcile();
    let t = 1_700_000_000_000;
    const r = await runMinute(conn(), { ROLLOUT_NAMESPACE: NS }, { clock: () => t, sleep: async (ms) => { t += ms; }, log: quiet });
    expect(r.rollouts.find((x) => x.name === 'mistral-production')?.ok).toBe(false);
    const events = twin.store.list(findKind('v1', 'Event')!, NS).filter((o: any) => o.reason === 'TickFailed');
    expect(events.map((e: any) => [e.involvedObject.name, e.type])).toEqual([['mistral-production-rollout-state', 'Warning']]);
  });
});
