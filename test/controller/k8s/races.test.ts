/**
 * Class 4: the CLI racing a tick, interleaved at every API call, against the kube twin (which answers a failed
 * JSON-patch `test` with 422 like the real API server). A cancel the CLI reports as stored must be durable and
 * must win: no route write raising a canary survives the tick once the cancel is stored, and the rollout ends
 * aborted with every canary at 0.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/controller/cli/main';
import { weightsFromRules } from '../../../src/controller/k8s/adapter';
import { paths } from '../../../src/controller/k8s/kube-client';
import { runTick } from '../../../src/controller/k8s/main';
import { STATE_KEY_COMMAND, STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../../../src/core/constants';
import { KubernetesTarget } from '../../../src/core/contract/target';
import { renderHttpRouteRules } from '../../../src/core/routes/gateway-api';
import { KubeTwin } from '../../support/kube-twin';
import { kubernetesTarget, rolloutSpec } from '../../support/spec-fixture';

const NS = 'models';
const MIN = 60_000;
const spec = rolloutSpec();
const target: KubernetesTarget = kubernetesTarget({ scaledObjects: true });
const env = { ROLLOUT_NAMESPACE: NS, ROLLOUT_SPEC_CONFIGMAP: 'llama-rollout-spec', ROLLOUT_STATE_CONFIGMAP: 'llama-rollout-state' };
const p = {
  spec: paths.configMap(NS, env.ROLLOUT_SPEC_CONFIGMAP),
  state: paths.configMap(NS, env.ROLLOUT_STATE_CONFIGMAP),
  route: paths.httpRoute(NS, 'llama'),
};

async function world() {
  const api = await KubeTwin.start();
  const token = api.adminToken;
  const specData = { [STATE_KEY_SPEC]: JSON.stringify(spec), [STATE_KEY_TARGET]: JSON.stringify(target) };
  api.seedAt(p.spec, { metadata: { name: env.ROLLOUT_SPEC_CONFIGMAP }, data: specData } as any);
  api.seedAt(p.state, { metadata: { name: env.ROLLOUT_STATE_CONFIGMAP } } as any);
  api.seedAt(p.route, { metadata: { name: 'llama' }, spec: { rules: renderHttpRouteRules(spec, target, { v1: 100, v2: 0 }) } } as any);
  for (const v of ['v1', 'v2']) {
    api.seedAt(paths.deployment(NS, `llama-${v}`), { metadata: { name: `llama-${v}` }, spec: { replicas: 4 }, status: { readyReplicas: 4 } } as any);
    api.seedAt(paths.scaledObject(NS, `llama-${v}`), { metadata: { name: `llama-${v}` }, spec: { minReplicaCount: v === 'v1' ? 4 : 0 } } as any);
  }
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kube-')), 'config');
  fs.writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: t',
    'clusters:', '- name: twin', '  cluster:', `    server: ${api.url}`,
    'users:', '- name: me', '  user:', `    token: ${token}`,
    'contexts:', '- name: t', '  context:', '    cluster: twin', '    user: me', `    namespace: ${NS}`, '',
  ].join('\n'));
  const conn = { server: api.url, token };
  const quiet = () => undefined;
  const tickAt = (now: number) => runTick(conn, env, now, quiet);
  const cancel = () => main(['cancel', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
  const route = () => weightsFromRules(spec, target, api.at(p.route).spec.rules)!;
  const state = () => JSON.parse(api.at(p.state).data[STATE_KEY_STATE]);
  const commands = () => JSON.parse(api.at(p.state).data?.[STATE_KEY_COMMAND] ?? '[]');
  // the rollout under way: 10 % served; the next tick raises it to 20 %
  await tickAt(0);
  await tickAt(MIN);
  await tickAt(2 * MIN);
  return { api, tickAt, cancel, route, state, commands };
}

/** Requests of one undisturbed tick at 3 minutes (the one that raises the weight). */
async function requestsOfOneTick(): Promise<number> {
  const w = await world();
  const before = w.api.requests.length;
  await w.tickAt(3 * MIN);
  const n = w.api.requests.length - before;
  await w.api.stop();
  return n;
}

describe('class 4: the CLI racing a tick', () => {
  test('class 4: a cancel injected before each API call of a tick wins within that tick or the next, and is never lost', async () => {
    const n = await requestsOfOneTick();
    expect(n).toBeGreaterThan(5);
    for (let k = 0; k < n; k++) {
      const w = await world();
      expect(w.route().v2).toBeGreaterThan(0);
      let seen = 0;
      let inCli = false;
      let cliCode: number | undefined;
      let storedAt = -1;
      w.api.beforeRequest = async () => {
        if (inCli || cliCode !== undefined) return;
        if (seen++ !== k) return;
        inCli = true;
        cliCode = await w.cancel();
        storedAt = w.api.requests.length;
        inCli = false;
      };
      await w.tickAt(3 * MIN);
      w.api.beforeRequest = undefined;
      expect([k, cliCode]).toEqual([k, 0]);
      // durable: stored in the queue, or already handled by the state
      expect([k, w.commands().some((c: any) => c.kind === 'cancel') || w.state().commandSeq >= 1]).toEqual([k, true]);
      // won: once stored, the tick left the route on stable (a raise that slipped in was undone in the same tick)
      expect([k, w.state().phase, w.route()]).toEqual([k, 'aborted', { v1: 100, v2: 0 }]);
      // weight writes only (a JSON patch of /spec/rules), not the status annotation (a merge patch of metadata)
      const raised = w.api.requests.slice(storedAt).filter((q) => q.method === 'PATCH' && q.path === p.route && q.status === 200
        && Array.isArray(q.body) && (q.body as any)[1]?.path === '/spec/rules');
      const last = raised[raised.length - 1];
      if (last) expect([k, (last.body as any)[1].value.at(-1).backendRefs.find((b: any) => b.name === 'llama-v2').weight]).toEqual([k, 0]);
      await w.tickAt(4 * MIN);
      expect([k, w.route()]).toEqual([k, { v1: 100, v2: 0 }]);
      await w.api.stop();
    }
  });

  test('class 4: a tick injected before each API call of the CLI: the CLI retries its conflict and the cancel is stored', async () => {
    for (let k = 0; k < 4; k++) {
      const w = await world();
      let seen = 0;
      let inTick = false;
      let injected = false;
      w.api.beforeRequest = async () => {
        if (inTick || injected || seen++ !== k) return;
        inTick = true;
        await w.tickAt(3 * MIN);
        inTick = false;
        injected = true;
      };
      const code = await w.cancel();
      w.api.beforeRequest = undefined;
      expect([k, injected, code]).toEqual([k, true, 0]);
      expect([k, w.commands().filter((c: any) => c.kind === 'cancel').length]).toEqual([k, 1]);
      await w.tickAt(4 * MIN);
      expect([k, w.state().phase, w.route()]).toEqual([k, 'aborted', { v1: 100, v2: 0 }]);
      await w.api.stop();
    }
  });
});
