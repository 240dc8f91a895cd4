/**
 * The decision trail and the phase changes, through the real `tick()` against the in-memory FAKE world
 * (test/support/rollout-world.ts): the state keeps a bounded history, only on change; `retry` restarts an aborted
 * rollout within the plan and the capacity gate; sinks get each phase change once, and a failing or hanging sink
 * never fails a tick.
 */
import { TickPorts, tick, TransitionSink } from '../../src/controller/tick';
import { decide } from '../../src/core/decide';
import { HISTORY_BYTES, HISTORY_ENTRIES, Transition, transitions, withHistory } from '../../src/core/history';
import { specHash } from '../../src/core/plan/plan';
import { progressAfter } from '../../src/core/schedule';
import { MetricSpec } from '../../src/core/spec';
import { ControllerState } from '../../src/core/state';
import { weightsAt } from '../../src/core/weights';
import { RolloutWorld } from '../support/rollout-world';
import { rolloutSpec } from '../support/spec-fixture';

const MIN = 60_000;
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };

class Recorder implements TransitionSink {
  public readonly seen: Transition[] = [];
  public async publish(_spec: unknown, _state: ControllerState, events: readonly Transition[]) {
    this.seen.push(...events);
  }
}

async function run(world: RolloutWorld, minutes: number, ports: () => TickPorts = () => world.ports(), each?: () => void) {
  for (let i = 0; i < minutes; i++) {
    await tick(ports(), world.now);
    each?.();
    world.now += MIN;
  }
}

describe('history', () => {
  test('an aborted rollout keeps its trail; idle ticks add nothing; retry restarts it from the first step within the plan', async () => {
    // GIVEN a canary whose error rate is bad at first, then fixed
    let bad = true;
    const spec = rolloutSpec({ checks: [errorRate] });
    const world = new RolloutWorld(spec, { coldStartMs: 0, metrics: () => ({ 'error-rate': { value: bad ? 0.3 : 0.001, samples: 1000 } }) });
    const recorder = new Recorder();
    const ports = () => ({ ...world.ports(), sinks: [recorder] });
    // WHEN it runs until aborted, then idles
    await run(world, 6, ports);
    expect(world.state!.phase).toBe('aborted');
    const afterAbort = world.state!.history!.length;
    await run(world, 5, ports);
    // THEN the history holds the start and the abort, and the idle ticks added nothing
    expect(world.state!.history!.length).toBe(afterAbort);
    const events = world.state!.history!.flatMap((e) => e.events ?? []);
    expect(events).toEqual(expect.arrayContaining(['RolloutStarted', 'GateFailed', 'RolloutAborted']));
    expect(world.state!.history![world.state!.history!.length - 1]).toMatchObject({ phase: 'aborted', weights: { v1: 100, v2: 0 } });
    // WHEN the fix is out and a person retries
    bad = false;
    world.appendCommand('retry');
    let over = 0;
    let maxEarly = 0;
    await run(world, 20, ports, () => {
      // THEN after every tick: the canary gets no more than the plan allows at its step, and only on ready replicas
      const s = world.state!;
      const allowed = weightsAt(spec, s.stepIndex >= spec.steps.length ? 100 : progressAfter(spec.steps, s.stepIndex + 1)).v2;
      maxEarly = s.stepIndex <= 1 ? Math.max(maxEarly, world.router.v2) : maxEarly;
      if (world.router.v2 > allowed) over++;
      expect(world.capacityHolds()).toBe(true);
      expect(s.phase).not.toBe('aborted');
    });
    expect(over).toBe(0);
    // the first steps after the retry serve the first steps' weights, not the weights before the abort
    expect(maxEarly).toBeLessThanOrEqual(weightsAt(spec, progressAfter(spec.steps, 2)).v2);
    expect(world.state!.phase).toBe('promoted');
    const after = world.state!.history!.flatMap((e) => e.events ?? []);
    expect(after).toEqual(expect.arrayContaining(['RolloutRetried', 'StepAdvanced', 'RolloutPromoted']));
    // AND the sink saw each phase change once
    expect(recorder.seen.filter((t) => t.reason === 'RolloutAborted')).toHaveLength(1);
    expect(recorder.seen.filter((t) => t.reason === 'RolloutPromoted')).toHaveLength(1);
    expect(recorder.seen.find((t) => t.reason === 'RolloutAborted')).toMatchObject({ type: 'Warning', trigger: 'aborted', message: expect.stringContaining('continuous checks failed') });
  });

  test('retry in any phase but aborted is ignored with the reason; a retry right behind a cancel waits a tick', () => {
    const spec = rolloutSpec();
    const base: ControllerState = { specHash: specHash(spec), phase: 'progressing', stepIndex: 2, stepStartedAt: 0, weights: { v1: 80, v2: 20 }, floors: { v1: 4, v2: 2 }, checkFailures: 0, updatedAt: 0 };
    const obs = { readyReplicas: { v1: 4, v2: 2 }, routerWeights: { v1: 80, v2: 20 }, metrics: {} };
    const ignored = decide(spec, base, { ...obs, commands: [{ id: 'a', kind: 'retry', at: 0, seq: 1 }] }, MIN);
    expect(ignored.reason).toContain('retry ignored: the rollout is progressing, not aborted');
    expect(ignored.state.stepIndex).toBe(2);
    expect(ignored.state.commandSeq).toBe(1);
    // cancel and retry in one batch: the abort goes out alone, the retry stays queued for the next tick
    const both = decide(spec, base, { ...obs, commands: [{ id: 'b', kind: 'cancel', at: 0, seq: 1 }, { id: 'c', kind: 'retry', at: 0, seq: 2 }] }, MIN);
    expect(both.state.phase).toBe('aborted');
    expect(both.state.commandSeq).toBe(1);
    expect(both.reason).toContain('retry deferred to the next tick');
    const next = decide(spec, both.state, { ...obs, routerWeights: { v1: 100, v2: 0 }, commands: [{ id: 'c', kind: 'retry', at: 0, seq: 2 }] }, 2 * MIN);
    expect(next.state).toMatchObject({ phase: 'progressing', stepIndex: 0, commandSeq: 2, checkFailures: 0 });
    expect(next.state.cancelled).toBeUndefined();
    expect(transitions(spec, both.state, next.state, next.reason).map((t) => t.reason)).toContain('RolloutRetried');
  });

  test('the history is bounded in entries and bytes, keeps the newest, and survives a spec change', () => {
    const spec = rolloutSpec();
    let s: ControllerState | undefined;
    for (let i = 0; i < 300; i++) {
      const next: ControllerState = { specHash: `h${Math.floor(i / 100)}`, phase: 'progressing', stepIndex: i % 20, stepStartedAt: i, weights: { v1: 100 - (i % 20), v2: i % 20 }, floors: {}, checkFailures: 0, updatedAt: i * MIN, ...(s?.history ? { history: s.history } : {}) };
      s = withHistory(s, next, `step ${i} ${'x'.repeat(i % 7 === 0 ? 1000 : 10)}`, transitions(spec, s, next, 'r'));
    }
    expect(s!.history!.length).toBeLessThanOrEqual(HISTORY_ENTRIES);
    expect(JSON.stringify(s!.history).length).toBeLessThanOrEqual(HISTORY_BYTES);
    expect(s!.history![s!.history!.length - 1].at).toBe(299 * MIN);
    // reasons are shortened
    expect(Math.max(...s!.history!.map((e) => e.reason.length))).toBeLessThanOrEqual(240);
    // a new spec (restart: a state without history) keeps the trail
    const restarted = withHistory(s, { ...s!, history: undefined, specHash: 'new', stepIndex: 0 }, 'spec changed', []);
    expect(restarted.history!.length).toBe(Math.min(HISTORY_ENTRIES, s!.history!.length + 1));
  });

  test('a sink that throws or hangs is logged and the tick goes on', async () => {
    const world = new RolloutWorld(rolloutSpec(), { coldStartMs: 0, metrics: () => ({}) });
    const recorder = new Recorder();
    const failing: TransitionSink = { publish: async () => { throw new Error('webhook down'); } };
    const hanging: TransitionSink = { publish: () => new Promise(() => undefined) };
    const r = await tick({ ...world.ports(), sinks: [failing, hanging, recorder], sinkTimeoutMs: 50 }, world.now);
    expect(r.failed).toBeUndefined();
    expect(world.state!.phase).toBe('progressing');
    expect(recorder.seen.map((t) => t.reason)).toEqual(['RolloutStarted']);
    const warnings = world.logs.filter((l) => l.level === 'warn').map((l) => String(l.msg));
    expect(warnings).toEqual(expect.arrayContaining(['events not published: webhook down', 'events not published: no answer within 50 ms']));
  });
});
