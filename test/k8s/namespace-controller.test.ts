/**
 * One step controller per namespace: rollouts of one namespace share a CronJob, a ServiceAccount and the code;
 * each rollout brings its own Role and RoleBinding, so rollouts from different charts or apps compose.
 */
import { Chart, Testing } from 'cdk8s';
import { CanaryRollout, Model } from '../../src/k8s';

const gateway = { name: 'inference', namespace: 'gateways' };

function app(models: string[], namespace = 'models') {
  const chart = new Chart(Testing.app(), 'Chart', { namespace });
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
    expect(objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.name).sort()).toEqual(['llama-production-rollout', 'mistral-production-rollout', 'qwen-production-rollout']);
    expect(objects.filter((o) => o.kind === 'RoleBinding').every((o) => o.subjects[0].name === 'model-rollout-controller')).toBe(true);
  });

  test('two apps sharing a namespace compose: shared objects are identical, per-rollout ones never collide', () => {
    // GIVEN two teams' apps, each with its own rollout, in the same namespace
    const a = app(['llama']);
    const b = app(['mistral']);
    const byKey = (objs: any[]) => new Map(objs.map((o) => [key(o), o]));
    const ka = byKey(a);
    const kb = byKey(b);
    const shared = [...ka.keys()].filter((k) => kb.has(k));
    // THEN the objects both apps render are the namespace controller's, byte for byte the same (applying one app
    // after the other changes nothing of the other's), and neither app's Role is overwritten by the other
    expect(shared.sort()).toEqual(expect.arrayContaining(['CronJob/models/model-rollout-controller', 'ServiceAccount/models/model-rollout-controller']));
    for (const k of shared) expect(JSON.stringify(kb.get(k))).toBe(JSON.stringify(ka.get(k)));
    expect(shared.filter((k) => k.startsWith('Role') || k.includes('rollout-spec') || k.includes('rollout-state'))).toEqual([]);
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
