/**
 * Pins restricted to testers: with `pinEndpoint`, pins are honoured only on a pins-only HTTPRoute on internal host
 * names (or an internal listener), and the public route ignores them. Routed through the kube twin's gateway, with
 * Gateway API precedence.
 */
import { Chart, Testing } from 'cdk8s';
import { CanaryRollout, Model, Pin } from '../../src/k8s';
import { expectValid } from '../support/k8s-validate';
import { KubeTwin, World } from '../support/kube-twin';
import { findObject } from '../support/synth';

function synth(pinEndpoint: boolean) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llm', image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
  model.addVersion('v2');
  const prod = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, hostnames: ['llm.example.com'] });
  new CanaryRollout(chart, 'Rollout', {
    environment: prod,
    canaries: [{ version: 'v2' }],
    pins: [Pin.header('x-model-version', 'v2', 'v2')],
    ...(pinEndpoint ? { pinEndpoint: { hostnames: ['llm.internal.example.com'], gateway: { name: 'inference', namespace: 'gateways', sectionName: 'internal' } } } : {}),
  });
  return Testing.synth(chart);
}

describe('pins restricted to testers', () => {
  test('a pins-only route on the internal host; the public route has no pin rule', async () => {
    const objects = synth(true);
    const routes = objects.filter((o) => o.kind === 'HTTPRoute');
    expect(routes.map((r) => [r.metadata.name, r.spec.hostnames, r.spec.parentRefs[0].sectionName])).toEqual([
      ['llm-production', ['llm.example.com'], undefined],
      ['llm-production-pins', ['llm.internal.example.com'], 'internal'],
    ]);
    expectValid(objects);
    // WHEN a public client and a tester send the pin header, with the canary at 0 %
    const twin = await KubeTwin.start();
    try {
      twin.seedNamespaces('models', 'gateways');
      for (const o of objects.filter((x) => ['Deployment', 'Service', 'HTTPRoute'].includes(x.kind))) {
        const copy = JSON.parse(JSON.stringify(o));
        if (copy.kind === 'Deployment') copy.spec.replicas = 1;
        twin.seed(copy);
      }
      const world = new World(twin);
      world.reconcile();
      const [outsider, tester, untagged] = world.routeBatch([
        { host: 'llm.example.com', path: '/v1/completions', headers: { 'x-model-version': 'v2' } },
        { host: 'llm.internal.example.com', path: '/v1/completions', headers: { 'x-model-version': 'v2' } },
        { host: 'llm.internal.example.com', path: '/v1/completions' },
      ]);
      // THEN the public pin is ignored (stable serves), the tester reaches v2, and the internal host serves pins only
      expect(outsider.backend?.service).toBe('llm-production-v1');
      expect(tester.backend?.service).toBe('llm-production-v2');
      expect(untagged.status).toBe(404);
    } finally {
      await twin.stop();
    }
  });

  test('without it, pins stay on the public route (for every client), as documented', () => {
    const route = findObject(synth(false), 'HTTPRoute');
    expect(route.spec.rules.some((r: any) => r.matches.some((m: any) => (m.headers ?? []).some((h: any) => h.name === 'x-model-version')))).toBe(true);
  });

  test.each([
    ['no pin', { pins: [], pinEndpoint: { hostnames: ['llm.internal.example.com'] } }, /\[Chart\/Rollout\] pinEndpoint: a pin endpoint routes pinned requests only, and the rollout has no pin/],
    ['no host name', { pins: [Pin.header('x-model-version', 'v2', 'v2')], pinEndpoint: { hostnames: [] } }, /pinEndpoint\.hostnames: a pin endpoint needs the host names testers use/],
  ])('refuses a pin endpoint with %s', (_name, props, message) => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llm', image: 'vllm/vllm-openai:v0.6.3' });
    model.addVersion('v2');
    const prod = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' } });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], ...props })).toThrow(message);
  });
});
