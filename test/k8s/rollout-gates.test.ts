/**
 * The rollout's gate settings at synth: the tick interval (sub-minute ticks) in the spec and its validation, the
 * Prometheus CA and credentials mounted into the namespace controller's pod, and the refusal of a rollout that would
 * have no check at all (a serving engine not recognisable from the image).
 */
import { Chart, Duration, Testing } from 'cdk8s';
import { CanaryRollout, CanaryRolloutProps, Model } from '../../src/k8s';
import { Metric } from '../../src/rollout/analysis';
import { findObject } from '../support/synth';

const gateway = { name: 'inference', namespace: 'gateways' };

function build(props: Partial<CanaryRolloutProps> = {}, image = 'vllm/vllm-openai:v0.6.3', models = ['llama']) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  for (const name of models) {
    const m = new Model(chart, name, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name, image });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway });
    new CanaryRollout(chart, `${name}Rollout`, { environment: prod, canaries: [{ version: 'v2' }], ...props });
  }
  return Testing.synth(chart);
}

const specOf = (objects: any[], name = 'llama') => JSON.parse(findObject(objects, 'ConfigMap', `${name}-production-rollout-spec`).data['spec.json']);
const cronJob = (objects: any[]) => findObject(objects, 'CronJob');
const podSpec = (objects: any[]) => cronJob(objects).spec.jobTemplate.spec.template.spec;

describe('tick interval', () => {
  test('by default the rollout ticks every 10 s within the once-a-minute run; the Job deadline only ends a hung run', () => {
    const objects = build();
    expect(specOf(objects).tickSeconds).toBe(10);
    const cron = cronJob(objects);
    expect(cron.spec.schedule).toBe('* * * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    // the controller ends its run 57 s after its own process started (controller/k8s/main.ts, RUN_SECONDS); the Job's
    // deadline counts from the Job's start (scheduling and image pull included), so it must leave room for a late pod
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(110);
    expect(cron.spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds).toBe(10);
    expect(cron.spec.startingDeadlineSeconds).toBeLessThanOrEqual(58);
  });

  test('the preset error check reads raw counter totals (no range, no extrapolation), differenced by the controller', () => {
    const check = specOf(build()).checks.find((c: any) => c.sequential);
    expect(check.sequential.errorsQuery).not.toMatch(/increase|\[/);
    expect(check.sequential.requestsQuery).not.toMatch(/increase|\[/);
    expect(check.sequential).toMatchObject({ falseAbortRate: 0.01, detectRatio: 10, totals: true });
  });

  test.each([30, 15, 60])('tickInterval of %i s is taken', (seconds) => {
    expect(specOf(build({ tickInterval: Duration.seconds(seconds) })).tickSeconds).toBe(seconds);
  });

  test.each([5, 25, 120])('tickInterval of %i s is refused with the fix', (seconds) => {
    expect(() => build({ tickInterval: Duration.seconds(seconds) })).toThrow(
      new RegExp(`^\\[Chart/llamaRollout\\] tickInterval: .*must divide 60 s and be at least 10 s .*\\(received ${seconds} s\\)\\. Fix: use Duration\\.seconds\\(10\\)`));
  });
});

describe('Prometheus CA and credentials', () => {
  test('a CA from a ConfigMap and a bearer token from a Secret are mounted read-only, with the files named in the env', () => {
    const objects = build({
      prometheusUrl: 'https://prometheus.monitoring:9091',
      prometheusConnection: { caConfigMap: { name: 'kube-root-ca.crt', key: 'ca.crt' }, bearerTokenSecret: { name: 'prom-token', key: 'token' } },
    });
    const pod = podSpec(objects);
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'prometheus-ca', configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { name: 'prometheus-token', secret: { secretName: 'prom-token', items: [{ key: 'token', path: 'token' }] } },
    ]));
    const c = pod.containers[0];
    expect(c.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'prometheus-ca', mountPath: '/etc/model-rollout/prometheus-ca', readOnly: true },
      { name: 'prometheus-token', mountPath: '/etc/model-rollout/prometheus-token', readOnly: true },
    ]));
    expect(c.env).toEqual(expect.arrayContaining([
      { name: 'ROLLOUT_PROMETHEUS_CA_FILE', value: '/etc/model-rollout/prometheus-ca/ca.crt' },
      { name: 'ROLLOUT_PROMETHEUS_TOKEN_FILE', value: '/etc/model-rollout/prometheus-token/token' },
    ]));
    const target = JSON.parse(objects.find((o) => o.metadata?.name === 'llama-production-rollout-spec').data['target.json']);
    expect(target.prometheusUrl).toBe('https://prometheus.monitoring:9091');
  });

  test('basic auth from a Secret, a CA from a Secret, and a token file the pod already has', () => {
    const basic = podSpec(build({ prometheusConnection: { caSecret: { name: 'prom-tls', key: 'ca.crt' }, basicAuthSecret: { name: 'prom-basic' } } }));
    expect(basic.volumes).toEqual(expect.arrayContaining([
      { name: 'prometheus-ca', secret: { secretName: 'prom-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { name: 'prometheus-basic-auth', secret: { secretName: 'prom-basic', items: [{ key: 'username', path: 'username' }, { key: 'password', path: 'password' }] } },
    ]));
    expect(basic.containers[0].env).toEqual(expect.arrayContaining([{ name: 'ROLLOUT_PROMETHEUS_BASIC_AUTH_DIR', value: '/etc/model-rollout/prometheus-basic-auth' }]));
    const file = podSpec(build({ prometheusConnection: { bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } }));
    expect(file.containers[0].env).toEqual(expect.arrayContaining([{ name: 'ROLLOUT_PROMETHEUS_TOKEN_FILE', value: '/var/run/secrets/kubernetes.io/serviceaccount/token' }]));
    expect(file.volumes.map((v: any) => v.name)).toEqual(['code']);
  });

  test('no connection: the pod mounts only the code, as before', () => {
    const pod = podSpec(build());
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['code']);
    expect(pod.containers[0].env).toEqual([
      { name: 'ROLLOUT_NAMESPACE', value: 'models' }, { name: 'ROLLOUT_CONTROLLER_ROLLOUTS', value: 'model-rollout-controller-chart-rollouts' },
    ]);
  });

  test.each([
    [{ caConfigMap: { name: 'a', key: 'ca.crt' }, caSecret: { name: 'b', key: 'ca.crt' } }, /prometheusConnection\.caSecret: .*both `caConfigMap` and `caSecret` are set.*Fix: keep one of them/],
    [{ bearerTokenSecret: { name: 'a', key: 't' }, basicAuthSecret: { name: 'b' } }, /prometheusConnection\.basicAuthSecret: .*one request carries one `Authorization` header.*Fix: keep one of bearerTokenSecret, basicAuthSecret/],
    [{ bearerTokenFile: 'token' }, /prometheusConnection\.bearerTokenFile: the path must be absolute .*\(received token\)/],
    [{ caConfigMap: { name: 'a', key: '' } }, /prometheusConnection\.caConfigMap: .*needs both `name` and `key`/],
  ])('%j is refused with the fix', (connection, message) => {
    expect(() => build({ prometheusConnection: connection })).toThrow(message);
  });

  test('two rollouts of one namespace with different connections are refused (they share the pod)', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const rollout = (name: string, token: string) => {
      const m = new Model(chart, name, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name, image: 'vllm/vllm-openai:v0.6.3' });
      m.addVersion('v2');
      const prod = m.addEnvironment('production', { version: 'v1', gateway });
      new CanaryRollout(chart, `${name}Rollout`, { environment: prod, canaries: [{ version: 'v2' }], prometheusConnection: { bearerTokenSecret: { name: token, key: 'token' } } });
    };
    rollout('llama', 'a');
    expect(() => rollout('qwen', 'b')).toThrow(/^\[Chart\/qwenRollout\/Controller\] prometheusConnection: .*share one controller pod.*Fix: give every rollout of the namespace the same `prometheusConnection`/);
  });
});

describe('a rollout never goes unchecked by accident', () => {
  test('an engine not recognisable from the image, default checks on: refused with the fix', () => {
    expect(() => build({}, 'registry.example.com/acme/llm-server:1.2')).toThrow(
      /^\[Chart\/llamaRollout\] defaultChecks: .*serving engine of model "llama" is not recognisable from its image.*Fix: set `servingEngine` on the Model .*or pass `checks` of your own, or `defaultChecks: false`/);
  });

  test('the same model with `defaultChecks: false` or checks of its own synthesizes', () => {
    expect(specOf(build({ defaultChecks: false }, 'registry.example.com/acme/llm-server:1.2')).checks).toEqual([]);
    const own = Metric.prometheus({ name: 'errors', query: 'sum(rate(errors{version="{{version}}"}[1m]))', threshold: 0.01 });
    expect(specOf(build({ checks: [own] }, 'registry.example.com/acme/llm-server:1.2')).checks.map((c: any) => c.name)).toEqual(['errors']);
  });
});

describe('sequential tests read one tick', () => {
  const custom = (errorsQuery: string) => Metric.sequentialErrorRate({ name: 'my-errors', errorsQuery, requestsQuery: 'sum(increase(requests_total{version="{{version}}"}[{{window}}]))' });

  test('a sequential check counting over a fixed range with sub-minute ticks is refused with the fix', () => {
    expect(() => build({ checks: [custom('sum(increase(errors_total{version="{{version}}"}[1m]))')] })).toThrow(
      /^\[Chart\/llamaRollout\] checks\[0\]: the sequential test "my-errors" takes one window per tick \(every 10 s\).*Fix: count over the tick: .*\[\{\{window\}\}\]/);
  });

  test('the same check is accepted over [{{window}}], or with one tick a minute', () => {
    expect(() => build({ checks: [custom('sum(increase(errors_total{version="{{version}}"}[{{window}}]))')] })).not.toThrow();
    expect(() => build({ checks: [custom('sum(increase(errors_total{version="{{version}}"}[1m]))')], tickInterval: Duration.minutes(1) })).not.toThrow();
  });
});

describe('the PodMonitor scrapes at least twice per tick', () => {
  test('a 15 s scrape with the default 10 s tick is refused with the fix for a check on window queries; a 30 s tick accepts it; the presets\' totals accept any scrape', () => {
    const windowed = Metric.sequentialErrorRate({
      name: 'errors',
      errorsQuery: 'sum(increase(errors_total{version="{{version}}"}[{{window}}]))',
      requestsQuery: 'sum(increase(requests_total{version="{{version}}"}[{{window}}]))',
    });
    const rollout = (tick?: Duration, checks?: Metric[]) => {
      const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
      const m = new Model(chart, 'llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3', monitoring: { interval: Duration.seconds(15) } });
      m.addVersion('v2');
      const prod = m.addEnvironment('production', { version: 'v1', gateway });
      return new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], ...(checks ? { checks } : {}), ...(tick ? { tickInterval: tick } : {}) });
    };
    expect(() => rollout()).not.toThrow();
    expect(() => rollout(undefined, [windowed])).toThrow(/^\[Chart\/Rollout\] tickInterval: .*two samples within the window.*\(received 10 s \(the PodMonitor scrapes every 15 s\)\)\. Fix: scrape at least twice per tick .*Duration\.seconds\(5\).*tickInterval: Duration\.seconds\(30\)/);
    expect(() => rollout(Duration.seconds(30), [windowed])).not.toThrow();
  });
});
