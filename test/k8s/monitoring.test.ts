/**
 * Issue 16 on Kubernetes: the PodMonitor (validated against prometheus-operator's field list), the serving engine
 * recognised from the image, the KEDA trigger on the engine's real metrics with an empty answer not read as zero,
 * and the default checks every rollout gets.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { Autoscaler, CanaryRollout, Model } from '../../src/k8s';
import { Metric, ServingEngine } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { validatePodMonitor } from '../support/prometheus-operator-schema';
import { objectsOf } from '../support/synth';

const gateway = { name: 'inference', namespace: 'gateways' };

function setup(image = 'vllm/vllm-openai:v0.6.3', extra: Record<string, unknown> = {}) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image, ...extra });
  model.addVersion('v2');
  return { chart, model };
}

describe('PodMonitor', () => {
  test('one per environment, selecting its pods, relabeling the pod labels to model, environment, version', () => {
    const { chart, model } = setup('vllm/vllm-openai:v0.6.3', { monitoring: { labels: { release: 'kube-prometheus-stack' }, interval: Duration.seconds(10) } });
    model.addEnvironment('production', { version: 'v1', gateway });
    model.addEnvironment('staging', { version: 'v2', gateway });
    const objects = Testing.synth(chart);
    const monitors = objectsOf(objects, 'PodMonitor');
    expect(monitors.map((m) => m.metadata.name)).toEqual(['llama-production', 'llama-staging']);
    const pm = monitors[0];
    expect(pm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pm.metadata.labels).toMatchObject({ 'release': 'kube-prometheus-stack', 'model-rollout.dev/model': 'llama' });
    expect(pm.spec.selector).toEqual({ matchLabels: { 'model-rollout.dev/model': 'llama', 'model-rollout.dev/environment': 'production' } });
    expect(pm.spec.namespaceSelector).toEqual({ matchNames: ['models'] });
    expect(pm.spec.podMetricsEndpoints).toEqual([{
      port: 'http',
      path: '/metrics',
      interval: '10s',
      relabelings: [
        { sourceLabels: ['__meta_kubernetes_pod_label_model_rollout_dev_model'], targetLabel: 'model', action: 'replace' },
        { sourceLabels: ['__meta_kubernetes_pod_label_model_rollout_dev_environment'], targetLabel: 'environment', action: 'replace' },
        { sourceLabels: ['__meta_kubernetes_pod_label_model_rollout_dev_version'], targetLabel: 'version', action: 'replace' },
      ],
    }]);
    // the pods carry the labels the relabeling reads, and the port the endpoint names
    const deployment = objectsOf(objects, 'Deployment', 'llama-production-v1')[0];
    expect(deployment.spec.template.metadata.labels).toMatchObject({ 'model-rollout.dev/model': 'llama', 'model-rollout.dev/environment': 'production', 'model-rollout.dev/version': 'v1' });
    expect(deployment.spec.template.spec.containers[0].ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expectValid(objects);
    expect(validatePodMonitor(pm)).toEqual([]);
  });

  test('the schema check catches misspelled fields, bad actions and label names', () => {
    const bad = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'x' }, spec: { selector: {}, podMetricsEndpoints: [{ port: 'http', relabeling: [], relabelings: [{ source_labels: ['a'], targetLabel: 'bad-label', action: 'rename' }] }] } };
    expect(validatePodMonitor(bad)).toEqual(expect.arrayContaining([
      expect.stringMatching(/unknown field spec.podMetricsEndpoints\[0\].relabeling$/),
      expect.stringMatching(/unknown field .*source_labels/),
      expect.stringMatching(/targetLabel bad-label/),
      expect.stringMatching(/action rename/),
    ]));
  });

  test('Triton serves metrics on 8002: the container names that port and the monitor scrapes it', () => {
    const { chart, model } = setup('nvcr.io/nvidia/tritonserver:24.08-trtllm-python-py3');
    model.addEnvironment('production', { version: 'v1', gateway });
    const objects = Testing.synth(chart);
    expect(objectsOf(objects, 'Deployment', 'llama-production-v1')[0].spec.template.spec.containers[0].ports).toEqual([{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 8002 }]);
    expect(objectsOf(objects, 'PodMonitor')[0].spec.podMetricsEndpoints[0].port).toBe('metrics');
    expectValid(objects);
  });

  test('no engine recognised: no monitor unless enabled; disabled explicitly: none', () => {
    const unknown = setup('registry.example.com/my-server:1');
    unknown.model.addEnvironment('production', { version: 'v1', gateway });
    expect(objectsOf(Testing.synth(unknown.chart), 'PodMonitor')).toHaveLength(0);
    const off = setup('vllm/vllm-openai:v0.6.3', { monitoring: { enabled: false } });
    off.model.addEnvironment('production', { version: 'v1', gateway });
    expect(objectsOf(Testing.synth(off.chart), 'PodMonitor')).toHaveLength(0);
  });
});

describe('serving engine presets', () => {
  test('recognised from the image', () => {
    expect(ServingEngine.fromImage('vllm/vllm-openai:v0.6.3')).toBe(ServingEngine.VLLM);
    expect(ServingEngine.fromImage('public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo:v0.8.5')).toBe(ServingEngine.VLLM);
    expect(ServingEngine.fromImage('ghcr.io/huggingface/text-generation-inference:2.4.0')).toBe(ServingEngine.TGI);
    expect(ServingEngine.fromImage('nvcr.io/nvidia/tritonserver:24.08-py3')).toBe(ServingEngine.TRITON);
    expect(ServingEngine.fromImage('registry.example.com/my-server:vllm')).toBeUndefined(); // a tag is not a repository
    expect(ServingEngine.fromImage('m:9')).toBeUndefined();
  });

  test('vLLM queries use vLLM\'s metric names and our labels', () => {
    const v = ServingEngine.VLLM;
    expect(v.inFlightQuery).toBe('sum({__name__=~"vllm:num_requests_running|vllm:num_requests_waiting",model="{{model}}",environment="{{environment}}",version="{{version}}"})');
    expect(v.errorsQuery).toBe('http_requests_total{model="{{model}}",environment="{{environment}}",version="{{version}}",handler=~"/v1/chat/completions|/v1/completions|/v1/embeddings|/v1/responses",status=~"4xx|5xx"}');
    expect(v.latencyQuery).toContain('vllm:time_to_first_token_seconds_bucket');
    const error = v.errorCheck()._spec();
    expect(error).toMatchObject({ provider: 'prometheus', name: 'vllm-error-rate', comparison: 'lt', threshold: 1, minSamples: 50, sequential: { falseAbortRate: 0.01, tolerance: 0.5, detectRatio: 10, totals: true } });
    const latency = v.latencyCheck()._spec();
    expect(latency).toMatchObject({ name: 'vllm-latency', threshold: 30, baseline: { maxRatio: 1.5, maxDifference: 0.05 }, minSamples: 100 });
  });

  test('Metric.sequentialErrorRate refuses impossible rates; Metric.prometheus compares with stable on request', () => {
    expect(() => Metric.sequentialErrorRate({ name: 'e', errorsQuery: 'a', requestsQuery: 'b', falseAbortRate: 1.5 })).toThrow(/^\[Metric\.sequentialErrorRate\(e\)\] falseAbortRate: falseAbortRate must be in \(0, 1\) \(received 1\.5\)\. Fix: use a probability between 0 and 1/);
    expect(Metric.prometheus({ name: 'p', query: 'q', threshold: 1, compareWithStable: true, maxDifference: 0.1 })._spec()).toMatchObject({ baseline: { maxRatio: 1.5, maxDifference: 0.1 } });
    expect(Metric.prometheus({ name: 'p', query: 'q', threshold: 1 })._spec()).not.toHaveProperty('baseline');
  });
});

describe('KEDA on the engine\'s metrics', () => {
  test('the trigger queries running + waiting, an empty answer is an error, and the fallback serves at full capacity', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 2, maxReplicas: 8 } });
    const objects = Testing.synth(chart);
    const so = objectsOf(objects, 'ScaledObject', 'llama-production-v1')[0];
    expect(so.spec.triggers[0].metadata).toEqual({
      serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
      query: 'sum({__name__=~"vllm:num_requests_running|vllm:num_requests_waiting",model="llama",environment="production",version="v1"})',
      threshold: '4',
      ignoreNullValues: 'false',
    });
    expect(so.spec.fallback).toEqual({ failureThreshold: 3, replicas: 8 });
    expectValid(objects);
  });

  test('authentication, headers and fallback are configurable; idle versions fall back to their floor', () => {
    const { chart, model } = setup();
    const autoscaler = Autoscaler.keda({ prometheusUrl: 'https://amp.example.com', triggerAuthentication: 'prom-creds', authModes: 'bearer', customHeaders: 'X-Scope-OrgID=models', fallbackReplicas: 3, fallbackFailureThreshold: 5 });
    const env = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 2, maxReplicas: 8, autoscaler } });
    new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }] });
    const objects = Testing.synth(chart);
    const so = objectsOf(objects, 'ScaledObject', 'llama-production-v1')[0];
    expect(so.spec.triggers[0]).toMatchObject({ metadata: { authModes: 'bearer', customHeaders: 'X-Scope-OrgID=models' }, authenticationRef: { name: 'prom-creds' } });
    expect(so.spec.fallback).toEqual({ failureThreshold: 5, replicas: 3 });
    expect(objectsOf(objects, 'ScaledObject', 'llama-production-v2')[0].spec.fallback).toEqual({ failureThreshold: 5, replicas: 0 });
    expectValid(objects);
  });
});

describe('default checks', () => {
  const specOf = (r: CanaryRollout) => r.plan._spec();

  test('every rollout of a recognised engine gets the SPRT error check and the latency check, plus the no-data policy', () => {
    const { chart, model } = setup();
    const env = model.addEnvironment('production', { version: 'v1', gateway });
    const r = new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }], checks: [Metric.prometheus({ name: 'mine', query: 'q', threshold: 1 })] });
    const spec = specOf(r);
    expect(spec.checks.map((c) => c.name)).toEqual(['vllm-error-rate', 'vllm-latency', 'mine']);
    expect(spec.noData).toEqual({ holdAfterSeconds: 120, abortAfterSeconds: 600 });
    expectValid(Testing.synth(chart));
  });

  test('only an explicit defaultChecks: false removes them; no-data timings are configurable', () => {
    const { chart, model } = setup();
    const env = model.addEnvironment('production', { version: 'v1', gateway });
    const r = new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }], defaultChecks: false, noDataHoldAfter: Duration.minutes(1), noDataAbortAfter: Duration.minutes(3) });
    expect(specOf(r).checks).toEqual([]);
    expect(specOf(r).noData).toEqual({ holdAfterSeconds: 60, abortAfterSeconds: 180 });
    expect(() => new CanaryRollout(chart, 'Bad', { environment: model.addEnvironment('staging', { version: 'v1', gateway }), canaries: [{ version: 'v2' }], noDataHoldAfter: Duration.minutes(5), noDataAbortAfter: Duration.minutes(1) })).toThrow(/noDataAbortAfter/);
  });

  test('an unrecognisable engine with default checks on is a synth error naming the fix; `defaultChecks: false` opts out', () => {
    const { chart, model } = setup('registry.example.com/my-server:1');
    const env = model.addEnvironment('production', { version: 'v1', gateway });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }] }))
      .toThrow(/^\[Chart\/Rollout\] defaultChecks: the serving engine of model "llama" is not recognisable from its image.*Fix: set `servingEngine` on the Model/);
    const r = new CanaryRollout(chart, 'Unchecked', { environment: env, canaries: [{ version: 'v2' }], defaultChecks: false });
    expect(specOf(r).checks).toEqual([]);
  });

  test('servingEngine on the Model overrides the image', () => {
    const { chart, model } = setup('registry.example.com/my-server:1', { servingEngine: ServingEngine.TGI });
    const env = model.addEnvironment('production', { version: 'v1', gateway });
    const r = new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }] });
    expect(specOf(r).checks.map((c) => c.name)).toEqual(['tgi-error-rate', 'tgi-latency']);
  });
});
