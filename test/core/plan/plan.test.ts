import * as fc from 'fast-check';
import '../../support/property-seed';
import { decide } from '../../../src/core/decide';
import { canonicalJson, hashString, sameData } from '../../../src/core/hash';
import { computePlan, formatSeconds, specHash } from '../../../src/core/plan/plan';
import { planSegments } from '../../../src/core/plan/segments';
import { equalSteps } from '../../../src/core/schedule';
import { RolloutSpec } from '../../../src/core/spec';
import { ControllerState } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

function spec(overrides: Partial<RolloutSpec> = {}): RolloutSpec {
  return rolloutSpec({ path: 'App/Chart/Rollout', ...overrides });
}

/* eslint-disable no-bitwise */
/**
 * The spec hash as first written, with the 32-bit product spelled as arithmetic instead of `Math.imul`: the hash
 * stored in a rollout's state must not change with how the product is computed.
 */
function referenceMul32(a: number, b: number): number {
  return ((((a >>> 16) * (b & 0xffff) + (a & 0xffff) * (b >>> 16)) << 16) + (a & 0xffff) * (b & 0xffff)) | 0;
}
function referenceHashString(input: string): string {
  const fmix = (h: number): number => {
    h ^= h >>> 16;
    h = referenceMul32(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = referenceMul32(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  };
  const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
  let h1 = 0x811c9dc5 ^ input.length;
  let h2 = 0x01000193 ^ (input.length * 31);
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    h1 = referenceMul32(h1 ^ c, 0x01000193);
    h2 = referenceMul32(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = fmix(h1 ^ (h2 >>> 7));
  h2 = fmix(h2 ^ (h1 >>> 11));
  return hex(h1) + hex(h2);
}
/* eslint-enable no-bitwise */

describe('the plan of the default schedule', () => {
  const plan = computePlan(spec());
  const segments = planSegments(plan);

  test('shows weights 10, 20, ..., 100 at one-minute intervals', () => {
    expect(segments.map((s) => [formatSeconds(s.atSeconds), s.weights.v2])).toEqual([
      ['0:00', 0], ['1:00', 10], ['2:00', 20], ['3:00', 30], ['4:00', 40], ['5:00', 50],
      ['6:00', 60], ['7:00', 70], ['8:00', 80], ['9:00', 90], ['10:00', 100],
    ]);
    expect(plan.totalSeconds).toBe(600);
    expect(plan.ending).toBe('promote');
  });

  test('the canary is pre-warmed for the weights of the next 5 minutes; stable keeps its count until promotion', () => {
    // at 0:00 the schedule reaches 50 % within the look-ahead: ceil(50 x 4 / 100) = 2; at 1:00, 60 %: 3; ...
    expect(segments.map((s) => s.replicas.v2)).toEqual([2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4]);
    expect(segments.every((s) => s.replicas.v1 === 4)).toBe(true);
  });

  test('GPU-hours integrate the GPUs in use over the schedule', () => {
    // 4 stable GPUs throughout, plus the canary's replicas during each minute (the final 100% point lasts no time)
    const canaryGpuMinutes = [2, 3, 3, 4, 4, 4, 4, 4, 4, 4].reduce((a, b) => a + b, 0);
    expect(plan.gpuHours).toBeCloseTo((4 * 10 + canaryGpuMinutes) / 60, 3);
    expect(plan.peakGpus).toBe(8);
  });
});

describe('plan shapes', () => {
  test('a mirror adds the shadow replicas and GPUs but no weight', () => {
    const plan = computePlan(spec({
      mirror: { version: 'v3', percent: 5 },
      versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 2 }],
    }));
    expect(plan.rows[0].replicas.v3).toBe(1);
    // stable 4 + the pre-warmed canary 2 (50 % within 5 minutes) + the shadow's 2 GPUs
    expect(plan.rows[0].gpus).toBe(4 + 2 + 2);
    expect(Object.values(plan.rows[0].weights).reduce((a, b) => a + b, 0)).toBe(100);
  });

  test('several canaries end holding the split instead of promoting', () => {
    const plan = computePlan(spec({ canaries: [{ version: 'v2', targetWeight: 30, ramp: true }, { version: 'v3', targetWeight: 20, ramp: true }] }));
    expect(plan.ending).toBe('hold');
    expect(plan.rows[plan.rows.length - 1].weights).toEqual({ v1: 50, v2: 30, v3: 20 });
  });

  test('a manual pause is flagged: the real duration depends on a person', () => {
    const plan = computePlan(spec({ steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'pauseUntilPromoted' }, { kind: 'setWeight', weight: 100 }] }));
    expect(plan.waitsForPromotion).toBe(true);
    expect(plan.rows.find((r) => r.waitsForPromotion)?.weights.v2).toBe(50);
  });

  test('property: the plan of equal steps lasts exactly the window and ends at 100', () => {
    const counts = fc.integer({ min: 1, max: 100 });
    fc.assert(fc.property(counts, fc.integer({ min: 0, max: 7200 }), fc.integer({ min: 1, max: 50 }), (count, extra, replicas) => {
      const over = count * 60 + extra;
      const plan = computePlan(spec({ steps: equalSteps(count, over), stableReplicas: replicas }));
      const last = plan.rows[plan.rows.length - 1];
      return Math.abs(plan.totalSeconds - over) < 1e-6
        && last.weights.v2 === 100
        && last.replicas.v2 === replicas
        && plan.rows.filter((r) => r.description.startsWith('set weight')).length === count;
    }), { numRuns: 1000 });
  });
});

const reorder = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(reorder);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reorder(x)]));
  return v;
};

describe('spec hash', () => {
  test('is stable, ignores key order and the construct path, and changes with the schedule', () => {
    const a = spec();
    const reverseKeys = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverseKeys);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
      return v;
    };
    const reordered = reverseKeys({ ...a, path: 'Elsewhere' });
    expect(Object.keys(reordered as object)[0]).not.toBe(Object.keys(a)[0]);
    expect(specHash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(specHash(reordered as RolloutSpec)).toBe(specHash(a));
    expect(specHash(spec({ steps: equalSteps(5, 600) }))).not.toBe(specHash(a));
    expect(specHash(spec({ stableReplicas: 5 }))).not.toBe(specHash(a));
  });

  test('the hash is the reference hash (32-bit products without Math.imul) on any string, and known hashes stay put', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      (x, y) => referenceMul32(x, y) === Math.imul(x, y)), { numRuns: 1000 });
    // any UTF-16 code units (lone surrogates included: the hash reads `charCodeAt`), and longer ASCII
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(fc.property(fc.oneof(fc.string({ unit: codeUnit, maxLength: 100 }), fc.string({ unit: 'grapheme-ascii', maxLength: 400 })),
      (text) => hashString(text) === referenceHashString(text)), { numRuns: 1000 });
    // sameData is canonical-JSON equality without the strings (key order, undefined fields, NaN as null)
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.constantFrom(null, undefined, 0, -0, 1, NaN, true, false, 'a', 'b"'),
        fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('v'), { maxKeys: 3 })),
    })).v;
    fc.assert(fc.property(value, value, (x, y) => sameData(x, y) === (canonicalJson(x) === canonicalJson(y))
      && sameData(x, structuredClone(x)) && sameData(x, reorder(x))), { numRuns: 2000 });
    // pinned: a state written by any release compares its spec hash with these
    expect([hashString(''), hashString('model-rollout'), hashString('x'.repeat(1000))])
      .toEqual(['2a778af00bf669f7', '2e6738139c3b8f3b', '233fc952f07c7a40']);
  });
});

describe('one capacity computation', () => {
  test('the plan shows, minute by minute, the floors decide() sets when every replica is ready at once', () => {
    // GIVEN a rollout whose replicas become ready as soon as they are asked for
    const s = spec();
    const plan = computePlan(s);
    let state: ControllerState | undefined;
    const floors: Record<string, number> = { v1: 4 };
    const router: Record<string, number> = { v1: 100, v2: 0 };
    const seen: number[] = [];
    // WHEN the controller ticks once a minute
    for (let minute = 0; minute <= 10; minute++) {
      const d = decide(s, state, { readyReplicas: { ...floors }, routerWeights: { ...router }, floors: { ...floors }, metrics: {} }, minute * 60_000);
      for (const a of d.actions) {
        if (a.kind === 'setFloor') floors[a.version] = a.replicas;
        if (a.kind === 'setWeights') Object.assign(router, a.weights);
      }
      state = d.state;
      seen.push(floors.v2 ?? 0);
    }
    // THEN the canary's floor at each minute is the plan's (segments start one per minute)
    const planned = planSegments(plan).map((x) => x.replicas.v2);
    expect(seen.slice(0, planned.length)).toEqual(planned);
  });
});
