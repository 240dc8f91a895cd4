/**
 * THE STAND-IN for the engine wiring of issue 16, in one place: what `decide()` + the Prometheus adapter will do
 * once the lead wires `sequentialStep` / `judgeWithBaseline` / `noDataDecision` into src/core/decide/analysis.ts and
 * src/controller/prometheus.ts (see the README, "Metrics and gates", and the wiring notes of issue 16).
 *
 * Until then, each tick the simulation:
 * 1. measures one window (60 s) of canary and stable requests/errors, as the adapter's `errorsQuery`/`requestsQuery`
 *    with `{{version}}` = canary and = stable would;
 * 2. runs the pure `sequentialStep` (the same function the engine will call) and keeps its state, as
 *    `ControllerState.sequential[metric]` will;
 * 3. runs the pure no-data rule (`watchData` + `noDataDecision`): hold = no `decide()` this tick, abort = roll back;
 * 4. hands `decide()` an observation whose verdict equals the test's: a failed test is a value above the metric's
 *    ceiling (judge() -> fail -> continuous check fails -> abort with the default `checkFailureLimit` 0); otherwise
 *    the window's error ratio, which judge() checks against the ceiling as it does today.
 * After the merge, replace `wire()` by passing the counts as observations and calling `decide()` alone.
 */
import { Counts } from './sim';
import { DataWatch, DEFAULT_NO_DATA, noDataDecision, watchData } from '../../src/core/gates';
import { sequentialStep, SequentialState } from '../../src/core/sequential';
import { MetricSpec, RolloutSpec } from '../../src/core/spec';
import { MetricObservation } from '../../src/core/state';

/** What the stand-in carries between ticks (the engine will keep it in ControllerState). */
export interface WiringState {
  readonly sequential: Record<string, SequentialState>;
  readonly watch: DataWatch;
}

/** One tick of the stand-in wiring. */
export function wire(spec: RolloutSpec, prev: WiringState, input: {
  readonly now: number;
  readonly canaryWeight: number;
  readonly canary: Counts;
  readonly stable: Counts;
}): { state: WiringState; metrics: Record<string, MetricObservation>; action: 'proceed' | 'hold' | 'abort'; reason?: string } {
  const watch = watchData(prev.watch, { now: input.now, canaryWeight: input.canaryWeight, canaryRequests: input.canary.requests });
  const noData = noDataDecision(spec.noData ?? DEFAULT_NO_DATA, watch, { now: input.now, canaryWeight: input.canaryWeight });
  const sequential = { ...prev.sequential };
  const metrics: Record<string, MetricObservation> = {};
  for (const m of spec.checks) {
    if (m.provider !== 'prometheus') continue;
    metrics[m.name] = observe(m, sequential, input);
  }
  return { state: { sequential, watch }, metrics, action: noData.action, reason: noData.reason };
}

function observe(m: Extract<MetricSpec, { provider: 'prometheus' }>, sequential: Record<string, SequentialState>, input: { canaryWeight: number; canary: Counts; stable: Counts }): MetricObservation {
  if (m.sequential) {
    if (input.canaryWeight <= 0 && input.canary.requests === 0) return {};
    const out = sequentialStep(m.sequential, sequential[m.name], { canary: input.canary, stable: input.stable });
    sequential[m.name] = out.state;
    if (out.verdict === 'fail') return { value: 1, samples: Number.MAX_SAFE_INTEGER };
    return input.canary.requests > 0 ? { value: input.canary.errors / input.canary.requests, samples: input.canary.requests } : {};
  }
  // the simulated canaries are as fast as stable: the latency comparison passes (judgeWithBaseline)
  return { value: 0.2, samples: 1000 };
}
