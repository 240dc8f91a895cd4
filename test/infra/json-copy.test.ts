/**
 * The fakes' deep copy (test/support/json-copy.ts) gives what the JSON round trip it replaced gives, on any value.
 */
import '../support/property-seed';
import { isDeepStrictEqual } from 'util';
import * as fc from 'fast-check';
import { copyJson } from '../support/json-copy';

const viaJson = (v: unknown): unknown => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

type Outcome = { value: unknown } | { error: string };
const outcome = (f: () => unknown): Outcome => {
  try {
    return { value: f() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
};

/**
 * The same value, prototypes and -0 included (isDeepStrictEqual uses Object.is), and no object shared; or the same
 * error (a top-level function or symbol: JSON.stringify gives undefined, which JSON.parse refuses).
 */
function sameAsJson(v: unknown): boolean {
  const copy = outcome(() => copyJson(v));
  const json = outcome(() => viaJson(v));
  if ('error' in copy || 'error' in json) return isDeepStrictEqual(copy, json);
  return isDeepStrictEqual(copy.value, json.value) && (v === null || typeof v !== 'object' || copy.value !== v);
}

describe('copyJson', () => {
  test('equals JSON.parse(JSON.stringify(v)) on any value but a bigint: undefined, functions, -0, NaN, sparse arrays, dates, class instances, null prototypes, __proto__ keys', () => {
    const value = fc.anything({
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withBigInt: false,
      key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'toJSON', '0', '-0')),
      values: [fc.constant(undefined), fc.constant(-0), fc.constant(NaN), fc.constant(() => 1), fc.constant(Symbol('s')), fc.string(), fc.double()],
    });
    fc.assert(fc.property(value, sameAsJson), { numRuns: 1000 });
  });

  test('a DynamoDB item with the state as a JSON string, a Deployment, a toJSON anywhere, nesting deeper than the shared path', () => {
    const state = { phase: 'progressing', history: Array.from({ length: 50 }, (_, i) => ({ at: i, reason: 'a "quoted" reason' })) };
    let deep: unknown = { leaf: [1, undefined, -0] };
    for (let i = 0; i < 250; i++) deep = { next: deep, at: [i] };
    const cases = [
      { pk: { S: 'state' }, sk: { N: '0' }, state: { S: JSON.stringify(state) }, gone: undefined },
      { apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 0, template: { spec: { containers: [{ name: 'vllm', args: ['--port', '8000'] }] } } } },
      { at: new Date(0), nested: [{ toJSON: () => ({ replaced: true }) }] },
      deep,
    ];
    for (const c of cases) expect(sameAsJson(c)).toBe(true);
    // the copy is independent: changing it leaves the original as it was
    const original = cases[1] as any;
    const copy = copyJson(original);
    copy.spec.template.spec.containers[0].args.push('--x');
    expect(original.spec.template.spec.containers[0].args).toEqual(['--port', '8000']);
  });

  test('what JSON.stringify throws on, it throws on: a cycle, a bigint', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    expect(() => copyJson(cycle)).toThrow(/circular/i);
    expect(() => copyJson({ n: 1n })).toThrow(/BigInt/);
    expect(copyJson(undefined)).toBeUndefined();
  });
});
