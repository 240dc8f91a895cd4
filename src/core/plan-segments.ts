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
}

/** Merge plan rows into spans of constant traffic. The final span is the end state (length 0). */
export function planSegments(plan: PlanData): PlanSegment[] {
  const out: Array<{ -readonly [K in keyof PlanSegment]: PlanSegment[K] } & { notes: string[] }> = [];
  for (const row of plan.rows) {
    const last = out[out.length - 1];
    if (last && sameTraffic(last, row)) {
      last.seconds += row.seconds;
      if (row.gate || row.waitsForPromotion) last.notes.push(row.description);
      continue;
    }
    out.push({
      atSeconds: row.atSeconds,
      seconds: row.seconds,
      weights: row.weights,
      replicas: row.replicas,
      gpus: row.gpus,
      notes: row.step < 0 ? ['start'] : row.gate || row.waitsForPromotion ? [row.description] : [],
    });
  }
  return out;
}

function sameTraffic(a: { weights: Record<string, number>; replicas: Record<string, number> }, b: PlanRow): boolean {
  const keys = Object.keys(b.weights);
  return keys.every((k) => a.weights[k] === b.weights[k]) && Object.keys(b.replicas).every((k) => a.replicas[k] === b.replicas[k]);
}
