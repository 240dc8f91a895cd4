/**
 * The placeholders a check's query may carry: one list, who fills each, and the refusal of any other.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { Chart, Duration, Testing } from 'cdk8s';
import { Testing as TfTesting } from 'cdktf';
import { AlbCanaryRollout } from '../../src/aws';
import { PrometheusMetrics } from '../../src/controller/prometheus';
import { STATE_KEY_SPEC } from '../../src/core/constants';
import {
  fillPlaceholders, fillSynthPlaceholders, notFilledAtRunTime, placeholdersIn, queriesOf,
  RUNTIME_PLACEHOLDERS, runtimeValues, SYNTH_PLACEHOLDERS, unknownPlaceholders,
} from '../../src/core/placeholders';
import { RolloutSpec } from '../../src/core/spec';
import { CanaryRollout, Model } from '../../src/k8s';
import { AnalysisGate, Metric, RolloutPlan, Step, Steps } from '../../src/rollout';
import { albRolloutProps } from '../support/alb-fixture';
import { rolloutSpec } from '../support/spec-fixture';

const gateway = { name: 'inference', namespace: 'gateways' };

function k8sRollout(checks: Metric[], steps?: Steps) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3' });
  model.addVersion('v2');
  const production = model.addEnvironment('production', { version: 'v1', gateway });
  new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }], checks, ...(steps ? { steps } : {}) });
  return Testing.synth(chart);
}

const custom = (query: string) => Metric.prometheus({ name: 'custom', query, threshold: 1 });

describe('the list of placeholders', () => {
  test('synth-time and run-time placeholders are disjoint, and together every name a preset uses', () => {
    expect(SYNTH_PLACEHOLDERS.filter((n) => (RUNTIME_PLACEHOLDERS as readonly string[]).includes(n))).toEqual([]);
    const check = Metric.sequentialErrorRate({ name: 'e', errorsQuery: 'e{model="{{model}}",version="{{version}}"}[{{window}}]', requestsQuery: 'r{environment="{{environment}}"}' });
    const spec = rolloutSpec({ checks: [check._spec()] });
    const names = spec.checks.flatMap((m) => queriesOf(m)).flatMap((q) => placeholdersIn(q.query));
    expect(new Set(names)).toEqual(new Set(['model', 'version', 'window', 'environment']));
  });

  test('fills what it is given, keeps the rest, and finds a bare `{{` too', () => {
    expect(fillPlaceholders('a{x="{{ model }}",v="{{version}}"}', { model: 'llama' })).toBe('a{x="llama",v="{{version}}"}');
    expect(placeholdersIn('{{a}} {{b}} {{a}}')).toEqual(['a', 'b']);
    expect(placeholdersIn('x{{ oops')).toEqual(['{{']);
    expect(unknownPlaceholders('{{model}} {{modle}}')).toEqual(['modle']);
    expect(notFilledAtRunTime('{{version}} {{window}} {{model}}')).toEqual(['model']);
    expect(runtimeValues({ name: 'r', stable: 'v1' }, 'v2', 10)).toEqual({ version: 'v2', stable: 'v1', rollout: 'r', window: '10s' });
  });

  test('the synth fill reaches checks and analysis gates, every query of each', () => {
    const gate = { name: 'g', metrics: [custom('{{model}}/{{environment}}/{{namespace}}')._spec()], intervalSeconds: 60, count: 1, failureLimit: 0, inconclusiveLimit: 0 };
    const filled = fillSynthPlaceholders({ checks: [custom('{{model}}')._spec()], steps: [{ kind: 'analysis' as const, gate }] }, { model: 'm', environment: 'e', namespace: 'n' });
    expect(JSON.stringify(filled)).not.toMatch(/\{\{(model|environment|namespace)\}\}/);
    expect((filled.steps[0] as any).gate.metrics[0].query).toBe('m/e/n');
  });
});

describe('Kubernetes: the spec the controller reads', () => {
  test('holds the model, environment and namespace; only the controller\'s placeholders are left', () => {
    const objects = k8sRollout([custom('sum(x{namespace="{{namespace}}",model="{{model}}",environment="{{environment}}",version="{{version}}"})')]);
    const spec: RolloutSpec = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.data?.[STATE_KEY_SPEC]).data[STATE_KEY_SPEC]);
    const queries = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))].flatMap((m) => queriesOf(m).map((q) => q.query));
    expect(queries.length).toBeGreaterThanOrEqual(5);
    for (const q of queries) expect(placeholdersIn(q).filter((n) => !(RUNTIME_PLACEHOLDERS as readonly string[]).includes(n))).toEqual([]);
    expect(queries).toContain('sum(x{namespace="models",model="llama",environment="production",version="{{version}}"})');
    expect(queries.some((q) => q.includes('http_requests_total{model="llama",environment="production",version="{{version}}"'))).toBe(true);
  });

  test('a misspelt placeholder in a check is refused at synth with the path, the property, the query and the fix', () => {
    expect(() => k8sRollout([custom('sum(x{model="{{modle}}"})')])).toThrow(
      /\[Chart\/Rollout\] checks\.metrics\[2\]\.query: the query holds `\{\{modle\}\}`, which nothing fills: .*\(received "sum\(x\{model=\\"\{\{modle\}\}\\"\}\)"\)\. Fix: use only `\{\{model\}\}`, `\{\{environment\}\}`, `\{\{namespace\}\}` \(filled at synth\) and `\{\{version\}\}`, `\{\{stable\}\}`, `\{\{rollout\}\}`, `\{\{window\}\}`/,
    );
  });

  test('an analysis gate\'s sample query with a bare `{{` is refused too', () => {
    const gate = Metric.prometheus({ name: 'g', query: 'x', threshold: 1, sampleQuery: 'y{{', minSamples: 1 });
    expect(() => k8sRollout([], Steps.custom([Step.setWeight(10), Step.analysis(new AnalysisGate({ name: 'gate', metrics: [gate] })), Step.setWeight(100)])))
      .toThrow(/steps\[1\]\.gate\.metrics\[0\]\.sampleQuery: the query holds `\{\{` without a name, which nothing fills/);
  });

  test('a plan computed from props keeps the synth-time names (no controller runs it) but refuses unknown ones', () => {
    const plan = (query: string) => RolloutPlan.compute({ name: 'p', stableVersion: 'v1', canaries: [{ version: 'v2' }], checks: [custom(query)], steps: Steps.equal({ count: 2, over: Duration.minutes(2) }) });
    expect(() => plan('x{model="{{model}}"}')).not.toThrow();
    expect(() => plan('x{team="{{team}}"}')).toThrow(/checks\.metrics\[0\]\.query: the query holds `\{\{team\}\}`/);
  });
});

describe('AWS: a rollout without an environment has no model to name', () => {
  test('a query that needs `{{model}}` is refused at synth; one needing only the version is refused as a Prometheus check', () => {
    const synth = (query: string) => TfTesting.synthScope((scope) => {
      new AlbCanaryRollout(scope, 'Rollout', albRolloutProps({ checks: [custom(query)] }));
    });
    expect(() => synth('x{model="{{model}}",version="{{version}}"}')).toThrow(/checks\[0\]\.query: the query holds `\{\{model\}\}`, which nothing fills/);
    expect(() => synth('x{version="{{version}}"}')).toThrow(/checks\[0\]: the AWS controller \(a Lambda\) judges CloudWatch alarms only/);
  });
});

describe('the controller never sends a query with a placeholder left', () => {
  test('a spec holding `{{model}}` (synthesized by an older version or edited by hand): an error naming the check, and no request', async () => {
    // GIVEN a Prometheus stand-in that counts requests (any answer would do: none may arrive)
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const spec = rolloutSpec({ checks: [custom('sum(x{model="{{model}}",version="{{version}}"})')._spec()] });
      // WHEN the controller measures it
      const out = await new PrometheusMetrics(url).measure(spec, ['v2']);
      // THEN the check reports what is left, and Prometheus got nothing
      expect(out.v2.custom.error).toMatch(/^check "custom": its query still holds \{\{model\}\} after the controller's substitution, so it was not sent \(sum\(x\{model="\{\{model\}\}",version="v2"\}\)\); synthesize the rollout again/);
      expect(requests).toBe(0);
      // AND a spec without one is sent, filled with the version
      await new PrometheusMetrics(url).measure(rolloutSpec({ checks: [custom('sum(x{version="{{version}}"})')._spec()] }), ['v2']);
      expect(requests).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('queries without {{environment}}', () => {
  test('GIVEN a custom check summing every environment WHEN a rollout synthesizes THEN it warns with the path, the property, the query and the fix', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'models' });
    const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3' });
    model.addVersion('v2');
    const production = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' } });
    const rollout = new CanaryRollout(chart, 'Rollout', {
      environment: production,
      canaries: [{ version: 'v2' }],
      checks: [Metric.prometheus({ name: 'p99', query: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{version="{{version}}"}[5m])))', threshold: 2 })],
    });
    const warnings = rollout.node.metadata.filter((m: { type: string }) => m.type === 'warning').map((m: { data: string }) => m.data);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\[c\/Rollout\] checks\[0\]\.query: the p99 query does not select \{\{environment\}\}/);
    expect(warnings[0]).toMatch(/environment="\{\{environment\}\}"/);
    // the presets' checks select it: no warning for them
    expect(warnings.join('\n')).not.toMatch(/vllm-/);
  });
});
