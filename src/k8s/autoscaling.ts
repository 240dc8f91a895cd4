import { Duration } from 'cdk8s';

/** Options of `Autoscaler.keda()`. */
export interface KedaAutoscalerOptions {
  /**
   * Prometheus the KEDA trigger queries.
   * @default 'http://prometheus-server.monitoring.svc:80'
   */
  readonly prometheusUrl?: string;
  /**
   * PromQL query of the in-flight requests of one version in one environment. `{{model}}`, `{{environment}}`,
   * `{{version}}` and `{{namespace}}` are substituted at synth time.
   * @default 'sum(model_inflight_requests{model="{{model}}",environment="{{environment}}",version="{{version}}"})'
   */
  readonly inFlightQuery?: string;
}

/** Options of `Autoscaler.hpa()`. */
export interface HpaAutoscalerOptions {
  /**
   * Name of the per-pod metric of in-flight requests served by a custom-metrics adapter (prometheus-adapter).
   * @default 'model_inflight_requests'
   */
  readonly metricName?: string;
}

/**
 * What scales an environment's replicas on in-flight requests. Scale to zero (`minReplicas: 0`) always uses the
 * KEDA HTTP add-on, whose interceptor holds requests while a replica starts.
 */
export class Autoscaler {
  /**
   * A KEDA `ScaledObject` with a Prometheus trigger on in-flight requests.
   * @see https://keda.sh/docs/latest/scalers/prometheus/
   */
  public static keda(options: KedaAutoscalerOptions = {}): Autoscaler {
    return new Autoscaler('keda',
      options.prometheusUrl ?? 'http://prometheus-server.monitoring.svc:80',
      options.inFlightQuery ?? 'sum(model_inflight_requests{model="{{model}}",environment="{{environment}}",version="{{version}}"})',
      undefined);
  }

  /**
   * An `autoscaling/v2` HorizontalPodAutoscaler on a per-pod in-flight metric, where KEDA is absent.
   * It cannot scale to zero.
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
   */
  public static hpa(options: HpaAutoscalerOptions = {}): Autoscaler {
    return new Autoscaler('hpa', undefined, undefined, options.metricName ?? 'model_inflight_requests');
  }

  private constructor(
    /** `keda` or `hpa`. */
    public readonly kind: string,
    /** KEDA: the Prometheus URL. */
    public readonly prometheusUrl?: string,
    /** KEDA: the in-flight query template. */
    public readonly inFlightQuery?: string,
    /** HPA: the per-pod metric name. */
    public readonly metricName?: string,
  ) {}
}

/** An environment's autoscaling, carried over to whatever version is promoted into it (Baseten's defaults). */
export interface AutoscalingOptions {
  /**
   * Fewest replicas. 0 scales to zero through the KEDA HTTP add-on (requests at zero wake the model).
   * @default 1 (development: 0)
   */
  readonly minReplicas?: number;
  /**
   * Most replicas.
   * @default 4 (development: 1)
   */
  readonly maxReplicas?: number;
  /**
   * In-flight requests per replica the autoscaler aims at.
   * @default 4
   */
  readonly concurrencyTarget?: number;
  /**
   * How long load must stay high before scaling up (stabilization window).
   * @default Duration.seconds(60)
   */
  readonly scaleUpWindow?: Duration;
  /**
   * How long load must stay low before scaling down (and to zero).
   * @default Duration.seconds(900)
   */
  readonly scaleDownDelay?: Duration;
  /**
   * What scales.
   * @default Autoscaler.keda()
   */
  readonly autoscaler?: Autoscaler;
}
