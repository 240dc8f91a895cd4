/**
 * Release windows (OpenKruise's `allowRunTime`, Kargo's promotion windows): a rollout raises its canaries' share only
 * inside one of them; outside, it holds where it is (cancel and abort always work). A window starts at every minute a
 * five-field cron expression matches in its time zone and lasts its duration.
 *
 * Cron: `minute hour day-of-month month day-of-week` with `*`, numbers, ranges `a-b`, lists `a,b` and steps `x/n`
 * (day-of-week 0-7, 0 and 7 Sunday); when both day fields are restricted, either matching is enough (cron(8)).
 * Local time comes from `Intl` (the IANA database Node ships): pure, no I/O. In a daylight-saving change, a skipped
 * local minute starts no window and a repeated one starts two.
 */
import * as errors from './errors';
import { ReleaseWindowSpec } from './spec';

export type { ReleaseWindowSpec };

const FIELDS: ReadonlyArray<{ name: string; min: number; max: number }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
];

/** Longest window: a week (windows are scanned minute by minute). */
export const MAX_WINDOW_SECONDS = 7 * 24 * 3600;

interface Cron { readonly sets: ReadonlyArray<ReadonlySet<number>>; readonly domAny: boolean; readonly dowAny: boolean }

/** Parse a five-field cron expression; undefined when it is not one. */
export function parseCron(expr: string): Cron | undefined {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return undefined;
  const sets: Array<Set<number>> = [];
  for (let i = 0; i < 5; i++) {
    const set = parseField(parts[i], FIELDS[i].min, FIELDS[i].max);
    if (!set) return undefined;
    if (i === 4 && set.has(7)) set.add(0);
    sets.push(set);
  }
  return { sets, domAny: parts[2] === '*', dowAny: parts[4] === '*' };
}

function parseField(field: string, min: number, max: number): Set<number> | undefined {
  const out = new Set<number>();
  for (const item of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) return undefined;
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** Check a window: a cron it can parse, a duration of 1 minute to 7 days, a time zone `Intl` knows. */
export function validateWindow(path: string, property: string, w: ReleaseWindowSpec): void {
  if (!parseCron(w.cron)) throw errors.windowCronInvalid(path, `${property}.cron`, w.cron);
  if (!(Number.isInteger(w.durationSeconds) && w.durationSeconds >= 60 && w.durationSeconds <= MAX_WINDOW_SECONDS)) {
    throw errors.windowDurationInvalid(path, `${property}.duration`, w.durationSeconds);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: w.timeZone });
  } catch {
    throw errors.windowTimeZoneInvalid(path, `${property}.timeZone`, w.timeZone);
  }
}

const HOUR_MS = 3600_000;
const MINUTE_MS = 60_000;

/** The offset of `timeZone` from UTC (ms) at each hour, cached: an offset changes only on an hour boundary or half. */
class LocalClock {
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
    });
  }

  /** Local minute, hour, day of month, month and day of week of the UTC instant `ms` (a whole minute). */
  public fields(ms: number): number[] {
    const local = new Date(ms + this.offset(ms - (ms % (HOUR_MS / 4))));
    return [local.getUTCMinutes(), local.getUTCHours(), local.getUTCDate(), local.getUTCMonth() + 1, local.getUTCDay()];
  }

  private offset(at: number): number {
    let o = this.offsets.get(at);
    if (o === undefined) {
      const p = Object.fromEntries(this.format.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
      o = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)) - at;
      this.offsets.set(at, o);
    }
    return o;
  }
}

function starts(cron: Cron, clock: LocalClock, ms: number): boolean {
  const f = clock.fields(ms);
  if (!cron.sets[0].has(f[0]) || !cron.sets[1].has(f[1]) || !cron.sets[3].has(f[3])) return false;
  const dom = cron.sets[2].has(f[2]);
  const dow = cron.sets[4].has(f[4]);
  if (cron.domAny || cron.dowAny) return dom && dow;
  return dom || dow;
}

/** Whether `now` (ms) is inside one of the windows (none given: always). */
export function insideWindows(windows: readonly ReleaseWindowSpec[] | undefined, now: number): boolean {
  if (!windows || windows.length === 0) return true;
  const minute = now - (now % MINUTE_MS);
  return windows.some((w) => {
    const cron = parseCron(w.cron)!;
    const clock = new LocalClock(w.timeZone);
    const span = Math.ceil(w.durationSeconds / 60);
    for (let k = 0; k < span; k++) {
      const start = minute - k * MINUTE_MS;
      if (starts(cron, clock, start) && now < start + w.durationSeconds * 1000) return true;
    }
    return false;
  });
}

/** The next instant a window opens after `now` (ms), within 8 days; undefined when none does. */
export function nextWindowStart(windows: readonly ReleaseWindowSpec[], now: number): number | undefined {
  let best: number | undefined;
  for (const w of windows) {
    const cron = parseCron(w.cron)!;
    const clock = new LocalClock(w.timeZone);
    const first = now - (now % MINUTE_MS) + MINUTE_MS;
    for (let k = 0; k < 8 * 24 * 60; k++) {
      const at = first + k * MINUTE_MS;
      if (best !== undefined && at >= best) break;
      if (starts(cron, clock, at)) {
        best = at;
        break;
      }
    }
  }
  return best;
}

/** A window as people read it: `0 9 * * 1-5 for 8 h (Europe/Berlin)`. */
export function describeWindow(w: ReleaseWindowSpec): string {
  const d = w.durationSeconds;
  const span = d % 3600 === 0 ? `${d / 3600} h` : `${Math.round(d / 60)} min`;
  return `${w.cron} for ${span} (${w.timeZone})`;
}

