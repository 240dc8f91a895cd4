/**
 * Sub-minute ticks of the namespace controller (`runMinute`): one CronJob run ticks every rollout once, then the
 * rollouts in progress again every `tickSeconds` until 50 s into the run; idle rollouts cost one pass, as before.
 * Against the kube twin with the objects the constructs synthesize; the clock and the sleep are fakes that advance
 * a counter (the real ones are Date.now and setTimeout).
 */
import { runMinute } from '../../../src/controller/k8s/main';
import { KubeTwin, World } from '../../support/kube-twin';
import { namespaceRollouts, NS } from '../../support/namespace-rollouts';

const manifests = namespaceRollouts;

describe('sub-minute ticks within one CronJob run', () => {
  let twin: KubeTwin;
  beforeEach(async () => {
    twin = await KubeTwin.start();
    twin.seedNamespaces(NS, 'gateways');
  });
  afterEach(async () => twin.stop());

  const conn = () => ({ server: twin.url, token: twin.serviceAccountToken(NS, 'model-rollout-controller-chart') });

  function fakeTime() {
    let t = 1_700_000_000_000;
    const sleeps: number[] = [];
    return { clock: () => t, sleep: async (ms: number) => { sleeps.push(ms); t += ms; }, sleeps };
  }

  function ticksBy(lines: Array<Record<string, unknown>>) {
    const out: Record<string, number> = {};
    for (const l of lines) if (typeof l.rollout === 'string' && 'phase' in l) out[l.rollout] = (out[l.rollout] ?? 0) + 1;
    return out;
  }

  test('rollouts in progress tick every 10 s (default) and every 30 s (their own interval) until 50 s into the run', async () => {
    // GIVEN two rollouts in progress: one at the default tick, one at 30 s
    for (const o of manifests([{ name: 'llama' }, { name: 'qwen', tick: 30 }])) twin.seed(o);
    new World(twin).reconcile();
    const time = fakeTime();
    const lines: Array<Record<string, unknown>> = [];
    // WHEN one CronJob run goes
    const r = await runMinute(conn(), { ROLLOUT_NAMESPACE: NS }, { ...time, log: (l) => lines.push(l) });
    // THEN llama ticked at 0, 10, ..., 50 s and qwen at 0 and 30 s; the run slept on a 10 s grid and ended by 50 s
    expect(r.failed).toBe(false);
    expect(r.rollouts.map((x) => [x.name, x.tickSeconds, x.active])).toEqual([['llama-production', 10, true], ['qwen-production', 30, true]]);
    expect(ticksBy(lines)).toEqual({ 'llama-production': 6, 'qwen-production': 2 });
    expect(time.sleeps).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(twin.requests.filter((x) => x.status === 403)).toEqual([]);
  });

  test('a namespace whose rollouts are over runs one pass and exits (no sleep)', async () => {
    for (const o of manifests([{ name: 'llama' }])) twin.seed(o);
    new World(twin).reconcile();
    // a first run records the real state for this spec; the rollout is then marked over
    await runMinute(conn(), { ROLLOUT_NAMESPACE: NS }, { ...fakeTime(), log: () => undefined });
    twin.modify('v1', 'ConfigMap', NS, 'llama-production-rollout-state', (cm: any) => {
      const state = JSON.parse(cm.data['state.json']);
      cm.data['state.json'] = JSON.stringify({ ...state, phase: 'aborted', reason: 'test', finishedAt: 0 });
    }, 'test');
    const time = fakeTime();
    const lines: Array<Record<string, unknown>> = [];
    const r = await runMinute(conn(), { ROLLOUT_NAMESPACE: NS }, { ...time, log: (l) => lines.push(l) });
    expect(r.rollouts.map((x) => [x.name, x.active])).toEqual([['llama-production', false]]);
    expect(time.sleeps).toEqual([]);
    expect(ticksBy(lines)).toEqual({ 'llama-production': 1 });
  });

  test('a rollout at one tick a minute is not re-ticked', async () => {
    for (const o of manifests([{ name: 'llama', tick: 60 }])) twin.seed(o);
    new World(twin).reconcile();
    const time = fakeTime();
    const lines: Array<Record<string, unknown>> = [];
    await runMinute(conn(), { ROLLOUT_NAMESPACE: NS }, { ...time, log: (l) => lines.push(l) });
    expect(time.sleeps).toEqual([]);
    expect(ticksBy(lines)).toEqual({ 'llama-production': 1 });
  });
});
