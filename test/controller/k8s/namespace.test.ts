/**
 * The namespace controller (one CronJob per namespace) against the kube twin, with exactly the objects the
 * constructs synthesize: it finds its rollouts through the Roles it is granted, ticks each, keeps going when one is
 * broken, and makes no writes when every rollout is idle. RBAC is the synthesized Roles', enforced by the twin.
 */
import { runNamespace } from '../../../src/controller/k8s/main';
import { KubeTwin, World } from '../../support/kube-twin';
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
    const before = twin.requests.length;
    // WHEN the next minute's tick runs
    await runNamespace(conn(), { ROLLOUT_NAMESPACE: NS }, 120_000, quiet);
    const tick = twin.requests.slice(before);
    // THEN it read (the review, then each rollout's objects) and wrote nothing
    const writes = tick.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectrulesreviews'));
    expect(writes).toEqual([]);
    expect(tick.filter((r) => r.method === 'GET').length).toBeGreaterThan(0);
    console.log(`namespace controller, 2 idle rollouts: ${tick.length} requests in one tick, ${writes.length} writes`);
  });
});
