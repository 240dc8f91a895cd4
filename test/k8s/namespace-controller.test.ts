/**
 * One step controller per app (chart) and namespace: the rollouts of one chart in a namespace share a CronJob, a
 * ServiceAccount, the code and an owner list; each rollout brings its own Role and RoleBinding bound to its chart's
 * ServiceAccount, so apps sharing a namespace never write each other's objects.
 */
import { Chart, Testing } from 'cdk8s';
import { CanaryRollout, Model } from '../../src/k8s';
import { controllerNameOf, MAX_ROLLOUTS_PER_CONTROLLER } from '../../src/k8s/private/step-controller';

const gateway = { name: 'inference', namespace: 'gateways' };

function app(models: string[], namespace = 'models', chartId = 'Chart') {
  const chart = new Chart(Testing.app(), chartId, { namespace });
  for (const name of models) {
    const m = new Model(chart, name, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name, image: 'vllm/vllm-openai:v0.6.3' });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway });
    new CanaryRollout(chart, `${name}Rollout`, { environment: prod, canaries: [{ version: 'v2' }] });
  }
  return Testing.synth(chart);
}

const key = (o: any) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;

describe('the namespace controller', () => {
  test('three rollouts in one namespace: one CronJob, one ServiceAccount, the code once; a Role and RoleBinding each', () => {
    const objects = app(['llama', 'mistral', 'qwen']);
    const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
    expect(count('CronJob')).toBe(1);
    expect(count('ServiceAccount')).toBe(1);
    expect(objects.filter((o) => o.kind === 'ConfigMap' && o.data?.['controller.js'])).toHaveLength(1);
    expect(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.name).sort()).toEqual(['llama-production-rollout', 'mistral-production-rollout', 'model-rollout-controller-chart-rollouts', 'qwen-production-rollout']);
    expect(objects.filter((o) => o.kind === 'RoleBinding').every((o) => o.subjects[0].name === 'model-rollout-controller-chart')).toBe(true);
    // the owner list: the controller ticks these, and only these
    const list = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'model-rollout-controller-chart-rollouts');
    expect(JSON.parse(list.data['rollouts.json'])).toEqual(['llama-production', 'mistral-production', 'qwen-production']);
  });

  test('two apps sharing a namespace own a controller each: no object is rendered by both', () => {
    // GIVEN two teams' apps (an Argo CD Application each), each with its own rollout, in the same namespace
    const a = app(['llama'], 'models', 'llama-app');
    const b = app(['mistral'], 'models', 'mistral-app');
    const keysOf = (objs: any[]) => new Set(objs.map(key));
    const kb = keysOf(b);
    // THEN syncing or deleting one app never touches an object of the other (no shared-resource warning either)
    expect([...keysOf(a)].filter((k) => kb.has(k))).toEqual([]);
    const cron = (objs: any[]) => objs.find((o) => o.kind === 'CronJob');
    expect(cron(a).metadata.name).toBe('model-rollout-controller-llama-app');
    expect(cron(b).metadata.name).toBe('model-rollout-controller-mistral-app');
    // each rollout is granted to its own app's controller, and each controller lists only its app's rollouts
    expect(a.filter((o) => o.kind === 'RoleBinding').map((o) => o.subjects[0].name)).toEqual(['model-rollout-controller-llama-app', 'model-rollout-controller-llama-app']);
    const owned = (objs: any[]) => JSON.parse(objs.find((o) => o.data?.['rollouts.json']).data['rollouts.json']);
    expect([owned(a), owned(b)]).toEqual([['llama-production'], ['mistral-production']]);
  });

  test('controller names fit a CronJob name (52 characters) and stay distinct for long chart ids', () => {
    const long1 = controllerNameOf('a-very-long-chart-identifier-for-the-llama-team-production');
    const long2 = controllerNameOf('a-very-long-chart-identifier-for-the-llama-team-staging');
    expect(long1.length).toBeLessThanOrEqual(52);
    expect(long1).not.toBe(long2);
    expect(long1).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(controllerNameOf('Models_EU')).toBe('model-rollout-controller-models-eu');
  });

  test('rollouts of two namespaces in one chart get a controller each', () => {
    const chart = new Chart(Testing.app(), 'Chart');
    for (const ns of ['team-a', 'team-b']) {
      const m = new Model(chart, `Llama-${ns}`, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: `llama-${ns}`, image: 'vllm/vllm-openai:v0.6.3' });
      m.addVersion('v2');
      const prod = m.addEnvironment('production', { version: 'v1', gateway, namespace: ns });
      new CanaryRollout(chart, `Rollout-${ns}`, { environment: prod, canaries: [{ version: 'v2' }] });
    }
    expect(Testing.synth(chart).filter((o) => o.kind === 'CronJob').map((o) => o.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
  });

  test('rollouts of one namespace must agree on the controller image', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const m = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3' });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway });
    const staging = m.addEnvironment('staging', { version: 'v1', gateway });
    new CanaryRollout(chart, 'A', { environment: prod, canaries: [{ version: 'v2' }], controllerImage: 'node:22-alpine' });
    expect(() => new CanaryRollout(chart, 'B', { environment: staging, canaries: [{ version: 'v2' }], controllerImage: 'node:20-alpine' }))
      .toThrow(/controllerImage: the rollouts of namespace "models" share one controller, which already runs node:22-alpine/);
  });
});

describe('the stated capacity', () => {
  test('a chart with more rollouts in one namespace than one controller ticks is a synth error naming the sharding', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const add = (i: number) => {
      const m = new Model(chart, `m${i}`, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: `m${i}`, image: 'vllm/vllm-openai:v0.6.3' });
      m.addVersion('v2');
      return () => new CanaryRollout(chart, `R${i}`, { environment: m.addEnvironment('production', { version: 'v1', gateway }), canaries: [{ version: 'v2' }], defaultChecks: false });
    };
    for (let i = 0; i < MAX_ROLLOUTS_PER_CONTROLLER; i++) add(i)();
    expect(add(MAX_ROLLOUTS_PER_CONTROLLER)).toThrow(/Chart\/R1000.*one controller ticks at most 1000 rollouts.*another chart/s);
  });
});
