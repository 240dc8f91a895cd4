import { Chart, Duration, Testing } from 'cdk8s';
import { BUCKET_HEADER } from '../../src/core/constants';
import { CanaryRollout, GatewayImplementation, Model, Pin, Routing } from '../../src/k8s';
import { Gpu, GpuProduct, Steps } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { findObject } from '../support/synth';

const gateway = { name: 'inference', namespace: 'istio-ingress' };

function setup() {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  model.addVersion('v2');
  model.addVersion('v3');
  const production = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'], autoscaling: { minReplicas: 4, maxReplicas: 8 } });
  return { chart, model, production };
}

describe('CanaryRollout', () => {
  test('starts with every canary at 0 on the HTTPRoute: one weighted backendRef per live version, total 100', () => {
    const { chart, production } = setup();
    new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2', weight: 30 }, { version: 'v3', weight: 20 }] });
    const objects = Testing.synth(chart);
    const route = findObject(objects, 'HTTPRoute');
    expect(route.spec.rules).toEqual([{
      matches: [{}],
      backendRefs: [
        { name: 'llm-production-v1', port: 8080, weight: 100 },
        { name: 'llm-production-v2', port: 8080, weight: 0 },
        { name: 'llm-production-v3', port: 8080, weight: 0 },
      ],
    }]);
    expect(route.metadata.annotations).toEqual({ 'model-rollout.dev/controller-owned-fields': 'spec.rules' });
    // the canaries' floors start at 0; the controller raises them ahead of the weight
    expect(findObject(objects, 'ScaledObject', 'llm-production-v2').spec.minReplicaCount).toBe(0);
    expect(findObject(objects, 'ScaledObject', 'llm-production-v2').metadata.annotations).toEqual({ 'model-rollout.dev/controller-owned-fields': 'spec.minReplicaCount,spec.maxReplicaCount' });
    expectValid(objects);
  });

  test('grants the controller exactly what it uses, by resourceNames, with no wildcards', () => {
    const { chart, production } = setup();
    new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
    const role = findObject(Testing.synth(chart), 'Role');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['llm-production-rollout-spec'], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['llm-production-rollout-state'], verbs: ['get', 'patch'] },
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], resourceNames: ['llm-production'], verbs: ['get', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['llm-production-v1', 'llm-production-v2'], verbs: ['get'] },
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], resourceNames: ['llm-production-v1', 'llm-production-v2'], verbs: ['get', 'patch'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    // bound to the namespace's one controller
    expect(findObject(Testing.synth(chart), 'RoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'model-rollout-controller-chart', namespace: 'models' }]);
    for (const rule of role.rules.filter((r: any) => r.resources[0] !== 'events')) {
      expect(rule.resourceNames.length).toBeGreaterThan(0);
      expect([...rule.verbs, ...rule.resources, ...rule.apiGroups, ...rule.resourceNames].some((x: string) => x.includes('*'))).toBe(false);
    }
  });

  test('ticks every minute as a CronJob running the bundled controller from a ConfigMap in a stock Node image', () => {
    const { chart, production } = setup();
    const rollout = new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }], prometheusUrl: 'http://prometheus.monitoring:9090' });
    const objects = Testing.synth(chart);
    const cron = findObject(objects, 'CronJob');
    expect(cron.spec).toMatchObject({ schedule: '* * * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 50, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 3 });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const c = pod.containers[0];
    // pinned by digest, overridable with controllerImage
    expect(c.image).toBe(CanaryRollout.DEFAULT_CONTROLLER_IMAGE);
    expect(c.image).toMatch(/^node:22[.0-9a-z-]*@sha256:[0-9a-f]{64}$/);
    expect(c.command).toEqual(['node', '--max-old-space-size=64', '/controller/controller.js']);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources.limits).toEqual({ cpu: '250m', memory: '192Mi' });
    // one controller per namespace: it finds its rollouts through the Roles it is granted; each rollout's target
    // carries its own Prometheus
    expect(c.env).toEqual([{ name: 'ROLLOUT_NAMESPACE', value: 'models' }, { name: 'ROLLOUT_CONTROLLER_ROLLOUTS', value: 'model-rollout-controller-chart-rollouts' }]);
    expect(cron.metadata.name).toBe('model-rollout-controller-chart');
    expect(JSON.parse(findObject(objects, 'ConfigMap', 'llm-production-rollout-spec').data['target.json']).prometheusUrl).toBe('http://prometheus.monitoring:9090');
    const code = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['controller.js']);
    expect(code.metadata.name).toBe(`model-rollout-controller-chart-${code.metadata.annotations['model-rollout.dev/bundle-sha256'].slice(0, 10)}`);
    expect(pod.volumes[0].configMap.name).toBe(code.metadata.name);
    expect(code.data['controller.js'].length).toBe(rollout.controllerBundleBytes);
    // the state ConfigMap carries no data: re-applying manifests never resets progress
    expect(findObject(objects, 'ConfigMap', 'llm-production-rollout-state').data).toBeUndefined();
    const spec = JSON.parse(findObject(objects, 'ConfigMap', 'llm-production-rollout-spec').data['spec.json']);
    expect(spec.stableReplicas).toBe(4);
    expect(spec.canaries).toEqual([{ version: 'v2', targetWeight: 100, ramp: true }]);
  });

  test('sticky routing adds the gateway bucket filter and bucket-range rules; pins come first; the mirror copies a share', () => {
    const { chart, production } = setup();
    new CanaryRollout(chart, 'Rollout', {
      environment: production,
      canaries: [{ version: 'v2' }],
      routing: Routing.headerHash('x-user-id'),
      gatewayImplementation: GatewayImplementation.ISTIO,
      pins: [Pin.header('x-model-version', 'v2', 'v2')],
      mirror: { version: 'v3', percent: 5 },
    });
    const objects = Testing.synth(chart);
    const rules = findObject(objects, 'HTTPRoute').spec.rules;
    const mirror = [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'llm-production-v3', port: 8080 }, percent: 5 } }];
    // the pin outranks bucket rules: tagged requests match two headers, untagged ones the pin alone; pinned
    // requests are mirrored like the others
    expect(rules[0]).toEqual({
      matches: [
        { headers: [{ type: 'Exact', name: 'x-model-version', value: 'v2' }, { type: 'RegularExpression', name: BUCKET_HEADER, value: '^[0-9]+$' }] },
        { headers: [{ type: 'Exact', name: 'x-model-version', value: 'v2' }] },
      ],
      backendRefs: [{ name: 'llm-production-v2', port: 8080, weight: 1 }],
      filters: mirror,
    });
    // at 0 % the canary has no bucket rule yet; every bucket goes to stable, untagged requests to the weights,
    // 5 % mirrored to v3
    expect(rules.slice(1)).toEqual([{
      matches: [{ headers: [{ type: 'RegularExpression', name: BUCKET_HEADER, value: `^(${Array.from({ length: 100 }, (_, i) => i).join('|')})$` }] }],
      backendRefs: [{ name: 'llm-production-v1', port: 8080, weight: 1 }],
      filters: mirror,
    }, {
      matches: [{}],
      backendRefs: [{ name: 'llm-production-v1', port: 8080, weight: 100 }, { name: 'llm-production-v2', port: 8080, weight: 0 }],
      filters: mirror,
    }]);
    const filter = findObject(objects, 'EnvoyFilter');
    expect(filter.metadata.namespace).toBe('istio-ingress');
    expect(filter.spec.workloadSelector.labels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'inference' });
    expect(filter.spec.configPatches[0].patch.value.typed_config.default_source_code.inline_string).toContain(BUCKET_HEADER);
    expectValid(objects);
  });

  test.each([
    ['canary weights over 100 in total', (e: any) => ({ environment: e, canaries: [{ version: 'v2', weight: 70 }, { version: 'v3', weight: 40 }] }),
      /^\[Chart\/Rollout\] canaries: canary weights add up to 110, over 100/],
    ['a canary that is the stable version', (e: any) => ({ environment: e, canaries: [{ version: 'v1' }] }), /canaries\[0\]\.version: "v1" is the stable version/],
    ['a mirror to the stable version', (e: any) => ({ environment: e, canaries: [{ version: 'v2' }], mirror: { version: 'v1', percent: 5 } }), /mirror\.version: "v1" is the stable version/],
    ['a mirror over 100 percent', (e: any) => ({ environment: e, canaries: [{ version: 'v2' }], mirror: { version: 'v3', percent: 101 } }), /mirror\.percent: .*\(received 101\)/],
    ['an empty hash key', (e: any) => ({ environment: e, canaries: [{ version: 'v2' }], routing: Routing.headerHash(' ') }),
      /\[Chart\/Rollout\] routing\.header: a sticky split needs the name of the header or query parameter whose value is hashed/],
    ['a pin value shared by two versions', (e: any) => ({ environment: e, canaries: [{ version: 'v2' }], pins: [Pin.header('x-v', 'new', 'v2'), Pin.header('x-v', 'new', 'v3')] }),
      /pins\[1\]: the pin header x-v=new is given to both "v2" and "v3"/],
    ['steps faster than the one-minute tick', (e: any) => ({ environment: e, canaries: [{ version: 'v2' }], steps: Steps.equal({ count: 10, over: Duration.minutes(5) }) }),
      /steps\.over: 10 steps need at least 600 s \(10 steps x one controller tick of 60 s\), but the window is 300 s/],
  ])('rejects %s', (_name, props, message) => {
    const { chart, production } = setup();
    expect(() => new CanaryRollout(chart, 'Rollout', props(production))).toThrow(message);
  });

  test('rejects a rollout on a development environment', () => {
    const { chart, model } = setup();
    const dev = model.addEnvironment('development', { version: 'v1', gateway, hostnames: ['dev.llm.example.com'] });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: dev, canaries: [{ version: 'v2' }] }))
      .toThrow(/^\[Chart\/Rollout\] environment: a development environment takes no rollout/);
  });

  test('rejects a second rollout on the same environment', () => {
    const { chart, production } = setup();
    new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
    expect(() => new CanaryRollout(chart, 'Again', { environment: production, canaries: [{ version: 'v3' }] }))
      .toThrow(/\[Chart\/Again\] environment: environment "production" already has a rollout \(Chart\/Rollout\)/);
  });
});
