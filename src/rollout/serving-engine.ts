/**
 * Presets of the serving engines our users run: the metrics each engine exports under its real names, the
 * in-flight query the autoscaler scales on, and the default checks (an error check and a latency check, both canary
 * against stable). Every query selects `model`, `environment` and `version` labels: the PodMonitor this library
 * synthesizes (`k8s/monitoring.ts`) puts them on every series it scrapes from the pods' `model-rollout.dev/*` labels.
 *
 * Placeholders (core/placeholders.ts): `{{model}}`, `{{environment}}` and `{{namespace}}` are filled at synth time,
 * `{{version}}` too for KEDA; the controller fills `{{version}}` for checks. The error checks read raw counter
 * totals (every series, no `increase()`), and the controller counts their exact differences from tick to tick
 * (core/counters.ts): no extrapolation, no request between two windows, any scrape interval. Latency quantiles are
 * over five minutes (`histogram_quantile` over `rate(...[5m])`): a canary's series hold only its own requests, so the
 * range delays its first verdict by two scrapes, not by the range, and needs `minSamples` requests in it.
 */
import { Comparison, Metric } from './analysis';

const SEL = 'model="{{model}}",environment="{{environment}}",version="{{version}}"';
/** vLLM's OpenAI routes that answer users (`handler` is the route template). */
const VLLM_ROUTES = '/v1/chat/completions|/v1/completions|/v1/embeddings|/v1/responses';

/** Options of a preset's error check. */
export interface ErrorCheckOptions {
  /**
   * Probability of aborting a canary no worse than stable (the SPRT's alpha).
   * @default 0.01
   */
  readonly falseAbortRate?: number;
  /**
   * How much worse than stable the canary may be and still pass (H0 = stable rate x (1 + tolerance)).
   * @default 0.5
   */
  readonly tolerance?: number;
  /**
   * Absolute ceiling of the canary's error rate over one tick (at least 50 requests), judged even before the
   * sequential test concludes. The default judges errors relative to stable only: a fixed ceiling is reached by
   * healthy canaries whose users cancel many streams, or whose stable errs as often.
   * @default 1 - none: only a tick in which every request failed
   */
  readonly ceiling?: number;
}

/** Options of a preset's latency check. */
export interface LatencyCheckOptions {
  /**
   * The canary fails when its latency exceeds stable's by this factor and by `maxIncrease`.
   * @default 1.5
   */
  readonly maxRatio?: number;
  /**
   * ... and by this many seconds (the resolution of the engine's histogram buckets, so a tie within one bucket
   * does not fail).
   * @default 0.05
   */
  readonly maxIncreaseSeconds?: number;
  /**
   * Absolute ceiling of the canary's latency, in seconds.
   * @default 30
   */
  readonly ceilingSeconds?: number;
}

/** Options of `ServingEngine.custom()`. */
export interface CustomServingEngineOptions {
  /** Name of the engine (logs, plan). */
  readonly name: string;
  /** PromQL of the in-flight requests of `{{version}}` (the autoscaler's load). One sample; empty means no data. */
  readonly inFlightQuery: string;
  /**
   * PromQL of errors of `{{version}}`: with `counterTotals`, the raw counter series (`my_errors_total{...}`, every
   * series; the controller takes the differences); else over the last tick, `sum(increase(...[{{window}}]))` (the
   * controller substitutes `{{window}}` with the tick, `10s`; a fixed range counts requests twice).
   */
  readonly errorsQuery: string;
  /** PromQL of requests of `{{version}}`, as `errorsQuery`. */
  readonly requestsQuery: string;
  /**
   * `errorsQuery` and `requestsQuery` select raw counter series (exact counts, `Metric.sequentialErrorRate`'s `totals`).
   * @default false
   */
  readonly counterTotals?: boolean;
  /** PromQL of a latency of `{{version}}`, in seconds (lower is better). */
  readonly latencyQuery: string;
  /**
   * PromQL counting the requests behind `latencyQuery` (the minimum-sample guard).
   * @default - no guard
   */
  readonly latencySampleQuery?: string;
  /**
   * Port serving `/metrics`.
   * @default - the model's port
   */
  readonly metricsPort?: number;
  /**
   * Path of the metrics endpoint.
   * @default '/metrics'
   */
  readonly metricsPath?: string;
}

/**
 * A serving engine's metrics: what the autoscaler scales on and what the default checks measure. Selected on the
 * Model (`servingEngine`) or recognised from its image (`ServingEngine.fromImage`).
 */
export class ServingEngine {
  /**
   * vLLM: scales on `vllm:num_requests_running` + `vllm:num_requests_waiting`. Errors are what users see: the
   * OpenAI server's HTTP responses (`http_requests_total` of prometheus-fastapi-instrumentator, which vLLM's
   * `vllm/entrypoints/openai/api_server.py` mounts; `status` grouped as `2xx`/`4xx`/`5xx`, `handler` the route) on
   * the completion routes with status 4xx or 5xx, over all of them. This counts what the engine's own
   * `vllm:request_success_total{finished_reason}` misses (validation, chat template and tokenizer errors, 5xx of
   * the HTTP layer), and a stream the user cancels keeps the 200 it started with, so cancellations are not errors.
   * Latency is p95 time to first token (`vllm:time_to_first_token_seconds`).
   * @see https://github.com/vllm-project/vllm/blob/main/docs/design/metrics.md (vllm-project/vllm docs/source/design/v1/metrics.md)
   * @see https://github.com/trallnag/prometheus-fastapi-instrumentator (`http_requests_total`, `should_group_status_codes`)
   */
  public static readonly VLLM = new ServingEngine({
    name: 'vllm',
    inFlightQuery: `sum({__name__=~"vllm:num_requests_running|vllm:num_requests_waiting",${SEL}})`,
    errorsQuery: `http_requests_total{${SEL},handler=~"${VLLM_ROUTES}",status=~"4xx|5xx"}`,
    requestsQuery: `http_requests_total{${SEL},handler=~"${VLLM_ROUTES}"}`,
    counterTotals: true,
    latencyQuery: `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{${SEL}}[5m])))`,
    latencySampleQuery: `sum(increase(vllm:time_to_first_token_seconds_count{${SEL}}[5m]))`,
  });

  /**
   * Hugging Face TGI: scales on `tgi_queue_size` + `tgi_batch_current_size`; errors are `tgi_request_failure` (every
   * `err`: validation, generation, overloaded, incomplete generation) over `tgi_request_count`, as raw totals; latency
   * is p95 `tgi_request_duration`.
   * @see https://huggingface.co/docs/text-generation-inference/reference/metrics
   */
  public static readonly TGI = new ServingEngine({
    name: 'tgi',
    inFlightQuery: `sum({__name__=~"tgi_queue_size|tgi_batch_current_size",${SEL}})`,
    errorsQuery: `tgi_request_failure{${SEL}}`,
    requestsQuery: `tgi_request_count{${SEL}}`,
    counterTotals: true,
    latencyQuery: `histogram_quantile(0.95, sum by (le) (rate(tgi_request_duration_bucket{${SEL}}[5m])))`,
    latencySampleQuery: `sum(increase(tgi_request_duration_count{${SEL}}[5m]))`,
  });

  /**
   * NVIDIA Triton: scales on `nv_inference_pending_request_count`; errors are `nv_inference_request_failure` over
   * success + failure (both counters' series, summed by the controller), as raw totals; latency is the mean
   * `nv_inference_request_duration_us` per request, in seconds. Metrics are on port 8002. Triton's own
   * `model`/`version` labels become `exported_model`/`exported_version` (Prometheus keeps the target's labels when
   * `honor_labels` is false, the default).
   * @see https://github.com/triton-inference-server/server/blob/main/docs/user_guide/metrics.md
   */
  public static readonly TRITON = new ServingEngine({
    name: 'triton',
    inFlightQuery: `sum(nv_inference_pending_request_count{${SEL}})`,
    errorsQuery: `nv_inference_request_failure{${SEL}}`,
    requestsQuery: `{__name__=~"nv_inference_request_success|nv_inference_request_failure",${SEL}}`,
    counterTotals: true,
    latencyQuery: `sum(increase(nv_inference_request_duration_us{${SEL}}[5m])) / sum(increase(nv_inference_request_success{${SEL}}[5m])) / 1000000`,
    latencySampleQuery: `sum(increase(nv_inference_request_success{${SEL}}[5m]))`,
    metricsPort: 8002,
  });

  /** An engine of your own, with your queries. */
  public static custom(options: CustomServingEngineOptions): ServingEngine {
    return new ServingEngine(options);
  }

  /**
   * The engine an image runs, recognised from its repository name (`vllm/vllm-openai`, `.../text-generation-inference`,
   * `nvcr.io/nvidia/tritonserver`); undefined when not recognisable.
   */
  public static fromImage(image: string): ServingEngine | undefined {
    const repository = image.split('@')[0].replace(/:[^/]*$/, '').toLowerCase();
    if (/(^|[/_-])vllm([/_-]|$)/.test(repository)) return ServingEngine.VLLM;
    if (/text-generation-inference|(^|[/_-])tgi([/_-]|$)/.test(repository)) return ServingEngine.TGI;
    if (/tritonserver|(^|[/_-])triton([/_-]|$)/.test(repository)) return ServingEngine.TRITON;
    return undefined;
  }

  /** Name of the engine. */
  public readonly name: string;
  /** PromQL of in-flight requests of `{{version}}`. */
  public readonly inFlightQuery: string;
  /** PromQL of errors of `{{version}}` (raw counter series with `counterTotals`, else over one tick). */
  public readonly errorsQuery: string;
  /** PromQL of requests of `{{version}}` (raw counter series with `counterTotals`, else over one tick). */
  public readonly requestsQuery: string;
  /** Whether the error and request queries select raw counter series. */
  public readonly counterTotals: boolean;
  /** PromQL of the latency of `{{version}}`, in seconds. */
  public readonly latencyQuery: string;
  /** PromQL counting the requests behind the latency, if any. */
  public readonly latencySampleQuery?: string;
  /** Port of the metrics endpoint, when not the model's. */
  public readonly metricsPort?: number;
  /** Path of the metrics endpoint. */
  public readonly metricsPath: string;

  private constructor(o: CustomServingEngineOptions) {
    this.name = o.name;
    this.inFlightQuery = o.inFlightQuery;
    this.errorsQuery = o.errorsQuery;
    this.requestsQuery = o.requestsQuery;
    this.counterTotals = o.counterTotals ?? false;
    this.latencyQuery = o.latencyQuery;
    this.latencySampleQuery = o.latencySampleQuery;
    this.metricsPort = o.metricsPort;
    this.metricsPath = o.metricsPath ?? '/metrics';
  }

  /**
   * The default error check: a sequential test (SPRT) of the canary's errors against the stable version's over the
   * same windows, with an absolute ceiling.
   */
  public errorCheck(options: ErrorCheckOptions = {}): Metric {
    return Metric.sequentialErrorRate({
      name: `${this.name}-error-rate`,
      errorsQuery: this.errorsQuery,
      requestsQuery: this.requestsQuery,
      falseAbortRate: options.falseAbortRate,
      tolerance: options.tolerance,
      ceiling: options.ceiling ?? (this.counterTotals ? 1 : undefined),
      totals: this.counterTotals,
    });
  }

  /** The default latency check: the canary's latency against the stable version's over the same window. */
  public latencyCheck(options: LatencyCheckOptions = {}): Metric {
    return Metric.prometheus({
      name: `${this.name}-latency`,
      query: this.latencyQuery,
      threshold: options.ceilingSeconds ?? 30,
      comparison: Comparison.LESS_THAN,
      sampleQuery: this.latencySampleQuery,
      // p95 of 100 requests is within about 10 % of the true p95 (sd of a sample quantile: sqrt(0.95 * 0.05 / n)
      // / density), well inside the 1.5 ratio
      minSamples: this.latencySampleQuery ? 100 : undefined,
      compareWithStable: true,
      maxRatio: options.maxRatio ?? 1.5,
      maxDifference: options.maxIncreaseSeconds ?? 0.05,
    });
  }
}
