/**
 * Cookie and regular-expression pins (browser A/B, Flagger's `match`): rendered as Gateway API `RegularExpression`
 * matches (implementation-specific support: Istio and Envoy Gateway, RE2), routed by the twin's gateway, read back by
 * the controller without mistaking them for the split, and on ALB where a condition can express them.
 */
import { Chart, Testing } from 'cdk8s';
import { Testing as TfTesting } from 'cdktf';
import { AlbCanaryRollout } from '../../src/aws';
import { renderHttpRouteRules, weightsFromRules } from '../../src/core/routes/gateway-api';
import { CanaryRollout, Model, Pin } from '../../src/k8s';
import { albRolloutProps } from '../support/alb-fixture';
import { KubeTwin, World } from '../support/kube-twin';
import { kubernetesTarget, rolloutSpec } from '../support/spec-fixture';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';
const HOST = 'llm.example.com';

function app(pins: Pin[]) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { image: 'vllm/vllm-openai:v0.6.3', prometheusUrl: PROMETHEUS });
  model.addVersion('v2');
  const env = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'models' }, hostnames: [HOST] });
  new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2', weight: 20, ramp: false }], pins });
  return Testing.synth(chart);
}

describe('cookie and regular-expression pins on Gateway API', () => {
  test('through the twin\'s gateway: the cookie alone, anywhere in the header, and whole-value regular expressions', async () => {
    const objects = app([Pin.cookie('ab', 'b', 'v2'), Pin.headerRegex('x-channel', 'beta|canary-[0-9]+', 'v2'), Pin.queryRegex('variant', 'b[0-9]', 'v2')]);
    const twin = await KubeTwin.start();
    try {
      twin.seedNamespaces('models');
      for (const o of objects) twin.seed(o);
      const world = new World(twin, { seed: 3 });
      world.reconcile();
      world.advance(1);
      const to = (headers: Record<string, string>, path = '/v1/chat') => {
        // many requests: a miss would land on v2 only 20 % of the time, a hit always
        const out = world.routeBatch(Array.from({ length: 50 }, () => ({ host: HOST, path, headers })));
        return [...new Set(out.map((o) => o.backend?.service))].sort().join(',');
      };
      expect(to({ cookie: 'ab=b' })).toBe('llm-production-v2');
      expect(to({ cookie: 'session=1; ab=b; theme=dark' })).toBe('llm-production-v2');
      expect(to({ cookie: 'xab=b' })).toBe('llm-production-v1,llm-production-v2');
      expect(to({ cookie: 'ab=bc' })).toBe('llm-production-v1,llm-production-v2');
      expect(to({ 'x-channel': 'canary-12' })).toBe('llm-production-v2');
      expect(to({ 'x-channel': 'betamax' })).toBe('llm-production-v1,llm-production-v2');
      expect(to({}, '/v1/chat?variant=b7')).toBe('llm-production-v2');
      expect(to({}, '/v1/chat?variant=b77')).toBe('llm-production-v1,llm-production-v2');
    } finally {
      await twin.stop();
    }
  });

  test('the controller reads the split, not a regular-expression pin rule, back from the route', () => {
    const target = { ...kubernetesTarget(), pins: [{ version: 'v2', cookie: { name: 'ab', value: 'b' } }, { version: 'v2', header: { name: 'x-c', value: 'beta', regex: true } }] };
    const rules = renderHttpRouteRules(rolloutSpec(), target, { v1: 70, v2: 30 });
    expect(weightsFromRules(rolloutSpec(), target, rules)).toEqual({ v1: 70, v2: 30 });
  });

  test.each([
    ['a lookahead (RE2 has none)', Pin.headerRegex('x-c', '(?=beta)', 'v2'), /pins\[0\]\.value: the gateways match regular expressions with RE2.*\(received "\(\?=beta\)"\)/],
    ['an expression that does not compile', Pin.queryRegex('v', 'beta(', 'v2'), /pins\[0\]\.value: the gateways match regular expressions with RE2/],
    ['a cookie value with a space', Pin.cookie('ab', 'b c', 'v2'), /pins\[0\]\.value: a cookie value is printable ASCII without spaces.*\(received "b c"\)/],
  ])('refuses %s with the construct path, property, value and fix', (_name, pin, message) => {
    expect(() => app([pin])).toThrow(new RegExp(`^\\[Chart/Rollout\\] ${message.source}`));
  });
});

describe('cookie and regular-expression pins on ALB', () => {
  const synth = (pins: Pin[]) => JSON.parse(TfTesting.synthScope((scope) => { new AlbCanaryRollout(scope, 'Rollout', albRolloutProps({ pins })); }));

  test('a cookie pin is an http-header condition on Cookie that matches the cookie alone, first, last or in the middle', () => {
    const rules = Object.values(synth([Pin.cookie('ab', 'b', 'v2')]).resource.aws_lb_listener_rule as Record<string, any>);
    const pin = rules.find((r) => r.priority === 99);
    expect(pin.condition).toContainEqual({ http_header: { http_header_name: 'Cookie', values: ['ab=b', 'ab=b;*', '*; ab=b', '*; ab=b;*'] } });
  });

  test('a regular-expression pin is refused: ALB conditions have none', () => {
    expect(() => synth([Pin.headerRegex('x-c', 'beta|canary', 'v2')])).toThrow(/\[stack\/Rollout\] pins\[0\]: ALB listener rule conditions have no regular expressions .*\(received "beta\|canary"\)\. Fix: use exact pins/);
  });
});
