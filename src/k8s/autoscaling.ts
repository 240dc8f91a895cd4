import { Duration } from 'cdk8s';

/** Options of `Autoscaler.keda()`. */
export interface KedaAutoscalerOptions {
  /**
   * Prometheus the KEDA trigger queries (the one that scrapes the model's pods through its PodMonitor).
   * @default - the Model's `prometheusUrl`; one of them is required (no address is guessed)
   */
  readonly prometheusUrl?: string;
  /**
   * PromQL query of the in-flight requests of one version in one environment. `{{model}}`, `{{environment}}`,
   * `{{version}}` and `{{namespace}}` are substituted at synth time. An empty answer is an error, not zero load.
   * @default - the model's serving engine's (vLLM: running + waiting requests); without one,
   * 'sum(model_inflight_requests{model="{{model}}",environment="{{environment}}",version="{{version}}"})'
   */
  readonly inFlightQuery?: string;
  /**
   * Replicas of the serving version while the query fails (no data, Prometheus down) `fallbackFailureThreshold`
   * times in a row. Other versions fall back to their floor.
   * @default - the environment's maximum: unknown load is served at full capacity
   */
  readonly fallbackReplicas?: number;
  /**
   * Consecutive failed queries before the fallback applies.
   * @default 3
   */
  readonly fallbackFailureThreshold?: number;
  /**
   * Name of a KEDA `TriggerAuthentication` in the environment's namespace holding the Prometheus credentials and CA
   * (`bearerToken`, `username`/`password`, `ca`, `cert`/`key`).
   * @see https://keda.sh/docs/2.16/scalers/prometheus/#authentication-parameters
   * @default - no authentication
   */
  readonly triggerAuthentication?: string;
  /**
   * KEDA `authModes` of the trigger (`bearer`, `basic`, `tls`, `custom`, comma-separated), with `triggerAuthentication`.
   * @default - none
   */
  readonly authModes?: string;
  /**
   * Headers sent with every query (`X-Scope-OrgID=tenant`), KEDA's `customHeaders` format (`k=v,k2=v2`).
   * @default - none
   */
  readonly customHeaders?: string;
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
      options.prometheusUrl,
      options.inFlightQuery,
      undefined,
      options.fallbackReplicas,
      options.fallbackFailureThreshold,
      options.triggerAuthentication,
      options.authModes,
      options.customHeaders);
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
    /** KEDA: the Prometheus URL (undefined: the Model's). */
    public readonly prometheusUrl?: string,
    /** KEDA: the in-flight query template (undefined: the serving engine's). */
    public readonly inFlightQuery?: string,
    /** HPA: the per-pod metric name. */
    public readonly metricName?: string,
    /** KEDA: replicas of the serving version while the query fails. */
    public readonly fallbackReplicas?: number,
    /** KEDA: failed queries before the fallback. */
    public readonly fallbackFailureThreshold?: number,
    /** KEDA: TriggerAuthentication name. */
    public readonly triggerAuthentication?: string,
    /** KEDA: authModes. */
    public readonly authModes?: string,
    /** KEDA: customHeaders. */
    public readonly customHeaders?: string,
  ) {}
}

/**
 * Which KEDA HTTP add-on API scale to zero renders.
 * @see https://github.com/kedacore/http-add-on/blob/main/config/crd/bases/http.keda.sh_interceptorroutes.yaml
 */
export enum ScaleToZeroApi {
  /**
   * `HTTPScaledObject` (`http.keda.sh/v1alpha1`): the add-on creates the ScaledObject. Served by add-on v0.11 to
   * v0.15 (per-object `spec.timeouts` came with v0.11); deprecated from v0.14.
   */
  HTTP_SCALED_OBJECT = 'HTTPScaledObject',
  /**
   * `InterceptorRoute` (`http.keda.sh/v1beta1`, add-on v0.14 and later) for routing and the interceptor's
   * timeouts, plus a ScaledObject of ours with the add-on's `external-push` trigger (the add-on no longer creates
   * one for an InterceptorRoute).
   */
  INTERCEPTOR_ROUTE = 'InterceptorRoute',
}

/**
 * The KEDA HTTP add-on's Services, which scale to zero routes through: where the add-on is installed. The defaults
 * are the add-on's Helm chart defaults in the `keda` namespace (kedacore/charts `http-add-on/values.yaml`:
 * `interceptor.proxy.service` `keda-add-ons-http-interceptor-proxy` port 8080, the external scaler
 * `keda-add-ons-http-external-scaler` port 9090).
 */
export interface KedaHttpAddOnOptions {
  /**
   * Namespace the add-on runs in.
   * @default 'keda'
   */
  readonly namespace?: string;
  /**
   * The interceptor's proxy Service, which the environment's route sends requests to.
   * @default 'keda-add-ons-http-interceptor-proxy'
   */
  readonly interceptorService?: string;
  /**
   * The interceptor proxy Service's port.
   * @default 8080
   */
  readonly interceptorPort?: number;
  /**
   * The external scaler's Service (`ScaleToZeroApi.INTERCEPTOR_ROUTE` renders a ScaledObject that calls it).
   * @default 'keda-add-ons-http-external-scaler'
   */
  readonly externalScalerService?: string;
  /**
   * The external scaler Service's port.
   * @default 9090
   */
  readonly externalScalerPort?: number;
}

/**
 * One version's autoscaling, over its environments' (BentoCloud's per-target scaling: main at most 1 replica,
 * canary a at most 2, b at most 3). Each value replaces the environment's, above or below it. A development
 * environment keeps its 0..1 and an environment that scales to zero keeps its 0 minimum.
 */
export interface VersionAutoscalingOptions {
  /**
   * Fewest replicas while the version serves (the stable version's baseline; a canary's floor once it has traffic).
   * @default - the environment's
   */
  readonly minReplicas?: number;
  /**
   * Most replicas, also when the environment's maximum is lower. A canary's share never asks for more.
   * @default - the environment's
   */
  readonly maxReplicas?: number;
  /**
   * In-flight requests per replica the autoscaler aims at.
   * @default - the environment's
   */
  readonly concurrencyTarget?: number;
  /**
   * How long load must stay high before scaling up.
   * @default - the environment's
   */
  readonly scaleUpWindow?: Duration;
  /**
   * How long load must stay low before scaling down.
   * @default - the environment's
   */
  readonly scaleDownDelay?: Duration;
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
  /**
   * The KEDA HTTP add-on API scale to zero (`minReplicas: 0`) renders. The default works on the widest range of
   * add-on versions (v0.11 to v0.15); choose `ScaleToZeroApi.INTERCEPTOR_ROUTE` on v0.14 and later, where
   * HTTPScaledObject is deprecated.
   * @default ScaleToZeroApi.HTTP_SCALED_OBJECT
   */
  readonly scaleToZeroApi?: ScaleToZeroApi;
  /**
   * Where the KEDA HTTP add-on is installed (scale to zero).
   * @default - the add-on's Helm chart defaults in the `keda` namespace
   */
  readonly kedaHttpAddOn?: KedaHttpAddOnOptions;
}
