/**
 * Sticky splits on every gateway this library can serve them on, correct with many rollouts: one bucket filter per
 * Gateway serving every rollout's hosts; filters of several apps on one gateway chained (LuaJIT, one stream per
 * request with shared dynamic metadata, test/support/kube-twin/harness.lua); Envoy Gateway's EnvoyExtensionPolicy form
 * through the twin's gateway and through a replica of Envoy Gateway's strict Lua validation; a synth error where the
 * implementation cannot run the filter.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { bucketOf } from '../../src/core/routes/sticky-bucket';
import { CanaryRollout, GatewayImplementation, Model, Routing } from '../../src/k8s';
import { findTool, KubeTwin, World } from '../support/kube-twin';

const PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';
const luajit = findTool('luajit');
const find = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);

/** A sticky fixed split of `name` at `host`: 30 % of the users (buckets 0..29) on v2, every user on one version. */
function stickySplit(chart: Chart, name: string, host: string, implementation = GatewayImplementation.ISTIO) {
  const model = new Model(chart, name, { name, image: 'vllm/vllm-openai:v0.6.3', prometheusUrl: PROMETHEUS });
  model.addVersion('v2');
  const env = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, hostnames: [host] });
  new CanaryRollout(chart, 'Split' + name, {
    environment: env, canaries: [{ version: 'v2', weight: 30, ramp: false }], routing: Routing.headerHash('x-user-id'), gatewayImplementation: implementation,
  });
}

/** Routes 200 users of each host through the twin's gateway (its Lua filters on LuaJIT); returns the wrong ones. */
async function misrouted(objects: any[], hosts: Record<string, string>): Promise<{ wrong: string[]; served: number }> {
  const twin = await KubeTwin.start();
  try {
    twin.seedNamespaces('models', 'gateways');
    for (const o of objects) twin.seed(o);
    const world = new World(twin, { luajit: luajit! });
    world.reconcile();
    world.advance(1);
    const users = Array.from({ length: 200 }, (_, i) => `user-${i * 7919}`);
    const wrong: string[] = [];
    let served = 0;
    for (const [host, model] of Object.entries(hosts)) {
      const outcomes = world.routeBatch(users.map((u) => ({ host, path: '/v1/chat/completions', headers: { 'x-user-id': u } })));
      outcomes.forEach((o, i) => {
        const want = `${model}-production-${bucketOf(users[i]) < 30 ? 'v2' : 'v1'}`;
        if (o.backend?.service === want) served++;
        else wrong.push(`${host} ${users[i]} -> ${o.backend?.service ?? o.status} (want ${want})`);
      });
    }
    return { wrong, served };
  } finally {
    await twin.stop();
  }
}

const describeLua = luajit ? describe : describe.skip;
if (!luajit) {
  test('luajit is not installed', () => {
    if (process.env.CI) throw new Error('luajit not found on PATH: install the Debian package luajit');
    console.warn('SKIPPED: sticky gateways on LuaJIT, luajit not found on PATH; install Debian package luajit');
    expect(luajit).toBeUndefined();
  });
}

describeLua('two sticky rollouts on one gateway', () => {
  test('one EnvoyFilter per gateway serves both; every user of each keeps its version', async () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    stickySplit(chart, 'alpha', 'alpha.example.com');
    stickySplit(chart, 'beta', 'beta.example.com');
    const objects = Testing.synth(chart);
    expect(find(objects, 'EnvoyFilter').map((f) => `${f.metadata.namespace}/${f.metadata.name}`)).toEqual(['gateways/model-rollout-bucket-inference']);
    const r = await misrouted(objects, { 'alpha.example.com': 'alpha', 'beta.example.com': 'beta' });
    expect(r.wrong).toEqual([]);
    expect(r.served).toBe(400);
  });

  test('filters of two apps on one gateway, chained: neither undoes the other\'s buckets, in either order', async () => {
    const a = new Chart(Testing.app(), 'A', { namespace: 'models' });
    stickySplit(a, 'alpha', 'alpha.example.com');
    const b = new Chart(Testing.app(), 'B', { namespace: 'models' });
    stickySplit(b, 'beta', 'beta.example.com');
    const [fa, fb] = [Testing.synth(a), Testing.synth(b)];
    // same name in two apps would overwrite each other in the cluster: rename one, as two teams' apps would differ
    const renamed = fb.map((o) => (o.kind === 'EnvoyFilter' ? { ...o, metadata: { ...o.metadata, name: 'aaa-other-team-bucket' } } : o));
    for (const objects of [[...fa, ...renamed], [...renamed, ...fa]]) {
      expect(find(objects, 'EnvoyFilter')).toHaveLength(2);
      const r = await misrouted(objects, { 'alpha.example.com': 'alpha', 'beta.example.com': 'beta' });
      expect(r.wrong).toEqual([]);
    }
  });

  test('a client-sent bucket header never picks a version', async () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    stickySplit(chart, 'alpha', 'alpha.example.com');
    const twin = await KubeTwin.start();
    try {
      twin.seedNamespaces('models', 'gateways');
      for (const o of Testing.synth(chart)) twin.seed(o);
      const world = new World(twin, { luajit: luajit! });
      world.reconcile();
      world.advance(1);
      const stable = Array.from({ length: 100 }, (_, i) => `u${i}`).filter((u) => bucketOf(u) >= 30);
      const out = world.routeBatch(stable.map((u) => ({ host: 'alpha.example.com', path: '/', headers: { 'x-user-id': u, 'x-model-rollout-bucket': '0' } })));
      expect(out.map((o) => o.backend?.service).filter((s) => s !== 'alpha-production-v1')).toEqual([]);
    } finally {
      await twin.stop();
    }
  });
});

describeLua('Envoy Gateway', () => {
  test('the EnvoyExtensionPolicy form on the Gateway keeps every user of both rollouts on its version', async () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    stickySplit(chart, 'alpha', 'alpha.example.com', GatewayImplementation.ENVOY_GATEWAY);
    stickySplit(chart, 'beta', 'beta.example.com', GatewayImplementation.ENVOY_GATEWAY);
    const objects = Testing.synth(chart);
    expect(find(objects, 'EnvoyFilter')).toEqual([]);
    const [policy] = find(objects, 'EnvoyExtensionPolicy');
    expect(policy.metadata).toEqual({ name: 'model-rollout-bucket-inference', namespace: 'gateways' });
    expect(policy.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'inference' }]);
    const r = await misrouted(objects, { 'alpha.example.com': 'alpha', 'beta.example.com': 'beta' });
    expect(r.wrong).toEqual([]);
  });

  test('the script passes Envoy Gateway\'s strict validation: envoy_on_request(StreamHandle) on its mocks, which lack clearRouteCache()', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    stickySplit(chart, 'alpha', 'alpha.example.com', GatewayImplementation.ENVOY_GATEWAY);
    const script = find(Testing.synth(chart), 'EnvoyExtensionPolicy')[0].spec.lua[0].inline;
    // the subset of envoyproxy/gateway internal/gatewayapi/luavalidator/mocks.lua the filter touches: headers() whose
    // get() answers "example_value" for every name, streamInfo():dynamicMetadata() whose get() answers a string, and no
    // clearRouteCache(); the validator appends `envoy_on_request(StreamHandle)` to the script and runs it (lua_validator.go)
    const mocks = `
      local Headers = {}
      function Headers:get(k) return "example_value" end
      function Headers:remove(k) end
      function Headers:replace(k, v) end
      local DynamicMetadata = {}
      function DynamicMetadata:get(f) return "get_result" end
      function DynamicMetadata:set(f, k, v) end
      local StreamInfo = {}
      function StreamInfo:dynamicMetadata() return DynamicMetadata end
      StreamHandle = {}
      function StreamHandle:headers() return Headers end
      function StreamHandle:streamInfo() return StreamInfo end
    `;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-validate-'));
    try {
      const file = path.join(dir, 'validate.lua');
      fs.writeFileSync(file, `${mocks}\n${script}\nenvoy_on_request(StreamHandle)\nprint("ok")\n`);
      const run = spawnSync(luajit!, [file], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('ok');
      // and a script that calls clearRouteCache() unconditionally fails there, as Envoy Gateway reports it
      fs.writeFileSync(file, `${mocks}\nfunction envoy_on_request(h) h:clearRouteCache() end\nenvoy_on_request(StreamHandle)\n`);
      expect(spawnSync(luajit!, [file], { encoding: 'utf8' }).stderr).toMatch(/attempt to call method 'clearRouteCache'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hash routing where the gateway cannot run the filter', () => {
  test.each([
    [GatewayImplementation.CILIUM], [GatewayImplementation.GKE], [GatewayImplementation.NGINX_GATEWAY_FABRIC], [GatewayImplementation.OTHER],
  ])('%s: refused at synth with the fix', (implementation) => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    expect(() => stickySplit(chart, 'alpha', 'alpha.example.com', implementation))
      .toThrow(new RegExp(`^\\[Chart/Splitalpha\\] gatewayImplementation: ${implementation} has no API .* \\(received "${implementation}"\\)\\. Fix: use \`Routing.random\\(\\)\``));
  });

  test('undeclared: refused at synth, naming the implementations that work', () => {
    const chart = new Chart(Testing.app(), 'Chart', { namespace: 'models' });
    const model = new Model(chart, 'alpha', { image: 'vllm/vllm-openai:v0.6.3', prometheusUrl: PROMETHEUS });
    model.addVersion('v2');
    const env = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference' }, hostnames: ['a.example.com'] });
    expect(() => new CanaryRollout(chart, 'Rollout', { environment: env, canaries: [{ version: 'v2' }], routing: Routing.queryHash('user') }))
      .toThrow(/^\[Chart\/Rollout\] gatewayImplementation: a sticky split needs the gateway to run a bucket filter.*Fix: declare it: `gatewayImplementation: GatewayImplementation\.ISTIO` or `GatewayImplementation\.ENVOY_GATEWAY`/);
  });
});
