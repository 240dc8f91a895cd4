/**
 * Sweep of ours' tick interval and sequential-test parameters, without the shadow step (the test alone, on answered
 * requests): how the defaults were chosen. For each combination,
 * false aborts over H healthy seeded rollouts and, for 0.5 %, 2 % and 20 % canaries over S seeds, how many were
 * rolled back and the median requests exposed before rollback, at 5, 50 and 500 requests/s.
 *
 * Run: T=10,20,30 D=5,10 A=0.005,0.01 H=1000 S=100 node -r ./test/support/register-ts.js bench/rollout-sim/sweep.ts
 */
import { scenario } from './run';
import { simulate } from './sim';
import { ours } from './strategies';
import { Metric } from '../../src/rollout/analysis';
import { ServingEngine } from '../../src/rollout/serving-engine';

const list = (v: string | undefined, d: string) => (v ?? d).split(',').map(Number);

function median(xs: number[]): number | undefined {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
}

/** One line per traffic level for a tick interval, detect ratio and alpha. */
export function sweep(tick: number, detectRatio: number, falseAbortRate: number, healthy: number, faulty: number): string[] {
  const e = ServingEngine.VLLM;
  const check = () => Metric.sequentialErrorRate({ name: 'vllm-error-rate', errorsQuery: e.errorsQuery, requestsQuery: e.requestsQuery, detectRatio, falseAbortRate })._spec();
  const rows: string[] = [];
  for (const rps of [5, 50, 500]) {
    const h = scenario(rps, 0.001);
    let falseAborts = 0;
    for (let seed = 1; seed <= healthy; seed++) {
      if (simulate(h, ours(h, { tickSeconds: tick, errorCheck: check(), shadowFirst: false }), seed * 7919 + rps).outcome === 'aborted') falseAborts++;
    }
    const cells: string[] = [];
    for (const rate of [0.005, 0.02, 0.2]) {
      const sc = scenario(rps, rate);
      const exposed: number[] = [];
      for (let seed = 1; seed <= faulty; seed++) {
        const strategy = ours(sc, { tickSeconds: tick, errorCheck: check(), shadowFirst: false });
        const r = simulate(sc, strategy, seed * 7919 + rps * 31 + Math.round(rate * 1e5));
        if (r.outcome === 'aborted') exposed.push(r.exposed);
      }
      cells.push(`${rate * 100} %: ${exposed.length}/${faulty} rolled back, median ${median(exposed) ?? '-'}`);
    }
    rows.push(`${rps} rps: false aborts ${falseAborts}/${healthy} | ${cells.join(' | ')}`);
  }
  return rows;
}

if (require.main === module) {
  for (const tick of list(process.env.T, '10')) {
    for (const d of list(process.env.D, '10')) {
      for (const a of list(process.env.A, '0.01')) {
        console.log(`tick ${tick} s, detectRatio ${d}, falseAbortRate ${a}`);
        for (const row of sweep(tick, d, a, Number(process.env.H ?? 300), Number(process.env.S ?? 60))) console.log(`  ${row}`);
      }
    }
  }
}
