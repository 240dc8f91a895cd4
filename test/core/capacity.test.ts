/**
 * Capacity during a rollout (issue 15): live sizing (floors from the autoscalers' desired replicas), the
 * promotion handing the live count to the new stable version, aborts that move traffic back only as the stable
 * version's ready replicas carry it, and surge mode (`RolloutCapacity.surge`): the stable version shrinks as the
 * canary grows within a GPU budget. Table-driven cases over the pure functions, then ticks of `decide()`.
 */
import { Chart, Testing } from 'cdk8s';
import { liveReplicas, surgeMinimumExtraGpus } from '../../src/core/capacity';
import { decide } from '../../src/core/decide';
import { computePlan, specHash } from '../../src/core/plan/plan';
import { renderPlanMarkdown } from '../../src/core/plan/render';
import { RolloutSpec } from '../../src/core/spec';
import { ControllerState, Observations } from '../../src/core/state';
import { CanaryRollout, GpuNodePools, Model } from '../../src/k8s';
import { Gpu, GpuProduct, RolloutCapacity, RolloutPlan } from '../../src/rollout';
import { rolloutSpec } from '../support/spec-fixture';

const MIN = 60_000;
const surge = (extra: number, reserve?: number): Partial<RolloutSpec> => ({
  capacity: { mode: 'surge', maxExtraGpus: extra, ...(reserve !== undefined ? { reserveReplicas: reserve } : {}) },
});

function state(s: RolloutSpec, overrides: Partial<ControllerState> = {}): ControllerState {
  return { specHash: specHash(s), phase: 'progressing', stepIndex: 0, stepStartedAt: 0, weights: { v1: 100, v2: 0 }, floors: {}, checkFailures: 0, updatedAt: 0, ...overrides };
}

function obs(overrides: Partial<Observations> = {}): Observations {
  return { readyReplicas: { v1: 4, v2: 0 }, routerWeights: { v1: 100, v2: 0 }, metrics: {}, ...overrides };
}

describe('liveReplicas: the load in stable replicas at 100 %', () => {
  const spec = rolloutSpec();
  test.each([
    ['the stable version at 100 % wanting 12', { desired: { v1: 12 }, served: { v1: 100, v2: 0 }, floors: { v1: 4 } }, 12],
    ['a load-driven stable version at 60 % wanting 7 (read at the upper end: 7 / 0.6)', { desired: { v1: 7, v2: 5 }, served: { v1: 60, v2: 40 }, floors: { v1: 4, v2: 5 } }, 12],
    ['the canary at 70 % wanting 9 above its floor 6, the stable held at its floor', { desired: { v1: 4, v2: 9 }, served: { v1: 30, v2: 70 }, floors: { v1: 4, v2: 6 } }, 13],
    ['every version held at its floor: nothing to read', { desired: { v1: 4, v2: 3 }, served: { v1: 50, v2: 50 }, floors: { v1: 4, v2: 3 } }, undefined],
    ['a share under 20 % is not read', { desired: { v1: 4, v2: 3 }, served: { v1: 90, v2: 10 }, floors: { v1: 4, v2: 1 } }, undefined],
    ['no desired replicas observed (an adapter without them)', { served: { v1: 100, v2: 0 } }, undefined],
    ['never below the plan', { desired: { v1: 2 }, served: { v1: 100 }, floors: { v1: 1 } }, 4],
    ['a stable version whose share fell within its autoscaler window is read against the held share', {
      desired: { v1: 12, v2: 4 }, served: { v1: 70, v2: 30 }, floors: { v1: 4, v2: 4 }, heldShares: { v1: 100 },
    }, 12],
  ])('%s', (_name, live, expected) => {
    expect(liveReplicas(spec, live as any)).toBe(expected);
  });
});

describe('live sizing in decide()', () => {
  test('at a peak (the stable version wants 12, the plan says 4), 50 % needs 6 canary replicas, not 2', () => {
    const s = rolloutSpec();
    // GIVEN the rollout starts at a peak: the stable version's autoscaler wants 12 replicas, the plan says 4
    const o = obs({ readyReplicas: { v1: 12, v2: 0 }, desiredReplicas: { v1: 12, v2: 0 }, floors: { v1: 4, v2: 0 } });
    const d = decide(s, undefined, o, 0);
    // THEN the look-ahead (50 % within 5 minutes) is sized from 12: ceil(50 x 12 / 100) = 6
    expect(d.state.liveReplicas).toBe(12);
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 6 }]);
    expect(d.reason).toMatch(/live load 12 replicas \(plan 4\)/);
    // WHEN a minute later 2 canary replicas are ready (the old floor) THEN 10 % (2 of 12 carry it) moves; 20 % would wait
    const d2 = decide(s, d.state, { ...o, readyReplicas: { v1: 12, v2: 2 }, floors: { v1: 4, v2: 6 } }, MIN);
    expect(d2.actions).toContainEqual({ kind: 'setWeights', weights: { v1: 90, v2: 10 } });
  });

  test('without live observations the floors are the plan\'s (as before)', () => {
    const s = rolloutSpec();
    const d = decide(s, undefined, obs(), 0);
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 2 }]);
    expect(d.state.liveReplicas).toBeUndefined();
  });

  test('promotion: the new stable version gets the live count before the last weight moves', () => {
    const s = rolloutSpec();
    // GIVEN every step done at 90 %, the live load at 12 replicas, the canary with 11 ready
    const prev = state(s, { stepIndex: s.steps.length, weights: { v1: 10, v2: 90 }, floors: { v2: 11 }, liveReplicas: 12 });
    const o = obs({
      readyReplicas: { v1: 2, v2: 11 }, desiredReplicas: { v1: 2, v2: 11 }, routerWeights: { v1: 10, v2: 90 }, floors: { v1: 4, v2: 11 },
    });
    const d = decide(s, prev, o, 20 * MIN);
    // THEN the floor rises to 12 and 100 % waits for it
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 12 }]);
    // WHEN 12 are ready THEN the last weight moves
    const d2 = decide(s, d.state, { ...o, readyReplicas: { v1: 2, v2: 12 } }, 21 * MIN);
    expect(d2.actions).toContainEqual({ kind: 'setWeights', weights: { v1: 0, v2: 100 } });
  });

  test('after promotion the live floor goes back to the plan\'s once the route settled (the autoscaler holds the load)', () => {
    const s = rolloutSpec();
    const prev = state(s, {
      phase: 'promoted',
      stepIndex: s.steps.length,
      weights: { v1: 0, v2: 100 },
      floors: { v2: 12 },
      liveReplicas: 12,
      servingVersion: 'v2',
      previousVersion: 'v1',
      weightsSetAt: 20 * MIN,
      routeChangedAt: 20 * MIN,
    });
    const o = obs({ readyReplicas: { v1: 0, v2: 12 }, desiredReplicas: { v2: 12 }, routerWeights: { v1: 0, v2: 100 }, floors: { v2: 12 } });
    expect(decide(s, prev, o, 20 * MIN + 10_000).actions).toEqual([]);
    expect(decide(s, prev, o, 21 * MIN).actions).toContainEqual({ kind: 'setFloor', version: 'v2', replicas: 4 });
  });

  test('abort: the stable floor rises to the live load; traffic goes back as its ready replicas carry it, never all at once onto too few', () => {
    const s = rolloutSpec();
    const prev = state(s, { stepIndex: 12, weights: { v1: 40, v2: 60 }, floors: { v1: 4, v2: 8 }, liveReplicas: 12 });
    const o = obs({
      readyReplicas: { v1: 6, v2: 8 },
      desiredReplicas: { v1: 5, v2: 8 },
      routerWeights: { v1: 40, v2: 60 },
      floors: { v1: 4, v2: 8 },
      command: { id: 'c', kind: 'cancel', at: 0 },
    });
    const d = decide(s, prev, o, 30 * MIN);
    expect(d.state.phase).toBe('aborted');
    // the live load: 5 stable replicas wanted at 40 % -> 13; 6 of 13 ready carry 46 %: the stable floor first, then 46 % back
    expect(d.actions).toEqual([{ kind: 'setFloor', version: 'v1', replicas: 13 }, { kind: 'setWeights', weights: { v1: 46, v2: 54 } }]);
    // WHEN the route serves it and 10 are ready, a minute later THEN 76 % back, then the canary releases replicas
    const served = { ...o, routerWeights: { v1: 46, v2: 54 }, floors: { v1: 13, v2: 8 }, command: undefined };
    const d2 = decide(s, d.state, { ...served, readyReplicas: { v1: 10, v2: 8 } }, 31 * MIN);
    expect(d2.actions).toEqual([{ kind: 'setWeights', weights: { v1: 76, v2: 24 } }]);
    const d3 = decide(s, d2.state, { ...served, routerWeights: { v1: 76, v2: 24 }, readyReplicas: { v1: 10, v2: 8 } }, 32 * MIN);
    expect(d3.actions).toEqual([{ kind: 'setFloor', version: 'v2', replicas: 4 }]);
    // WHEN 13 are ready THEN all of it goes back
    const d4 = decide(s, d3.state, { ...served, routerWeights: { v1: 76, v2: 24 }, readyReplicas: { v1: 13, v2: 4 } }, 33 * MIN);
    expect(d4.actions).toContainEqual({ kind: 'setWeights', weights: { v1: 100, v2: 0 } });
    // the stable's floor is never lowered on the way
    for (const x of [d, d2, d3, d4]) expect(x.actions.some((a) => a.kind === 'setFloor' && a.version === 'v1' && a.replicas < 13)).toBe(false);
  });
});

describe('surge mode: within a GPU budget above the stable version', () => {
  test('the budget minimum: one more canary replica beside the stable share rounded up and the reserve', () => {
    expect(surgeMinimumExtraGpus(rolloutSpec(surge(3)))).toBe(3);
    expect(surgeMinimumExtraGpus(rolloutSpec(surge(2, 0)))).toBe(2);
    const big = rolloutSpec({ ...surge(24), versions: [{ name: 'v1', gpusPerReplica: 8 }, { name: 'v2', gpusPerReplica: 8 }] });
    expect(surgeMinimumExtraGpus(big)).toBe(24);
  });

  test('the canary rises only within the budget, and the share moves as far as its ready replicas carry', () => {
    const s = rolloutSpec(surge(3));
    // GIVEN 40 % served, the live load 10, the stable holding 7 (its share needs 6 + 1 reserve), the canary 5 ready
    const prev = state(s, {
      stepIndex: 8, weights: { v1: 60, v2: 40 }, floors: { v1: 7, v2: 5 }, liveReplicas: 10, weightsSetAt: 0, routeChangedAt: 0,
    });
    const o = obs({
      readyReplicas: { v1: 7, v2: 5 }, desiredReplicas: { v1: 7, v2: 5 }, routerWeights: { v1: 60, v2: 40 }, floors: { v1: 7, v2: 5 },
    });
    const d = decide(s, prev, o, 10 * MIN);
    // budget 10 + 3 = 13 GPUs, the stable holds 7: the canary may have 6 (50 % needs 5: fits)
    expect(d.actions).toContainEqual({ kind: 'setWeights', weights: { v1: 50, v2: 50 } });
    // WHEN the router serves 50 % and the delay passed THEN the stable's floor comes down to 5 + 1
    const d2 = decide(s, d.state, { ...o, routerWeights: { v1: 50, v2: 50 } }, 11 * MIN);
    expect(d2.actions).toContainEqual({ kind: 'setFloor', version: 'v1', replicas: 6 });
    expect(d2.reason).toMatch(/surge: v1 serves 50 %, its floor goes 7 -> 6/);
  });

  test('a step larger than the budget is taken in parts: the canary gets what fits and the weight follows it', () => {
    const s = rolloutSpec({ ...surge(3), steps: [{ kind: 'setWeight', weight: 100 }] });
    const prev = state(s, { weights: { v1: 100, v2: 0 }, floors: { v1: 10, v2: 3 }, liveReplicas: 10, weightsSetAt: 0, routeChangedAt: 0 });
    const o = obs({
      readyReplicas: { v1: 10, v2: 3 }, desiredReplicas: { v1: 10, v2: 3 }, routerWeights: { v1: 100, v2: 0 }, floors: { v1: 10, v2: 3 },
    });
    const d = decide(s, prev, o, 10 * MIN);
    // 3 ready canary replicas carry 30 % of a load of 10
    expect(d.actions).toContainEqual({ kind: 'setWeights', weights: { v1: 70, v2: 30 } });
    expect(d.state.stepIndex).toBe(0);
    expect(d.reason).toMatch(/surge: v2 has 3 ready replicas \(the GPU budget, or pods waiting for GPUs\)/);
  });

  test('the plan shows surge peak GPUs and GPU-hours beside full mode\'s', () => {
    const s = rolloutSpec(surge(3));
    const plan = computePlan(s);
    expect(plan.capacity).toMatchObject({ mode: 'surge', maxExtraGpus: 3, reserveReplicas: 1, fullPeakGpus: 8 });
    expect(plan.peakGpus).toBeLessThanOrEqual(4 + 3);
    expect(plan.peakGpus).toBeLessThan(plan.capacity.fullPeakGpus!);
    expect(renderPlanMarkdown(plan)).toMatch(/capacity: surge, at most 3 GPUs above the stable version's, which keeps its share plus 1 replica\(s\) \(full mode: peak 8 GPUs, [0-9.]+ GPU-hours\)/);
    expect(computePlan(rolloutSpec()).capacity).toEqual({ mode: 'full' });
  });
});

describe('RolloutCapacity at synth', () => {
  test('full() leaves the spec (and its hash) as before; surge() is recorded', () => {
    const base = { name: 'p', stableVersion: 'v1', canaries: [{ version: 'v2' }], stableReplicas: 4, gpusPerReplica: { v1: 1, v2: 1 } };
    expect(RolloutPlan.compute({ ...base, capacity: RolloutCapacity.full() }).specHash).toBe(RolloutPlan.compute(base).specHash);
    const p = RolloutPlan.compute({ ...base, capacity: RolloutCapacity.surge({ maxExtraGpus: 3 }) });
    expect(p._spec().capacity).toEqual({ mode: 'surge', maxExtraGpus: 3 });
  });

  test.each([
    [{ maxExtraGpus: 0 }, /\[p\] capacity\.maxExtraGpus: a GPU budget must be a whole number of GPUs, at least 1 \(received 0\)\. Fix: use for example/],
    [{ maxExtraGpus: 2.5 }, /capacity\.maxExtraGpus: .*\(received 2\.5\)/],
    [{ maxExtraGpus: 3, reserveReplicas: -1 }, /capacity\.reserveReplicas: the stable version's reserve is a whole number of replicas, 0 or more \(received -1\)/],
    [{ maxExtraGpus: 2 }, /\[p\] capacity\.maxExtraGpus: the budget cannot fit one more canary replica beside the stable version's share and its reserve of 1 replica\(s\): it needs at least 3 GPUs.*\(received 2\)\. Fix: use `maxExtraGpus: 3` or more/],
  ])('surge(%j) is refused with the property, the value and the fix', (options, message) => {
    const base = { name: 'p', stableVersion: 'v1', canaries: [{ version: 'v2' }], stableReplicas: 4, gpusPerReplica: { v1: 1, v2: 1 } };
    expect(() => RolloutPlan.compute({ ...base, capacity: RolloutCapacity.surge(options) })).toThrow(message);
  });

  test('a budget the GPU node pool can never provide is a synth error naming the pool limit', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G, count: 4 }) });
    model.addVersion('v2');
    const prod = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'istio-ingress' }, autoscaling: { minReplicas: 2 } });
    new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], capacity: RolloutCapacity.surge({ maxExtraGpus: 12 }) });
    new GpuNodePools(chart, 'Gpu', { models: [model], nodeClass: { role: 'r', discoveryTag: 't' }, maxGpus: 16 });
    // the stable version uses 2 x 4 = 8 A10G GPUs; 8 + 12 > 16
    expect(() => Testing.synth(chart)).toThrow(/\[Chart\/Rollout\] capacity\.maxExtraGpus: the stable version already uses 8 A10G GPUs and the node pool for A10G stops at maxGpus 16.*\(received 12\)\. Fix: use `maxExtraGpus: 8` or less, or raise the GpuNodePools' `maxGpus` to at least 20/);
  });

  test('a budget within the node pool synthesizes, and the rollout spec carries it', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
    model.addVersion('v2');
    const prod = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'istio-ingress' }, autoscaling: { minReplicas: 4 } });
    const r = new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], capacity: RolloutCapacity.surge({ maxExtraGpus: 3 }) });
    new GpuNodePools(chart, 'Gpu', { models: [model], nodeClass: { role: 'r', discoveryTag: 't' }, maxGpus: 16 });
    expect(() => Testing.synth(chart)).not.toThrow();
    expect(r.plan._spec().capacity).toEqual({ mode: 'surge', maxExtraGpus: 3 });
    expect(r.plan._spec().autoscalerWindowSeconds).toBe(900);
  });
});
