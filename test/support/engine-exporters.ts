/**
 * Loopback exporters speaking the serving engines' own metric names and labels, beside `vllm-exporter.ts`. None of
 * them carries our `model`, `environment` and `version` labels: those come from the PodMonitor's relabeling, which
 * Prometheus runs.
 * - Hugging Face TGI (https://huggingface.co/docs/text-generation-inference/reference/metrics): counters
 *   `tgi_request_count` and `tgi_request_failure`, gauges `tgi_queue_size` and `tgi_batch_current_size`, the
 *   histogram `tgi_request_duration` (seconds). TGI's exporter names counters without a `_total` suffix.
 * - NVIDIA Triton (triton-inference-server/server docs/user_guide/metrics.md, served on port 8002): counters
 *   `nv_inference_request_success`, `nv_inference_request_failure`, `nv_inference_request_duration_us`, the gauge
 *   `nv_inference_pending_request_count`, each labelled with Triton's own `model` and `version` (the model
 *   repository's name and version number). With `honor_labels` false (the PodMonitor's default) Prometheus keeps
 *   the target's `model`/`version` and renames the scraped ones `exported_model`/`exported_version`.
 */

/** Behaviour of one simulated engine pod (one version): requests a second and the share that fails. */
export interface EnginePod {
  readonly rps: number;
  readonly failureShare: number;
  /** Seconds per request. */
  readonly latencySeconds: number;
  readonly inFlight: number;
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function counts(pod: EnginePod, seconds: number) {
  const total = Math.floor(pod.rps * seconds);
  const failed = Math.floor(total * pod.failureShare);
  return { total, failed, ok: total - failed };
}

/** TGI's exposition after `seconds` of traffic. */
export function tgiExposition(pod: EnginePod, seconds: number): string {
  const { total, failed } = counts(pod, seconds);
  const lines = [
    '# TYPE tgi_request_count counter', `tgi_request_count ${total}`,
    '# TYPE tgi_request_failure counter', `tgi_request_failure{err="generation"} ${failed}`,
    '# TYPE tgi_queue_size gauge', `tgi_queue_size ${Math.floor(pod.inFlight / 2)}`,
    '# TYPE tgi_batch_current_size gauge', `tgi_batch_current_size ${pod.inFlight - Math.floor(pod.inFlight / 2)}`,
    '# TYPE tgi_request_duration histogram',
    ...BUCKETS.map((le) => `tgi_request_duration_bucket{le="${le}"} ${pod.latencySeconds <= le ? total : 0}`),
    `tgi_request_duration_bucket{le="+Inf"} ${total}`, `tgi_request_duration_sum ${total * pod.latencySeconds}`, `tgi_request_duration_count ${total}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Triton's exposition after `seconds` of traffic, for the repository model `model`, version `version`. */
export function tritonExposition(pod: EnginePod, seconds: number, model = 'ensemble', version = '1'): string {
  const { failed, ok } = counts(pod, seconds);
  const l = `model="${model}",version="${version}"`;
  const lines = [
    '# TYPE nv_inference_request_success counter', `nv_inference_request_success{${l}} ${ok}`,
    '# TYPE nv_inference_request_failure counter', `nv_inference_request_failure{${l}} ${failed}`,
    '# TYPE nv_inference_request_duration_us counter', `nv_inference_request_duration_us{${l}} ${Math.round(ok * pod.latencySeconds * 1e6)}`,
    '# TYPE nv_inference_pending_request_count gauge', `nv_inference_pending_request_count{${l}} ${pod.inFlight}`,
  ];
  return `${lines.join('\n')}\n`;
}
