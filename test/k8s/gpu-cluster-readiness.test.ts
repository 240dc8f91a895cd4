/**
 * Issue 13: Kubernetes output that runs LLM servers on a real GPU cluster. One test (or table row) per finding:
 * pods that start and stay up, routing, autoscaling and nodes, names and bad input. Limits that the schema
 * packages lack are encoded here with the CRD they come from.
 */
import { ApiObject, Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import { BUCKET_HEADER } from '../../src/core/constants';
import { renderHttpRouteRules } from '../../src/core/routes/gateway-api';
import { bucketOf } from '../../src/core/routes/sticky-bucket';
import { Autoscaler, CanaryRollout, GatewayImplementation, GpuNodePools, Model, ModelCache, ModelProps, Pin, Routing, ScaleToZeroApi } from '../../src/k8s';
import { Gpu, GpuProduct, Step, Steps } from '../../src/rollout';
import { expectValid } from '../support/k8s-validate';
import { KubeTwin, World } from '../support/kube-twin';
import { findObject, objectsOf } from '../support/synth';

const gateway = { name: 'inference', namespace: 'istio-ingress' };
const HTTP_SCALED_OBJECT = { 'http.keda.sh/v1alpha1/HTTPScaledObject': 'the KEDA HTTP add-on CRD has no upstream model package' };

function setup(props: Partial<ModelProps> = {}) {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', gpu: Gpu.nvidia({ product: GpuProduct.A10G }), ...props });
  model.addVersion('v2');
  model.addVersion('v3');
  return { chart, model };
}
const container = (d: any) => d.spec.template.spec.containers[0];

describe('pods that start and stay up', () => {
  test('HOME and every cache point into a writable, sized cache volume; the security context stays restricted', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway });
    const objects = Testing.synth(chart);
    const d = findObject(objects, 'Deployment', 'llm-production-v1');
    const c = container(d);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ HOME: '/cache', HF_HOME: '/cache/huggingface', XDG_CACHE_HOME: '/cache/.cache', VLLM_CACHE_ROOT: '/cache/vllm', TRITON_CACHE_DIR: '/cache/triton' });
    expect(c.volumeMounts).toContainEqual({ name: 'cache', mountPath: '/cache' });
    expect(d.spec.template.spec.volumes).toContainEqual({ name: 'cache', emptyDir: { sizeLimit: '100Gi' } });
    expect(c.resources.requests['ephemeral-storage']).toBe('100Gi');
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expectValid(objects);
  });

  test('a PVC model cache replaces the emptyDir (no ephemeral-storage request)', () => {
    const { chart, model } = setup({ modelCache: ModelCache.persistentVolumeClaim('llm-weights') });
    model.addEnvironment('production', { version: 'v1', gateway });
    const d = findObject(Testing.synth(chart), 'Deployment');
    expect(d.spec.template.spec.volumes).toContainEqual({ name: 'cache', persistentVolumeClaim: { claimName: 'llm-weights' } });
    expect(container(d).resources.requests['ephemeral-storage']).toBeUndefined();
  });

  test('secrets and identity: secret env (HF_TOKEN), envFrom, imagePullSecrets, ServiceAccount, pod annotations; escape hatch', () => {
    const { chart, model } = setup({
      secretEnv: { HF_TOKEN: { secretName: 'hf-token', key: 'token' } },
      envFromSecrets: ['s3-creds'],
      envFromConfigMaps: ['vllm-flags'],
      imagePullSecrets: ['registry'],
      serviceAccountName: 'llm-irsa',
      podAnnotations: { 'prometheus.io/scrape': 'true' },
    });
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    prod.deploymentOf('v1').addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', 'gpu-serving'));
    const objects = Testing.synth(chart);
    const d = findObject(objects, 'Deployment');
    const pod = d.spec.template.spec;
    expect(container(d).env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } });
    expect(container(d).envFrom).toEqual([{ secretRef: { name: 's3-creds' } }, { configMapRef: { name: 'vllm-flags' } }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry' }]);
    expect(pod.serviceAccountName).toBe('llm-irsa');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(d.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(pod.priorityClassName).toBe('gpu-serving');
    expect(ApiObject.of(prod.deploymentOf('v1')).kind).toBe('Deployment');
    expectValid(objects);
  });

  test('probes time out after 10 s, liveness needs 5 minutes of failures, the Deployment deadline covers node launch + load', () => {
    const { chart, model } = setup({ loadTimeout: Duration.minutes(25) });
    model.addEnvironment('production', { version: 'v1', gateway });
    const d = findObject(Testing.synth(chart), 'Deployment');
    const c = container(d);
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) expect(probe.timeoutSeconds).toBe(10);
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(25 * 60);
    expect(c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold).toBe(300);
    // Kubernetes' default 600 s would report every GPU scale-up as ProgressDeadlineExceeded
    expect(d.spec.progressDeadlineSeconds).toBe(25 * 60 + 600);
  });

  test('draining: a termination grace period of minutes and a preStop delay before SIGTERM', () => {
    const { chart, model } = setup({ terminationGracePeriod: Duration.minutes(10), drainDelay: Duration.seconds(20) });
    model.addEnvironment('production', { version: 'v1', gateway });
    const d = findObject(Testing.synth(chart), 'Deployment');
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(600);
    expect(container(d).lifecycle).toEqual({ preStop: { sleep: { seconds: 20 } } });
    const defaults = setup();
    defaults.model.addEnvironment('production', { version: 'v1', gateway });
    expect(findObject(Testing.synth(defaults.chart), 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(300);
  });

  test("the rollout's progress deadline derives from the canaries' load timeout, and a shorter one is refused", () => {
    const { chart, model } = setup({ loadTimeout: Duration.minutes(25) });
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    const r = new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] });
    expect(r.plan._spec().progressDeadlineSeconds).toBe(35 * 60);
    const again = setup({ loadTimeout: Duration.minutes(25) });
    const prod2 = again.model.addEnvironment('production', { version: 'v1', gateway });
    expect(() => new CanaryRollout(again.chart, 'Rollout', { environment: prod2, canaries: [{ version: 'v2' }], progressDeadline: Duration.minutes(15) }))
      .toThrow(/^\[Chart\/Rollout\] progressDeadline: canary "v2" may take 1500 s to load/);
  });
});

describe('routing', () => {
  let twin: KubeTwin;
  beforeEach(async () => { twin = await KubeTwin.start(); });
  afterEach(async () => { await twin.stop(); });

  /** Seed the synthesized Deployments (ready) and Services, and the HTTPRoute, into the twin. */
  function seed(objects: any[]): void {
    for (const o of objects.filter((x) => ['Deployment', 'Service', 'HTTPRoute'].includes(x.kind))) {
      const copy = JSON.parse(JSON.stringify(o));
      if (copy.kind === 'Deployment') copy.spec.replicas = 1;
      twin.seed(copy);
    }
    new World(twin).reconcile();
  }

  test('pins win over bucket rules (Gateway API precedence: header count, then query params), header and query pins alike', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'] });
    new CanaryRollout(chart, 'Rollout', {
      environment: prod,
      canaries: [{ version: 'v2', weight: 30, ramp: false }],
      routing: Routing.headerHash('x-user-id'),
      gatewayImplementation: GatewayImplementation.ISTIO,
      pins: [Pin.query('tester', 'yes', 'v1'), Pin.header('x-model-version', 'v1', 'v1')],
    });
    const objects = Testing.synth(chart);
    // a fixed split is rendered into the route itself: 30 % of the buckets on v2 from the first apply
    const route = findObject(objects, 'HTTPRoute');
    seed(objects);
    const world = new World(twin);
    const users = Array.from({ length: 300 }, (_, i) => `u${i}`);
    // the bucket filter tags every request of the host (what the Lua filter does, tested on LuaJIT elsewhere)
    const tag = (u: string) => ({ 'x-user-id': u, [BUCKET_HEADER]: String(bucketOf(u)) });
    const byQuery = world.routeBatch(users.map((u) => ({ host: 'llm.example.com', path: '/v1/completions?tester=yes', headers: tag(u) })));
    const byHeader = world.routeBatch(users.map((u) => ({ host: 'llm.example.com', path: '/', headers: { ...tag(u), 'x-model-version': 'v1' } })));
    expect(byQuery.filter((o) => o.backend?.service !== 'llm-production-v1')).toEqual([]);
    expect(byHeader.filter((o) => o.backend?.service !== 'llm-production-v1')).toEqual([]);
    // without the pin, ~30 % reach the canary by bucket
    const plain = world.routeBatch(users.map((u) => ({ host: 'llm.example.com', path: '/', headers: tag(u) })));
    plain.forEach((o, i) => expect(o.backend?.service).toBe(bucketOf(users[i]) < 30 ? 'llm-production-v2' : 'llm-production-v1'));
    // untagged requests (no filter on that listener) follow the weights, never a fixed version
    expect(route.spec.rules[route.spec.rules.length - 1].backendRefs).toEqual([
      { name: 'llm-production-v1', port: 8080, weight: 70 }, { name: 'llm-production-v2', port: 8080, weight: 30 },
    ]);
  });

  test('after promotion (canary at 100) every bucket and every untagged request reach the canary, none the old stable', () => {
    const target = { kind: 'kubernetes', namespace: 'models', httpRoute: 'r', backends: { v1: { service: 's1', port: 80, deployment: 's1', baseReplicas: 1 }, v2: { service: 's2', port: 80, deployment: 's2', baseReplicas: 1 } }, routing: { kind: 'headerHash', header: 'x-user-id' }, pins: [] };
    const rules = renderHttpRouteRules({ stable: 'v1', canaries: [{ version: 'v2', targetWeight: 100, ramp: true }], mirror: undefined }, target as any, { v1: 0, v2: 100 });
    expect(rules.flatMap((r: any) => r.backendRefs.filter((b: any) => b.weight > 0).map((b: any) => b.name))).toEqual(['s2', 's2']);
  });

  test('16+ pins to one version share a rule; the route stays within the CRD limits (rules maxItems 16, matches < 128)', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    const pins = Array.from({ length: 20 }, (_, i) => Pin.header('x-tester', `t${i}`, 'v2'));
    new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], pins });
    const objects = Testing.synth(chart);
    const rules = findObject(objects, 'HTTPRoute').spec.rules;
    // HTTPRoute CRD (gateway-api v1.x standard): spec.rules maxItems 16; rules[].matches maxItems 64; total matches < 128
    expect(rules.length).toBeLessThanOrEqual(16);
    expect(Math.max(...rules.map((r: any) => r.matches.length))).toBeLessThanOrEqual(64);
    expect(rules.reduce((n: number, r: any) => n + r.matches.length, 0)).toBeLessThan(128);
    expectValid(objects);
    const big = setup();
    const prod2 = big.model.addEnvironment('production', { version: 'v1', gateway });
    const many = Array.from({ length: 70 }, (_, i) => Pin.header('x-tester', `t${i}`, 'v2'));
    expect(() => new CanaryRollout(big.chart, 'Rollout', { environment: prod2, canaries: [{ version: 'v2' }], routing: Routing.headerHash('x-user-id'), gatewayImplementation: GatewayImplementation.ISTIO, pins: many }))
      .toThrow(/\[Chart\/Rollout\] pins: the HTTPRoute would exceed Gateway API limits/);
  });

  test('a partial mirror is refused on Gateway API CRDs older than v1.3 (percent would be pruned)', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], mirror: { version: 'v3', percent: 5 }, gatewayApiVersion: '1.2' }))
      .toThrow(/mirror\.percent: a partial mirror needs `RequestMirror\.percent`, standard since Gateway API v1\.3/);
  });

  test('on CRDs older than v1.3 the default shadow step is left out when it would mirror a share; an explicit one is refused', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 4, maxReplicas: 8 } });
    // 4 stable replicas: the default step would mirror 25 %, which v1.2 CRDs would prune to 100 %
    const dropped = new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], gatewayApiVersion: '1.2' });
    expect(dropped.plan._data().rows.some((r) => r.shadow !== undefined)).toBe(false);
    const next = setup();
    const prod2 = next.model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 4, maxReplicas: 8 } });
    expect(() => new CanaryRollout(next.chart, 'Rollout', {
      environment: prod2, canaries: [{ version: 'v2' }], gatewayApiVersion: '1.2', steps: Steps.custom([Step.shadow({ percent: 20 }), Step.setWeight(10)]),
    })).toThrow(/\[Chart\/Rollout\] steps\[0\]\.percent: a partial mirror needs `RequestMirror\.percent`/);
    // on v1.3 (the default) the default step mirrors 25 % and the route renders no mirror until the controller sends it
    const v13 = setup();
    const prod3 = v13.model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 4, maxReplicas: 8 } });
    const kept = new CanaryRollout(v13.chart, 'Rollout', { environment: prod3, canaries: [{ version: 'v2' }] });
    expect(kept.plan._data().rows.find((r) => r.shadow !== undefined)?.shadow).toBe(25);
    expect(JSON.stringify(findObject(Testing.synth(v13.chart), 'HTTPRoute').spec.rules)).not.toContain('RequestMirror');
  });
});

describe('autoscaling and nodes', () => {
  test('HTTPScaledObject waits for node launch + load and for a whole non-streaming completion', () => {
    const { chart, model } = setup({ loadTimeout: Duration.minutes(20) });
    model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'], autoscaling: { minReplicas: 0 } });
    GpuNodePools.external(chart, [GpuProduct.A10G]);
    const objects = Testing.synth(chart);
    expect(findObject(objects, 'HTTPScaledObject').spec.timeouts).toEqual({ conditionWait: '1800s', responseHeader: '300s' });
    expectValid(objects, { allow: HTTP_SCALED_OBJECT });
  });

  test('InterceptorRoute (add-on v0.14+): routing and timeouts on the route, our ScaledObject with the external-push trigger', () => {
    const { chart, model } = setup({ loadTimeout: Duration.minutes(20) });
    model.addEnvironment('production', {
      version: 'v1',
      gateway,
      hostnames: ['llm.example.com'],
      pathPrefix: '/v1',
      autoscaling: { minReplicas: 0, maxReplicas: 3, scaleToZeroApi: ScaleToZeroApi.INTERCEPTOR_ROUTE },
    });
    GpuNodePools.external(chart, [GpuProduct.A10G]);
    const objects = Testing.synth(chart);
    expect(objectsOf(objects, 'HTTPScaledObject')).toEqual([]);
    const route = findObject(objects, 'InterceptorRoute');
    expect(route.apiVersion).toBe('http.keda.sh/v1beta1');
    // limits of kedacore/http-add-on config/crd/bases/http.keda.sh_interceptorroutes.yaml (no model package):
    // target.service required, exactly one of port/portName, at least one scaling metric, targetValue >= 1
    expect(route.spec.target.service).toBe(route.metadata.name + '-v1');
    expect([route.spec.target.port, route.spec.target.portName].filter((v) => v !== undefined)).toHaveLength(1);
    expect(route.spec.scalingMetric.concurrency.targetValue).toBeGreaterThanOrEqual(1);
    expect(route.spec.rules).toEqual([{ hosts: ['llm.example.com'], paths: [{ value: '/v1' }] }]);
    expect(route.spec.timeouts).toEqual({ readiness: '1800s', responseHeader: '300s', request: '0s' });
    // the add-on creates no ScaledObject for an InterceptorRoute: exactly one of ours scales the serving version
    const scaled = objects.filter((o) => o.kind === 'ScaledObject' && o.spec.scaleTargetRef.name === route.spec.target.service);
    expect(scaled).toHaveLength(1);
    expect(scaled[0].spec).toMatchObject({ minReplicaCount: 0, maxReplicaCount: 3, cooldownPeriod: 900 });
    expect(scaled[0].spec.triggers).toEqual([{
      type: 'external-push',
      metadata: { interceptorRoute: route.metadata.name, scalerAddress: 'keda-add-ons-http-external-scaler.keda:9090' },
    }]);
    expect(findObject(objects, 'HTTPRoute').spec.rules[0].backendRefs[0].name).toBe('keda-add-ons-http-interceptor-proxy');
    expectValid(objects, { allow: { 'http.keda.sh/v1beta1/InterceptorRoute': 'the KEDA HTTP add-on CRD has no upstream model package' } });
  });

  test('HPA mode: only the serving version has an HPA; canaries have none, and the controller owns their replicas', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { autoscaler: Autoscaler.hpa() } });
    new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] });
    const objects = Testing.synth(chart);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name)).toEqual(['llm-production-v1']);
    // no `replicas` in the manifest: a re-apply must not scale a live canary to 0 (the controller sets it by scale)
    expect(findObject(objects, 'Deployment', 'llm-production-v2').spec.replicas).toBeUndefined();
    expect(findObject(objects, 'Deployment', 'llm-production-v2').metadata.annotations).toEqual({ 'model-rollout.dev/controller-owned-fields': 'spec.replicas' });
    expect(findObject(objects, 'Role').rules).toContainEqual({ apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: ['llm-production-v2'], verbs: ['patch'] });
    expectValid(objects);
  });

  test('idle versions start at 0 replicas (no GPU node on a fresh apply); serving versions and canaries leave replicas out', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] });
    prod.deploymentOf('v3');
    const objects = Testing.synth(chart);
    expect(findObject(objects, 'Deployment', 'llm-production-v1').spec.replicas).toBeUndefined();
    // a canary's replicas are KEDA's and the controller's floor: a re-apply of `replicas: 0` would kill a live canary
    expect(findObject(objects, 'Deployment', 'llm-production-v2').spec.replicas).toBeUndefined();
    expect(findObject(objects, 'Deployment', 'llm-production-v3').spec.replicas).toBe(0);
  });

  test('Karpenter: cluster-scoped objects carry no namespace; nodes never expire; drift rolls out in a window; PDBs', () => {
    const { chart, model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway, autoscaling: { minReplicas: 1 } });
    model.addEnvironment('staging', { version: 'v1', gateway, autoscaling: { minReplicas: 2 } });
    new GpuNodePools(chart, 'Gpu', { models: [model], nodeClass: { role: 'r', discoveryTag: 't' } });
    const objects = Testing.synth(chart);
    for (const o of objects.filter((x) => ['NodePool', 'EC2NodeClass'].includes(x.kind))) expect(o.metadata.namespace).toBeUndefined();
    const pool = findObject(objects, 'NodePool').spec;
    expect(pool.template.spec.expireAfter).toBe('Never');
    expect(pool.template.spec.terminationGracePeriod).toBe('7200s');
    expect(pool.disruption.budgets).toEqual([{ nodes: '1' }, { nodes: '0', reasons: ['Drifted'], schedule: '0 6 * * *', duration: '20h' }]);
    // minReplicas 1: the only replica is never evicted voluntarily; 2+: one at a time
    expect(findObject(objects, 'PodDisruptionBudget', 'llm-production-v1').spec).toMatchObject({ minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(findObject(objects, 'PodDisruptionBudget', 'llm-staging-v1').spec).toMatchObject({ maxUnavailable: 1 });
    expectValid(objects);
  });

  test('a replica asking for more GPUs than the largest node of the product is refused', () => {
    expect(() => setup({ gpu: Gpu.nvidia({ count: 16, product: GpuProduct.H100 }) }))
      .toThrow(/^\[Chart\/Llm\] gpu\.count: a replica asks for 16 H100 GPUs, but the largest node with H100 has 8/);
  });
});

describe('names and bad input', () => {
  test('a CronJob name stays within 52 characters (mistral-small-24b-instruct in production)', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const m = new Model(chart, 'M', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'mistral-small-24b-instruct', image: 'vllm/vllm-openai:v0.6.3' });
    m.addVersion('v2');
    const prod = m.addEnvironment('production', { version: 'v1', gateway });
    new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] });
    const objects = Testing.synth(chart);
    const cron = findObject(objects, 'CronJob');
    expect(cron.metadata.name.length).toBeLessThanOrEqual(52);
    expect(cron.spec.jobTemplate.spec.template.spec.serviceAccountName).toBe(cron.metadata.name);
    expect(findObject(objects, 'RoleBinding').subjects[0].name).toBe(cron.metadata.name);
  });

  test('rejects a duplicate environment with this library\'s message', () => {
    const { model } = setup();
    model.addEnvironment('production', { version: 'v1', gateway });
    expect(() => model.addEnvironment('production', { version: 'v1', gateway })).toThrow(/^\[Chart\/Llm\/Production\] name: the model already has an environment called "production"/);
  });

  test.each([
    ['a model name starting with a digit (Service names are DNS-1035)', () => setup({ name: '70b-chat' }), /^\[Chart\/Llm\] name: .*Service names must start with a letter/],
    ['loadTimeout 0', () => setup({ loadTimeout: Duration.seconds(0) }), /^\[Chart\/Llm\] loadTimeout: this duration must be at least 1 second/],
    ['port 70000', () => setup({ port: 70000 }), /^\[Chart\/Llm\] port: a port is a whole number from 1 to 65535 \(received 70000\)/],
    ['an empty image', () => setup({ image: '' }), /^\[Chart\/Llm\] image: the container image is empty/],
    ['an empty version image', () => setup().model.addVersion('v4', { image: ' ' }), /versions\.v4\.image: the container image is empty/],
    ['a hostname with a scheme', () => setup().model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['https://llm.example.com'] }),
      /^\[Chart\/Llm\/Production\] hostnames\[0\]: a host name is a lowercase DNS name.*Fix: use for example "llm\.example\.com"/],
    ['a path prefix without /', () => setup().model.addEnvironment('production', { version: 'v1', gateway, pathPrefix: 'v1' }), /^\[Chart\/Llm\/Production\] pathPrefix: a path must start with "\/"/],
    ['an unknown version, at the environment', () => setup().model.addEnvironment('production', { version: 'v9', gateway }), /^\[Chart\/Llm\/Production\] version: there is no version "v9"/],
  ])('rejects %s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });

  test.each([
    ['a pin header name with a space', { pins: [Pin.header('x model', 'v2', 'v2')] }, /pins\[0\]\.name: header and query parameter names are HTTP tokens/],
    ['a hash header name with a space', { routing: Routing.headerHash('x user') }, /routing\.header: header and query parameter names are HTTP tokens/],
    ['canary weight 0', { canaries: [{ version: 'v2', weight: 0 }] }, /canaries\[0\]\.weight: canary "v2" would never receive a request/],
    ['a mirror to the canary itself', { mirror: { version: 'v2', percent: 5 } }, /mirror\.version: "v2" is already a canary/],
  ])('a rollout rejects %s', (_name, extra, message) => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }], ...extra } as any)).toThrow(message);
  });

  test('rejects a rollout on an inactive environment', () => {
    const { chart, model } = setup();
    const prod = model.addEnvironment('production', { version: 'v1', gateway, active: false });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: prod, canaries: [{ version: 'v2' }] })).toThrow(/^\[Chart\/Rollout\] environment: environment "production" is inactive/);
  });

  test('the cache size must hold something', () => {
    expect(() => setup({ modelCache: ModelCache.emptyDir(Size.gibibytes(0)) })).toThrow(/modelCache: the model cache must have room/);
  });
});
