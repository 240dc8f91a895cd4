/**
 * A tick of a finished, settled rollout reads the spec, state and commands and nothing else, and writes nothing; a
 * command in any phase (the Kubernetes namespace controller ticks every rollout each minute) is decided in full at
 * the next tick. The real `tick()` against the in-memory world of test/support/rollout-world.ts, every port call
 * counted.
 */
import { Ports } from '../../src/controller/ports';
import { tick } from '../../src/controller/tick';
import { MetricSpec } from '../../src/core/spec';
import { RolloutWorld } from '../support/rollout-world';
import { rolloutSpec } from '../support/spec-fixture';

const MIN = 60_000;
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };

/** The world's ports with every call counted by name. */
function counted(world: RolloutWorld): { ports: Ports; calls: string[] } {
  const calls: string[] = [];
  const wrap = <T extends object>(name: string, o: T): T => new Proxy(o, {
    get: (target, key) => {
      const f = (target as any)[key];
      return typeof f === 'function' ? (...args: unknown[]) => {
        calls.push(`${name}.${String(key)}`);
        return f.apply(target, args);
      } : f;
    },
  });
  const p = world.ports();
  return { ports: { ...p, store: wrap('store', p.store), router: wrap('router', p.router), capacity: wrap('capacity', p.capacity), metrics: wrap('metrics', p.metrics) }, calls };
}

async function run(world: RolloutWorld, minutes: number) {
  for (let i = 0; i < minutes; i++) {
    await tick(world.ports(), world.now);
    world.now += MIN;
  }
}

describe('a finished rollout\'s ticks', () => {
  test('once settled, a tick reads the store only and writes nothing; a command is decided in full at the next tick', async () => {
    // GIVEN a rollout cancelled at 20 % and ticked until the engine settled it (canary scaled down)
    const world = new RolloutWorld(rolloutSpec({ checks: [errorRate] }), { coldStartMs: 0, metrics: () => ({ 'error-rate': { value: 0.001, samples: 1000 } }) });
    await run(world, 3);
    world.appendCommand('cancel');
    await run(world, 4);
    expect(world.state).toMatchObject({ phase: 'aborted', settled: true });
    expect(world.floors.v2).toBe(0);
    const stored = world.state;
    // WHEN it ticks again
    const { ports, calls } = counted(world);
    const r = await tick(ports, world.now);
    // THEN only the store was read: no route, replicas, floors or metrics, no write, no action
    expect(calls).toEqual(['store.read']);
    expect(r.idle).toBe(true);
    expect(r.applied).toEqual([]);
    expect(world.state).toBe(stored);
    // WHEN the operator retries (a terminal phase): the next tick observes and decides
    world.now += MIN;
    world.appendCommand('retry');
    const again = counted(world);
    await tick(again.ports, world.now);
    expect(again.calls).toEqual(expect.arrayContaining(['router.readWeights', 'capacity.floors', 'metrics.measure', 'store.writeState']));
    expect(world.state).toMatchObject({ phase: 'progressing', commandSeq: 2 });
    expect(world.state!.settled).toBeUndefined();
  });

  test('a lost scale-down after an abort keeps the rollout unsettled, and the next ticks repair it', async () => {
    const world = new RolloutWorld(rolloutSpec(), { coldStartMs: 0 });
    await run(world, 3);
    world.appendCommand('cancel');
    // the abort, then ticks until the canary's scale-down is due, whose call fails
    await run(world, 1);
    expect(world.state!.phase).toBe('aborted');
    for (let i = 0; i < 5 && world.floors.v2 !== 0 && !world.logs.some((l) => (l.failed as any)?.action?.version === 'v2'); i++) {
      world.faults.setFloor = 1;
      await run(world, 1);
    }
    world.faults.setFloor = 0;
    expect(world.floors.v2).toBeGreaterThan(0);
    // THEN the rollout is not settled: the state records the canary at 0, the workload holds more
    expect(world.state!.settled).toBeUndefined();
    const { ports, calls } = counted(world);
    await tick(ports, world.now);
    expect(calls).toContain('capacity.setFloor');
    world.now += MIN;
    await run(world, 2);
    expect(world.floors.v2).toBe(0);
    expect(world.state).toMatchObject({ phase: 'aborted', settled: true });
  });
});
