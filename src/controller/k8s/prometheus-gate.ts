/**
 * A pass-wide guard around one Prometheus: once it stops answering within its timeout, the rest of the pass does
 * not wait on it. Without it, a Prometheus that answers in 6 s (past the 5 s query timeout) costs every rollout
 * 5 s, and a namespace of 120 progressing rollouts outlasts the minute: the rollouts at the end of the pass are
 * never ticked, so their error clock never runs and a `cancel` is never handled.
 *
 * While the gate is shut, each rollout's checks get an error observation at once (the engine holds the weights,
 * and after the rollout's error window aborts: the documented behaviour of an unreachable Prometheus); one rollout
 * at a time still queries, as a probe, and the first answer within the timeout opens the gate again.
 */
import { RolloutSpec } from '../../core/spec';
import { MetricObservation } from '../../core/state';
import { Metrics } from '../ports';

/** A measurement this close to the timeout, with an error, counts as Prometheus not answering. */
const SLOW_FRACTION = 0.9;

/** One gate per Prometheus URL, shared by the rollouts of a controller run. */
export class PrometheusGate {
  private slow?: { readonly since: number; readonly error: string };
  private probing = false;

  constructor(private readonly timeoutMs: number, private readonly clock: () => number = Date.now) {}

  /** `metrics` behind the gate. */
  public wrap(metrics: Metrics): Metrics {
    return { measure: (spec, versions) => this.measure(metrics, spec, versions) };
  }

  /** Whether the gate is shut (a query ran into its timeout and none has answered since). */
  public get shut(): boolean {
    return this.slow !== undefined;
  }

  private async measure(
    metrics: Metrics, spec: RolloutSpec, versions: readonly string[],
  ): Promise<Record<string, Record<string, MetricObservation>>> {
    if (this.slow && this.probing) {
      const error = `Prometheus did not answer within ${this.timeoutMs} ms (${this.slow.error}); not queried for this rollout until it answers again`;
      return Object.fromEntries(versions.map((v) => [v, Object.fromEntries(spec.checks.map((c) => [c.name, { error }]))]));
    }
    const probe = this.slow !== undefined;
    if (probe) this.probing = true;
    const started = this.clock();
    try {
      const out = await metrics.measure(spec, versions);
      const firstError = Object.values(out).flatMap((o) => Object.values(o)).find((o) => o.error !== undefined)?.error;
      if (firstError !== undefined && this.clock() - started >= this.timeoutMs * SLOW_FRACTION) {
        this.slow = this.slow ?? { since: started, error: firstError };
      } else if (firstError === undefined || probe) {
        this.slow = undefined;
      }
      return out;
    } finally {
      if (probe) this.probing = false;
    }
  }
}
