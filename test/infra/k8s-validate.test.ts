import { expectValid, modelModule, validateStrict } from '../support/k8s-validate';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'llama-v1' },
  spec: {
    selector: { matchLabels: { app: 'llama' } },
    template: {
      metadata: { labels: { app: 'llama' } },
      spec: { containers: [{ name: 'model', image: 'vllm/vllm-openai:v0.6.0', ports: [{ containerPort: 8080 }] }] },
    },
  },
});
const route = () => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'llama', namespace: 'models' },
  spec: {
    parentRefs: [{ name: 'inference', namespace: 'gateways' }],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/llama' } }], backendRefs: [{ name: 'llama-v1', port: 8080, weight: 100 }] }],
  },
});

describe('strict validation against the upstream models', () => {
  test('accepts a valid Deployment and HTTPRoute', () => {
    const started = Date.now();
    expect(validateStrict([deployment(), route()])).toEqual([]);
    console.log(`validation of one batch: ${Date.now() - started} ms`);
  });

  test('rejects an unknown field, however deep', () => {
    const d: any = deployment();
    d.spec.template.spec.containers[0].gpuCount = 1;
    const errors = validateStrict([d]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^Deployment\/llama-v1: .*gpuCount.* does not exist in type 'IContainer'/);
  });

  test('rejects a wrong type', () => {
    const r: any = route();
    r.spec.rules[0].backendRefs[0].weight = '100';
    expect(validateStrict([r]).join('\n')).toMatch(/HTTPRoute\/llama: .*Type 'string' is not assignable to type 'number'/);
  });

  test('rejects a missing required field', () => {
    const d: any = deployment();
    delete d.spec.selector;
    expect(validateStrict([d]).join('\n')).toMatch(/Deployment\/llama-v1: .*selector/);
  });

  test('rejects a value the schema forbids', () => {
    const r: any = route();
    r.spec.rules[0].backendRefs[0].weight = 2_000_000;
    expect(validateStrict([r]).join('\n')).toMatch(/HTTPRoute\/llama: .*weight/);
  });

  test('rejects a kind without an upstream model unless it is allow-listed with a reason', () => {
    const o = { apiVersion: 'http.keda.sh/v1alpha1', kind: 'HTTPScaledObject', metadata: { name: 'x' }, spec: {} };
    expect(validateStrict([o])).toEqual(['HTTPScaledObject/x: no upstream model for http.keda.sh/v1alpha1/HTTPScaledObject; allow-list it with a reason if that is expected']);
    expect(validateStrict([o], { allow: { 'http.keda.sh/v1alpha1/HTTPScaledObject': 'no model published' } })).toEqual([]);
  });

  test('knows where the models of each group live', () => {
    expect(modelModule('v1')).toBe('kubernetes-models/v1');
    expect(modelModule('apps/v1')).toBe('kubernetes-models/apps/v1');
    expect(modelModule('karpenter.sh/v1')).toBe('@kubernetes-models/karpenter/karpenter.sh/v1');
    expect(modelModule('made.up/v9')).toBeUndefined();
    expect(() => expectValid([deployment()])).not.toThrow();
  });
});
