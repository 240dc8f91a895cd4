/**
 * A loopback exporter speaking vLLM's metric names and labels (vllm-project/vllm docs/source/design/v1/metrics.md):
 * gauges `vllm:num_requests_running`/`vllm:num_requests_waiting`, the counter `vllm:request_success_total` by
 * `finished_reason` (stop, length, abort), and the histograms `vllm:time_to_first_token_seconds` and
 * `vllm:e2e_request_latency_seconds`; every series carries `model_name`, as vLLM's do, and NOT our `model`,
 * `environment`, `version` labels: those come from the PodMonitor's relabeling, run by Prometheus.
 */

/** Behaviour of one simulated vLLM pod (one version). */
export interface VllmPod {
  readonly modelName: string;
  readonly rps: number;
  /** Share of requests finishing with `finished_reason="abort"`. */
  readonly abortShare: number;
  readonly running: number;
  readonly waiting: number;
  /** Every request's time to first token, in seconds. */
  readonly ttftSeconds: number;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The exposition of `pod` after `seconds` of traffic. */
export function vllmExposition(pod: VllmPod, seconds: number): string {
  const m = `model_name="${pod.modelName}"`;
  const total = Math.floor(pod.rps * seconds);
  const aborted = Math.floor(total * pod.abortShare);
  const ok = total - aborted;
  const stop = Math.floor(ok * 0.9);
  const lines = [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{${m}} ${pod.running}`,
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{${m}} ${pod.waiting}`,
    '# TYPE vllm:request_success_total counter',
    `vllm:request_success_total{finished_reason="stop",${m}} ${stop}`,
    `vllm:request_success_total{finished_reason="length",${m}} ${ok - stop}`,
    `vllm:request_success_total{finished_reason="abort",${m}} ${aborted}`,
    // the OpenAI server's HTTP layer (prometheus-fastapi-instrumentator, status grouped): the aborted requests as 5xx
    '# TYPE http_requests_total counter',
    `http_requests_total{handler="/v1/chat/completions",method="POST",status="2xx"} ${ok}`,
    `http_requests_total{handler="/v1/chat/completions",method="POST",status="5xx"} ${aborted}`,
  ];
  for (const [name, value] of [['vllm:time_to_first_token_seconds', pod.ttftSeconds], ['vllm:e2e_request_latency_seconds', pod.ttftSeconds * 20]] as const) {
    lines.push(`# TYPE ${name} histogram`);
    for (const le of BUCKETS) lines.push(`${name}_bucket{le="${le}",${m}} ${value <= le ? total : 0}`);
    lines.push(`${name}_bucket{le="+Inf",${m}} ${total}`, `${name}_sum{${m}} ${total * value}`, `${name}_count{${m}} ${total}`);
  }
  return `${lines.join('\n')}\n`;
}
