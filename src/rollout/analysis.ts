import { Duration } from 'cdk8s';
import { TICK_SECONDS } from '../core/constants';
import { AnalysisGateSpec, ComparisonSpec, MetricSpec } from '../core/spec';

/** How a measurement compares with its threshold. The measurement passes when `value <comparison> threshold`. */
export class Comparison {
  /** Passes when the value is below the threshold (error rates, latencies). */
  public static readonly LESS_THAN = new Comparison('lt');
  /** Passes when the value is at most the threshold. */
  public static readonly LESS_THAN_OR_EQUAL = new Comparison('lte');
  /** Passes when the value is above the threshold (success rates, throughput). */
  public static readonly GREATER_THAN = new Comparison('gt');
  /** Passes when the value is at least the threshold. */
  public static readonly GREATER_THAN_OR_EQUAL = new Comparison('gte');

  private constructor(
    /** The operator's short name (`lt`, `lte`, `gt`, `gte`). */
    public readonly operator: string,
  ) {}
}

/** Options of `Metric.prometheus()`. */
export interface PrometheusMetricOptions {
  /** Name of the metric in logs and status. */
  readonly name: string;
  /**
   * PromQL instant query returning one sample. `{{version}}`, `{{model}}`, `{{environment}}` and
   * `{{namespace}}` are replaced by the canary's values at run time.
   */
  readonly query: string;
  /** Threshold the value is compared with. */
  readonly threshold: number;
  /**
   * Comparison with the threshold; the measurement passes when `value <comparison> threshold`.
   * @default Comparison.LESS_THAN
   */
  readonly comparison?: Comparison;
  /**
   * Minimum-sample guard: a PromQL query counting the requests behind the measurement
   * (for example `sum(increase(requests_total{version="{{version}}"}[5m]))`).
   * @default - no guard
   */
  readonly sampleQuery?: string;
  /**
   * Below this many samples the measurement is inconclusive: the gate waits instead of failing,
   * so a canary at low traffic is not rolled back by noise.
   * @default 0
   */
  readonly minSamples?: number;
}

/** A metric a gate measures. */
export class Metric {
  /** A Prometheus instant query compared with a threshold. */
  public static prometheus(options: PrometheusMetricOptions): Metric {
    return new Metric({
      provider: 'prometheus',
      name: options.name,
      query: options.query,
      threshold: options.threshold,
      comparison: (options.comparison ?? Comparison.LESS_THAN).operator as ComparisonSpec,
      sampleQuery: options.sampleQuery,
      minSamples: options.minSamples,
    });
  }

  /**
   * A CloudWatch alarm (AWS target): a measurement fails while the alarm is in ALARM and is
   * inconclusive while it has INSUFFICIENT_DATA.
   */
  public static cloudWatchAlarm(alarmName: string): Metric {
    return new Metric({ provider: 'cloudwatchAlarm', name: alarmName, alarmName });
  }

  private constructor(private readonly spec: MetricSpec) {}

  /** @internal */
  public _spec(): MetricSpec {
    return this.spec;
  }
}

/** Props of an `AnalysisGate`. */
export interface AnalysisGateProps {
  /** Name of the gate in logs and status. */
  readonly name: string;
  /** Metrics measured together at each interval; one failing metric fails the measurement. */
  readonly metrics: Metric[];
  /**
   * Time between measurements; at least one controller tick.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * Number of conclusive measurements the gate takes before it passes.
   * @default 5
   */
  readonly count?: number;
  /**
   * Failed measurements tolerated; one more fails the gate and aborts the rollout.
   * @default 1
   */
  readonly failureLimit?: number;
  /**
   * Inconclusive measurements (too few samples, no data) tolerated before the gate fails for lack of data.
   * @default 30
   */
  readonly inconclusiveLimit?: number;
}

/**
 * A metric gate: the rollout waits at the current weights until the gate passes, and aborts if it fails.
 * Used as a step (`Step.analysis(gate)`) or as a continuous check on a rollout.
 */
export class AnalysisGate {
  constructor(private readonly props: AnalysisGateProps) {}

  /** @internal */
  public _spec(): AnalysisGateSpec {
    return {
      name: this.props.name,
      metrics: this.props.metrics.map((m) => m._spec()),
      intervalSeconds: this.props.interval ? this.props.interval.toMilliseconds() / 1000 : TICK_SECONDS,
      count: this.props.count ?? 5,
      failureLimit: this.props.failureLimit ?? 1,
      inconclusiveLimit: this.props.inconclusiveLimit ?? 30,
    };
  }
}
