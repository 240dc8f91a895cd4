/**
 * Plan segments: consecutive plan rows with the same traffic merged into one span, which is what a
 * reviewer wants to read ("10 % from 1:00 for 1:00"), and what the chart plots.
 */
import { PlanData, PlanRow } from './plan';

/** A span of time with constant weights and replicas. */
export interface PlanSegment {
  readonly atSeconds: number;
  readonly seconds: number;
  readonly weights: Record<string, number>;
  readonly replicas: Record<string, number>;
  readonly gpus: number;
  /** Descriptions of the steps merged into the span (gates and manual pauses included). */
  readonly notes: readonly string[];
  /** The span is a shadow step (copies of requests to the canary; it ends early once the error test passes). */
  readonly shadow?: boolean;
  /** The span is the bake (steps after the final 100 %). */
  readonly bake?: boolean;
}

/** Merge plan rows into spans of constant traffic. The final span is the end state (length 0). */
export function planSegments(plan: PlanData): PlanSegment[] {
  const out: Array<{ -readonly [K in keyof PlanSegment]: PlanSegment[K] } & { notes: string[] }> = [];
  for (const row of plan.rows) {
    const last = out[out.length - 1];
    // a shadow step stands alone: its span is "at most", and a reviewer must see the mirror; the bake is its own span
    if (last && sameTraffic(last, row) && row.shadow === undefined && !last.shadow && Boolean(row.bake) === Boolean(last.bake)) {
      last.seconds += row.seconds;
      last.notes.push(...notesOf(row));
      continue;
    }
    out.push({
      atSeconds: row.atSeconds,
      seconds: row.seconds,
      weights: row.weights,
      replicas: row.replicas,
      gpus: row.gpus,
      notes: row.step < 0 ? ['start'] : notesOf(row),
      ...(row.shadow !== undefined ? { shadow: true } : {}),
      ...(row.bake ? { bake: true } : {}),
    });
  }
  // a span that lasts no time (the start, when the first step moves traffic at once) folds into the next one
  for (let i = out.length - 2; i >= 0; i--) {
    if (out[i].seconds === 0) {
      out[i + 1].notes.unshift(...out[i].notes);
      out[i + 1].atSeconds = out[i].atSeconds;
      out.splice(i, 1);
    }
  }
  return out;
}

/** What a reviewer should see of a row besides its weights: gates, manual pauses, the author's notes. */
function notesOf(row: PlanRow): string[] {
  if (row.gate || row.waitsForPromotion || row.shadow !== undefined || row.bake) return [row.description];
  return row.note ? [row.note] : [];
}

function sameTraffic(a: { weights: Record<string, number>; replicas: Record<string, number> }, b: PlanRow): boolean {
  const keys = Object.keys(b.weights);
  return keys.every((k) => a.weights[k] === b.weights[k]) && Object.keys(b.replicas).every((k) => a.replicas[k] === b.replicas[k]);
}
