import { Duration } from 'cdk8s';
import { TICK_SECONDS } from '../core/constants';
import * as errors from '../core/errors';
import { DEFAULT_SEQUENTIAL, sequentialSpecProblem } from '../core/sequential';
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
   * PromQL instant query returning one sample. `{{model}}`, `{{environment}}` and `{{namespace}}` are filled at
   * synth time (the rollout's model, environment and namespace); `{{version}}` (the measured version), `{{stable}}`,
   * `{{rollout}}` and `{{window}}` (one tick, e.g. `10s`) by the controller at every query. Any other `{{name}}` is
   * refused at synth: it would be sent as written and match nothing.
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
  /**
   * Canary versus stable: also measure the stable version over the same window (the same query with `{{version}}`
   * set to the stable version, or `baselineQuery`), and fail when the canary is worse by more than `maxRatio` and
   * `maxDifference`. `threshold` stays an absolute ceiling.
   * @default false
   */
  readonly compareWithStable?: boolean;
  /**
   * PromQL of the stable version's value (with `compareWithStable`). `{{stable}}` is the stable version's name.
   * @default - `query` with `{{version}}` set to the stable version
   */
  readonly baselineQuery?: string;
  /**
   * With `compareWithStable`: worse than stable by more than this factor (and `maxDifference`) fails.
   * @default 1.5
   */
  readonly maxRatio?: number;
  /**
   * With `compareWithStable`: worse than stable by more than this difference (and `maxRatio`) fails.
   * @default 0
   */
  readonly maxDifference?: number;
}

/** Options of `Metric.sequentialErrorRate()`. */
export interface SequentialErrorRateOptions {
  /** Name of the metric in logs and status. */
  readonly name: string;
  /**
   * PromQL: errors of `{{version}}` over the last tick (`sum(increase(...[{{window}}]))`: the controller puts the
   * tick, e.g. `10s`, in `{{window}}`); empty reads as no data.
   */
  readonly errorsQuery: string;
  /** PromQL: requests of `{{version}}` over the last tick (`[{{window}}]`). */
  readonly requestsQuery: string;
  /**
   * Probability of aborting a canary no worse than stable within the tolerance (alpha).
   * @default 0.01
   */
  readonly falseAbortRate?: number;
  /**
   * Probability of passing a canary at the detected rate (beta).
   * @default 0.1
   */
  readonly missRate?: number;
  /**
   * Lowest error rate assumed for stable.
   * @default 0.001
   */
  readonly baselineFloor?: number;
  /**
   * How much worse than stable the canary may be and still pass: H0 = stable x (1 + tolerance).
   * @default 0.5
   */
  readonly tolerance?: number;
  /**
   * The rate the test detects: H1 = H0 x detectRatio.
   * @default 10
   */
  readonly detectRatio?: number;
  /**
   * Absolute ceiling of the canary's error rate over one window (judged with at least 50 requests).
   * @default 0.05
   */
  readonly ceiling?: number;
  /**
   * `errorsQuery` and `requestsQuery` select raw counter series (an instant selector such as
   * `http_requests_total{...}`, any number of series, no `increase()` and no `{{window}}`): the controller reads
   * them at every tick and counts the exact differences, handling counter resets and new series
   * (core/counters.ts). Without it, the queries count one window with `increase()`, which Prometheus extrapolates.
   * @default false
   */
  readonly totals?: boolean;
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
      ...(options.compareWithStable || options.baselineQuery ? {
        baseline: {
          ...(options.baselineQuery ? { query: options.baselineQuery } : {}),
          maxRatio: options.maxRatio ?? 1.5,
          maxDifference: options.maxDifference ?? 0,
        },
      } : {}),
    });
  }

  /**
   * Canary errors against stable errors, as a sequential test (Wald's SPRT; see the README, "Metrics and gates"):
   * it aborts as soon as the evidence says the canary is worse than stable, with a stated false-abort rate, and
   * passes once it says the canary is no worse. The error ratio over one window also has an absolute `ceiling`.
   */
  public static sequentialErrorRate(options: SequentialErrorRateOptions): Metric {
    const test = {
      errorsQuery: options.errorsQuery,
      requestsQuery: options.requestsQuery,
      falseAbortRate: options.falseAbortRate ?? DEFAULT_SEQUENTIAL.falseAbortRate,
      missRate: options.missRate ?? DEFAULT_SEQUENTIAL.missRate,
      baselineFloor: options.baselineFloor ?? DEFAULT_SEQUENTIAL.baselineFloor,
      tolerance: options.tolerance ?? DEFAULT_SEQUENTIAL.tolerance,
      detectRatio: options.detectRatio ?? DEFAULT_SEQUENTIAL.detectRatio,
      minStableRequests: DEFAULT_SEQUENTIAL.minStableRequests,
      ...(options.totals ? { totals: true } : {}),
    };
    const problem = sequentialSpecProblem(test);
    if (problem) {
      const property = problem.split(' ')[0];
      throw errors.sequentialOptionInvalid(`Metric.sequentialErrorRate(${options.name})`, property, (test as Record<string, unknown>)[property], problem);
    }
    return new Metric({
      provider: 'prometheus',
      name: options.name,
      // with totals, the ceiling is judged on the tick's exact counts (value = errors / requests); the query is not sent
      query: options.totals ? `sum(${options.errorsQuery}) / sum(${options.requestsQuery})` : `(${options.errorsQuery}) / (${options.requestsQuery})`,
      threshold: options.ceiling ?? 0.05,
      comparison: 'lt',
      sampleQuery: options.requestsQuery,
      minSamples: 50,
      sequential: test,
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
