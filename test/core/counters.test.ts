/** Exact counts from raw counter totals (core/counters.ts). */
import { COUNTER_RETAIN_MS, counterIncrease, seriesKey } from '../../src/core/counters';

describe('counterIncrease', () => {
  test('first reading: the starting point, no increase; then the difference, summed over series', () => {
    const first = counterIncrease(undefined, { a: 10, b: 5 }, 0);
    expect(first.increase).toBeUndefined();
    expect(counterIncrease(first.snapshot, { a: 13, b: 6 }, 10_000).increase).toBe(4);
  });

  test('a reset counts the new value; a new series counts all of it', () => {
    const s = counterIncrease(undefined, { a: 100 }, 0).snapshot;
    expect(counterIncrease(s, { a: 7 }, 10_000).increase).toBe(7);
    expect(counterIncrease(s, { a: 100, b: 3 }, 10_000).increase).toBe(3);
  });

  test('a series missing from a reading keeps its value for the retention, then is forgotten', () => {
    const s0 = counterIncrease(undefined, { a: 100, b: 5 }, 0).snapshot;
    const s1 = counterIncrease(s0, { b: 6 }, 10_000);
    expect(s1.increase).toBe(1);
    expect(s1.snapshot.missingSince).toEqual({ a: 10_000 });
    // back after a failed scrape: counted from its last value, not from zero
    expect(counterIncrease(s1.snapshot, { a: 104, b: 6 }, 20_000).increase).toBe(4);
    const gone = counterIncrease(s1.snapshot, { b: 6 }, 10_000 + COUNTER_RETAIN_MS);
    expect(gone.snapshot.values).toEqual({ b: 6 });
  });

  test('series keys: the same label set in any order gives the same key, another set another', () => {
    expect(seriesKey({ a: '1', b: '2' })).toBe(seriesKey({ b: '2', a: '1' }));
    expect(seriesKey({ a: '1', b: '2' })).not.toBe(seriesKey({ a: '1', b: '3' }));
    expect(seriesKey({})).toMatch(/^[0-9a-f]{8}$/);
  });
});
