import * as fc from 'fast-check';
import '../support/property-seed';
import { CanarySpec } from '../../src/core/spec';
import { abortWeights, canaryWeight, resolveCanaries, weightsAt } from '../../src/core/weights';

describe('resolving canary targets', () => {
  test.each([
    ['one canary without a weight takes everything', [{ version: 'v2' }], [100]],
    ['an explicit weight is kept', [{ version: 'v2', weight: 30 }], [30]],
    ['canaries without weights share the rest equally', [{ version: 'v2', weight: 30 }, { version: 'v3' }, { version: 'v4' }], [30, 35, 35]],
    ['the remainder goes to the first implicit canaries', [{ version: 'v2' }, { version: 'v3' }, { version: 'v4' }], [34, 33, 33]],
    ['weights may total exactly 100', [{ version: 'v2', weight: 60 }, { version: 'v3', weight: 40 }], [60, 40]],
  ])('%s', (_name, canaries, targets) => {
    expect(resolveCanaries('App/R', 'v1', canaries).map((c) => c.targetWeight)).toEqual(targets);
  });

  test.each([
    ['canary weights over 100 in total', [{ version: 'v2', weight: 70 }, { version: 'v3', weight: 40 }],
      /^\[App\/R\] canaries: canary weights add up to 110, over 100; the stable version gets what the canaries leave \(received v2=70 \+ v3=40 = 110\)\. Fix: lower the canary weights/],
    ['a duplicate version name', [{ version: 'v2' }, { version: 'v2' }], /canaries\[1\]\.version: version "v2" appears more than once \(received "v2"\)/],
    ['a canary that is the stable version', [{ version: 'v1' }], /canaries\[0\]\.version: "v1" is the stable version, so it cannot also be a canary/],
    ['no canary at all', [], /canaries: a rollout needs at least one canary version/],
    ['a fractional canary weight', [{ version: 'v2', weight: 2.5 }], /canaries\[0\]\.weight: a weight must be a whole number from 0 to 100 .*\(received 2\.5\)/],
  ])('%s is rejected', (_name, canaries, message) => {
    expect(() => resolveCanaries('App/R', 'v1', canaries)).toThrow(message);
  });
});

describe('weights at a progress', () => {
  const spec = (canaries: CanarySpec[]) => ({ stable: 'v1', canaries });

  test.each([
    [0, { v1: 100, v2: 0 }],
    [10, { v1: 90, v2: 10 }],
    [100, { v1: 0, v2: 100 }],
  ])('a single canary at progress %i', (progress, weights) => {
    expect(weightsAt(spec([{ version: 'v2', targetWeight: 100, ramp: true }]), progress)).toEqual(weights);
  });

  test('several canaries ramp in proportion to their targets; fixed ones hold from the start', () => {
    const s = spec([
      { version: 'v2', targetWeight: 30, ramp: true },
      { version: 'v3', targetWeight: 20, ramp: true },
      { version: 'v4', targetWeight: 10, ramp: false },
    ]);
    expect(weightsAt(s, 0)).toEqual({ v1: 90, v2: 0, v3: 0, v4: 10 });
    expect(weightsAt(s, 50)).toEqual({ v1: 65, v2: 15, v3: 10, v4: 10 });
    expect(weightsAt(s, 100)).toEqual({ v1: 40, v2: 30, v3: 20, v4: 10 });
  });

  test('abort sends everything to stable', () => {
    expect(abortWeights(spec([{ version: 'v2', targetWeight: 30, ramp: true }, { version: 'v3', targetWeight: 20, ramp: false }]))).toEqual({ v1: 100, v2: 0, v3: 0 });
  });

  const canarySets = fc.array(fc.record({ target: fc.integer({ min: 0, max: 100 }), ramp: fc.boolean() }), { minLength: 1, maxLength: 5 })
    .filter((cs) => cs.reduce((s, c) => s + c.target, 0) <= 100)
    .map((cs) => cs.map((c, i) => ({ version: `c${i}`, targetWeight: c.target, ramp: c.ramp })));

  test('properties: weights whole, in 0..100, summing to 100, canaries within target and non-decreasing in progress', () => {
    fc.assert(fc.property(canarySets, fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 20 }), (canaries, progresses) => {
      const s = spec(canaries);
      let previous: Record<string, number> | undefined;
      for (const p of [...progresses].sort((a, b) => a - b)) {
        const w = weightsAt(s, p);
        const values = Object.values(w);
        if (values.reduce((a, b) => a + b, 0) !== 100) return false;
        if (!values.every((v) => Number.isInteger(v) && v >= 0 && v <= 100)) return false;
        for (const c of canaries) {
          if (!(w[c.version] <= c.targetWeight)) return false;
          if (previous && !(w[c.version] >= previous[c.version])) return false;
        }
        previous = w;
      }
      // the end of the schedule reaches every target
      return canaries.every((c) => canaryWeight(c, 100) === c.targetWeight);
    }), { numRuns: 1000 });
  });
});
