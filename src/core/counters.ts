/**
 * Exact counts from raw counter totals, pure: the controller reads every series of a counter at each tick (an
 * instant query of the counter itself, no `increase()`) and takes the difference with the previous reading here.
 *
 * Why not `increase(x[window])`: Prometheus extrapolates it from the samples inside the range to the range's edges
 * (promql/functions.go `extrapolatedRate`), so with a 5 s scrape and a 10 s window every count is the difference
 * of two samples times about 2: 0, 2 or 4 errors, never 1 or 3, and requests that fall between two windows' samples
 * are lost. The difference of two instant readings has neither fault: over any run of readings the counts add up to
 * the last total minus the first, whatever the scrape interval.
 *
 * Per series, because a sum hides resets: a pod that restarts starts its counters at 0 again. For each series (key:
 * its label set, `seriesKey`):
 * - read before and now, value not lower: the difference;
 * - value lower than before: a counter reset (the process restarted); the new value is what it counted since
 *   (Prometheus' own rule for resets, `rate()` docs: "breaks in monotonicity ... are automatically adjusted for");
 * - not read before: a series that appeared since the previous reading (a new pod, or a label value counted for the
 *   first time: client_python creates a labelled child at 0 on its first increment), so all of its value is new;
 * - read before, absent now (scrape failure, pod gone): kept with its last value for `COUNTER_RETAIN_MS`, so a
 *   series that comes back after a failed scrape is not counted again from zero.
 * The first reading of a test is its starting point: it adds no counts.
 * A reset between two readings loses what the process counted after the earlier reading (the samples scraped in
 * between are not read; a range selector of raw samples would recover them). Blind spot, shared with Prometheus' own `increase()` across a staleness gap: a series absent across a restart of
 * its process (a labelled child client_python creates only at its first increment) that comes back at or above its
 * last value reads as a continuation, so up to that value of its counts after the restart is missed.
 */

/** Values of the series of one counter query, by series key. */
export type SeriesValues = Readonly<Record<string, number>>;

/** The last reading of one counter query, as the controller state keeps it. */
export interface CounterSnapshot {
  /** Last value of each series, by key (series missing from the last reading included, see `missingSince`). */
  readonly values: SeriesValues;
  /** Series absent from the last reading: since when (ms). Dropped after `COUNTER_RETAIN_MS`. */
  readonly missingSince?: Readonly<Record<string, number>>;
}

/**
 * How long a series absent from the readings keeps its last value: Prometheus' staleness lookback (5 minutes,
 * `--query.lookback-delta`) plus a margin; a series back within it continues from its last value.
 */
export const COUNTER_RETAIN_MS = 10 * 60 * 1000;

/** Outcome of one reading. */
export interface CounterIncrease {
  /** What the counter counted since the previous reading; undefined at the first reading (the starting point). */
  readonly increase?: number;
  readonly snapshot: CounterSnapshot;
}

function valid(v: number): boolean {
  return Number.isFinite(v) && v >= 0;
}

/** Difference between `previous` and the values read `now` (ms), per series, resets and new series handled. */
export function counterIncrease(previous: CounterSnapshot | undefined, read: SeriesValues, now: number): CounterIncrease {
  const values: Record<string, number> = {};
  const missingSince: Record<string, number> = {};
  let increase = 0;
  for (const [key, v] of Object.entries(read)) {
    if (!valid(v)) continue;
    values[key] = v;
    const before = previous?.values[key];
    if (before === undefined) increase += v;
    else increase += v >= before ? v - before : v;
  }
  for (const [key, before] of Object.entries(previous?.values ?? {})) {
    if (key in values) continue;
    const since = previous?.missingSince?.[key] ?? now;
    if (now - since < COUNTER_RETAIN_MS) {
      values[key] = before;
      missingSince[key] = since;
    }
  }
  const snapshot: CounterSnapshot = Object.keys(missingSince).length > 0 ? { values, missingSince } : { values };
  return previous === undefined ? { snapshot } : { increase, snapshot };
}

/**
 * A short, stable key of a series' label set (FNV-1a over the sorted `name="value"` pairs, 8 hex digits): the
 * state keeps one number per series, so a stable version with a hundred pods stays a few kilobytes.
 */
export function seriesKey(labels: Readonly<Record<string, string>>): string {
  const text = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');
  let h = 0x811c9dc5;
  /* eslint-disable no-bitwise */
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
  /* eslint-enable no-bitwise */
}
