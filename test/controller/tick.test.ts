/**
 * Scenario and fault tests: the real `tick()` and `decide()` against an in-memory FAKE world
 * (test/support/rollout-world.ts: router, replicas with GPU cold starts, metrics, a versioned state store).
 */
import { parseDocument } from '../../src/controller/parsed-document';
import { tick } from '../../src/controller/tick';
import { replicasForWeight } from '../../src/core/capacity';
import { MetricSpec, RolloutSpec } from '../../src/core/spec';
import { RolloutWorld } from '../support/rollout-world';
import { rolloutSpec } from '../support/spec-fixture';

const MIN = 60_000;
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };

function spec(overrides: Partial<RolloutSpec> = {}): RolloutSpec {
  return rolloutSpec({ checks: [errorRate], keepPreviousWarmSeconds: 300, ...overrides });
}

const healthy = () => ({ 'error-rate': { value: 0.001, samples: 1000 } });
const faulty = () => ({ 'error-rate': { value: 0.3, samples: 1000 } });

async function run(world: RolloutWorld, minutes: number, each?: (w: RolloutWorld) => void) {
  for (let i = 0; i < minutes; i++) {
    await tick(world.ports(), world.now);
    each?.(world);
    world.now += MIN;
  }
}

describe('scenarios', () => {
  test('a healthy canary with 4-minute GPU cold starts is promoted, and traffic never outruns ready replicas', async () => {
    // GIVEN
    const world = new RolloutWorld(spec(), { coldStartMs: 4 * MIN, metrics: healthy });
    const phases: string[] = [];
    // WHEN
    await run(world, 25, (w) => {
      // THEN, after every tick
      expect(w.capacityHolds()).toBe(true);
      expect(w.router.v1 + w.router.v2).toBe(100);
      phases.push(w.state!.phase);
    });
    // THEN
    expect(world.state!.phase).toBe('promoted');
    const promotedAt = phases.indexOf('promoted');
    // 10 minutes of schedule, plus the first cold start, plus a tick to verify each change at most
    expect(promotedAt).toBeLessThanOrEqual(10 + 4 + 2);
    expect(world.router).toEqual({ v1: 0, v2: 100 });
    // the previous version is scaled down after its keep-warm window (5 minutes)
    expect(world.ready('v1')).toBe(0);
    expect(world.logs.every((l) => typeof l.reason === 'string' && typeof l.phase === 'string')).toBe(true);
  });

  test('a faulty canary is rolled back before it gets any weight: checks are measured at every tick that could raise one', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 2 * MIN, metrics: faulty });
    let maxCanary = 0;
    await run(world, 12, (w) => { maxCanary = Math.max(maxCanary, w.router.v2); });
    expect(world.state!.phase).toBe('aborted');
    expect(world.state!.reason).toMatch(/continuous checks failed 2 times/);
    expect(world.router).toEqual({ v1: 100, v2: 0 });
    // its pinned/mirrored requests already fail: the first weight never goes out
    expect(maxCanary).toBe(0);
  });

  test('the weight follows the plan: 10 % steps a minute apart once capacity is warm', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    const weights: number[] = [];
    await run(world, 14, (w) => weights.push(w.router.v2));
    const distinct = weights.filter((w, i) => i === 0 || w !== weights[i - 1]);
    expect(distinct).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });
});

describe('faults', () => {
  test('two ticks at once: one acts, the other gets a conflict and acts on nothing', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    const [a, b] = await Promise.all([tick(world.ports(), 0), tick(world.ports(), 0)]);
    const acted = [a, b].filter((r) => !r.conflict);
    const conflicted = [a, b].filter((r) => r.conflict);
    expect(acted).toHaveLength(1);
    expect(conflicted).toHaveLength(1);
    expect(conflicted[0].applied).toEqual([]);
    expect(world.stateVersion).toBe(2);
  });

  test('a 5xx on the route change is repaired by the next tick', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    await run(world, 1); // start and pre-warm; the first pause ends at the next tick
    world.faults.setWeights = 1;
    const failed = await tick(world.ports(), world.now);
    expect(failed.failed?.action.kind).toBe('setWeights');
    expect(world.router.v2).toBe(0);
    world.now += MIN;
    await tick(world.ports(), world.now);
    expect(world.router.v2).toBe(10);
  });

  test('a crash between actions (floor set, route not) leaves a state the next tick completes', async () => {
    const s = spec({ checks: [], steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'setWeight', weight: 100 }] });
    const world = new RolloutWorld(s, { coldStartMs: 0 });
    world.faults.setFloor = 1; // the first action fails: nothing after it runs
    const r = await tick(world.ports(), 0);
    expect(r.failed?.action.kind).toBe('setFloor');
    // the state recorded the floor, the world does not have it: the next tick sees the floor is missing and sets it again
    world.now = MIN;
    await tick(world.ports(), world.now);
    expect(world.floors.v2).toBe(replicasForWeight(100, 4));
    await run(world, 4);
    expect(world.state!.phase).toBe('promoted');
  });

  test('a route change the API accepted but lost is sent again after a tick, and the step waits for it', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    await run(world, 1);
    world.dropNextRouterWrites = 1;
    await tick(world.ports(), world.now);
    expect(world.state!.weights.v2).toBe(10);
    expect(world.router.v2).toBe(0);
    const stepBefore = world.state!.stepIndex;
    world.now += MIN;
    await tick(world.ports(), world.now);
    expect(world.router.v2).toBe(10);
    expect(world.state!.stepIndex).toBe(stepBefore);
  });

  test('a read that times out writes nothing and acts on nothing; the next tick goes on', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    await run(world, 3);
    const before = JSON.stringify(world.state);
    world.faults.readWeights = 1;
    await expect(tick(world.ports(), world.now)).rejects.toThrow(/injected fault/);
    expect(JSON.stringify(world.state)).toBe(before);
    await tick(world.ports(), world.now);
    expect(world.state!.weights.v2).toBeGreaterThan(0);
  });

  test('an hour of missed ticks: the rollout resumes one step per tick, capacity first, nothing jumps', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 4 * MIN, metrics: healthy });
    await run(world, 6);
    const before = world.router.v2;
    world.now += 60 * MIN;
    const weights: number[] = [];
    await run(world, 12, (w) => {
      weights.push(w.router.v2);
      expect(w.capacityHolds()).toBe(true);
    });
    const jumps = weights.map((w, i) => w - (i === 0 ? before : weights[i - 1]));
    expect(Math.max(...jumps)).toBeLessThanOrEqual(10);
    expect(world.state!.phase).toBe('promoted');
  });

  test('clock skew (time going backwards) neither advances nor breaks the rollout', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    await run(world, 5);
    const snapshot = { step: world.state!.stepIndex, started: world.state!.stepStartedAt, v2: world.router.v2 };
    world.now -= 3 * MIN;
    await tick(world.ports(), world.now);
    // at most the pending verification completes; no weight moves and no step clock goes back
    expect(world.state!.stepIndex).toBeLessThanOrEqual(snapshot.step + 1);
    expect(world.state!.stepStartedAt).toBeGreaterThanOrEqual(snapshot.started);
    expect(world.router.v2).toBe(snapshot.v2);
    world.now += 4 * MIN;
    await run(world, 15);
    expect(world.state!.phase).toBe('promoted');
  });

  test('Prometheus down: the weights hold (a canary never proceeds unjudged), and 10 minutes of errors in a row roll back', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: () => ({ 'error-rate': { error: 'connect ECONNREFUSED 127.0.0.1:9090' } }) });
    await run(world, 6);
    // the first step reached the router before the checks had anything to judge; nothing moved after it
    const held = world.router.v2;
    expect(held).toBeGreaterThan(0);
    expect(world.state!.phase).toBe('progressing');
    expect(world.state!.checkFailures).toBe(0);
    await run(world, 10);
    expect(world.router.v2).toBe(0);
    expect(world.state!.phase).toBe('aborted');
    expect(world.state!.reason).toMatch(/checks could not be measured for \d+ s \(limit 600 s\): connect ECONNREFUSED/);
  });

  test('floors that cannot be read (the EKS API answers 401) do not stop the ticks: the rollout goes on, a cancel still lands', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    world.faults.floors = 1_000;
    await run(world, 6);
    expect(world.router.v2).toBeGreaterThan(0);
    world.command = { id: 'cancel-1', kind: 'cancel', at: world.now };
    await tick(world.ports(), world.now);
    expect(world.router).toEqual({ v1: 100, v2: 0 });
  });

  test('a floor that cannot be set does not keep an abort from moving traffic back to stable', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    await run(world, 6);
    expect(world.router.v2).toBeGreaterThan(0);
    // the cluster's API goes down: every floor change fails from now on
    world.faults.setFloor = 1_000;
    world.faults.scaleDown = 1_000;
    world.command = { id: 'cancel-1', kind: 'cancel', at: world.now };
    const result = await tick(world.ports(), world.now);
    expect(world.router).toEqual({ v1: 100, v2: 0 });
    expect(result.failed?.action.kind).not.toBe('setWeights');
  });

  test('cancel sends every canary back at once, whatever the step', async () => {
    const world = new RolloutWorld(spec(), { coldStartMs: 0, metrics: healthy });
    await run(world, 6);
    expect(world.router.v2).toBeGreaterThan(0);
    world.command = { id: 'cancel-1', kind: 'cancel', at: world.now };
    await tick(world.ports(), world.now);
    expect(world.router).toEqual({ v1: 100, v2: 0 });
    expect(world.state!.phase).toBe('aborted');
  });
});

describe('the spec document is parsed once per distinct text', () => {
  test('the same text gives the same frozen object, so the spec hash is computed once; another text, another object', () => {
    const text = JSON.stringify(spec());
    const first = parseDocument<RolloutSpec>(text);
    expect(parseDocument<RolloutSpec>(text)).toBe(first);
    expect(parseDocument<RolloutSpec>(` ${text}`)).not.toBe(first);
    expect(parseDocument<RolloutSpec>(` ${text}`)).toEqual(first);
    // shared between ticks, so nothing may change it
    expect(Object.isFrozen(first) && Object.isFrozen(first.steps) && Object.isFrozen(first.steps[0])).toBe(true);
    expect(() => { (first.steps as StepLike[]).push({ kind: 'pause' }); }).toThrow(TypeError);
  });

  test('a few texts are kept, the least recently read dropped first', () => {
    const texts = Array.from({ length: 9 }, (_, i) => JSON.stringify({ n: i }));
    const objects = texts.map((t) => parseDocument<{ n: number }>(t));
    // the first of nine was dropped (eight kept): parsed again, a new object with the same content
    expect(parseDocument<{ n: number }>(texts[0])).not.toBe(objects[0]);
    expect(parseDocument<{ n: number }>(texts[0])).toEqual({ n: 0 });
    // reading texts[0] again dropped texts[1], the least recently read; the last one read is kept
    expect(parseDocument<{ n: number }>(texts[8])).toBe(objects[8]);
    expect(parseDocument<{ n: number }>(texts[1])).not.toBe(objects[1]);
  });
});

type StepLike = { kind: string };
