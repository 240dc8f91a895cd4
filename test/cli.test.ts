/**
 * The `model-rollout` CLI: `plan` on a synthesized plan file, and the Kubernetes commands against the FAKE API
 * server on loopback (test/support/fake-kube-api.ts), through a kubeconfig written for it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RolloutPlan } from '../src';
import { FakeKubeApi } from './support/fake-kube-api';
import { kubernetesTarget, rolloutSpec } from './support/spec-fixture';
import { main, parseArgs } from '../src/controller/cli/main';
import { weightsFromRules } from '../src/controller/k8s/adapter';
import { paths } from '../src/controller/k8s/kube-client';
import { specConfigMapName, stateConfigMapName, STATE_KEY_COMMAND, STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../src/core/constants';
import { KubernetesTarget } from '../src/core/contract/target';
import { renderHttpRouteRules } from '../src/core/routes/gateway-api';
import { RolloutSpec } from '../src/core/spec';

const NS = 'models';
const spec: RolloutSpec = rolloutSpec();
const target: KubernetesTarget = kubernetesTarget({ httpRoute: 'llama-production' });

function capture() {
  let text = '';
  return { out: (s: string) => { text += s; }, text: () => text };
}

describe('model-rollout plan', () => {
  test('prints the plan table and the mermaid chart of a synthesized rollout', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
    const [, json] = RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(dir);
    const c = capture();
    expect(await main(['plan', json], {}, c.out)).toBe(0);
    expect(c.text()).toContain('Rollout plan: llama');
    expect(c.text()).toMatch(/^10:00\s+-\s+0%\s+100%/m);
    expect(c.text()).toContain('xychart-beta');
  });

  test('the packaged bin runs the bundled CLI', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
    const [, json] = RolloutPlan.compute({ name: 'bin', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(dir);
    const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'bin', 'model-rollout'), 'plan', json], { encoding: 'utf8' });
    expect(out).toContain('Rollout plan: bin');
  });

  test('without a verb it prints the usage and fails', async () => {
    const c = capture();
    expect(await main(['frobnicate'], {}, c.out)).toBe(2);
    expect(c.text()).toContain('usage:');
    expect(parseArgs(['status', 'llama', '--kube', '--context', 'prod']).flags).toEqual({ kube: true, context: 'prod' });
  });
});

describe('model-rollout against a cluster (fake API)', () => {
  let api: FakeKubeApi;
  let kubeconfig: string;
  const p = {
    spec: paths.configMap(NS, specConfigMapName('llama')),
    state: paths.configMap(NS, stateConfigMapName('llama')),
    route: paths.httpRoute(NS, 'llama-production'),
  };

  beforeEach(async () => {
    api = new FakeKubeApi('cli-token');
    await api.start();
    api.put(p.spec, { metadata: { name: specConfigMapName('llama') }, data: { [STATE_KEY_SPEC]: JSON.stringify(spec), [STATE_KEY_TARGET]: JSON.stringify(target) } } as any);
    const state = { specHash: 'x', phase: 'progressing', stepIndex: 7, stepStartedAt: Date.now(), weights: { v1: 70, v2: 30 }, floors: { v2: 2 }, checkFailures: 0, updatedAt: Date.now() };
    api.put(p.state, { metadata: { name: stateConfigMapName('llama') }, data: { [STATE_KEY_STATE]: JSON.stringify(state) } } as any);
    api.put(p.route, { metadata: { name: 'llama-production' }, spec: { rules: renderHttpRouteRules(spec, target, { v1: 70, v2: 30 }) } } as any);
    kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kube-')), 'config');
    fs.writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', '- name: fake', '  cluster:', `    server: ${api.url}`,
      'users:', '- name: me', '  user:', '    token: cli-token',
      'contexts:', '- name: test', '  context:', '    cluster: fake', '    user: me', `    namespace: ${NS}`, '',
    ].join('\n'));
  });
  afterEach(async () => api.stop());

  test('status shows phase, weights, step and a progress bar', async () => {
    const c = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(c.text()).toMatch(/phase\s+progressing/);
    expect(c.text()).toMatch(/weights\s+v1 70%, v2 30%/);
    expect(c.text()).toMatch(/step\s+8\/20 \(setWeight\)/);
    expect(c.text()).toContain('[#########.....................] 30% of 100%');
  });

  test('pause records a command for the next tick and leaves the route alone', async () => {
    const c = capture();
    await main(['pause', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out);
    const [command] = JSON.parse(api.objects.get(p.state)!.data[STATE_KEY_COMMAND]);
    expect(command).toMatchObject({ kind: 'pause', seq: 1 });
    expect(api.objects.get(p.state)!.data[STATE_KEY_STATE]).toBeDefined();
    expect(weightsFromRules(spec, target, api.objects.get(p.route)!.spec.rules)).toEqual({ v1: 70, v2: 30 });
  });

  test('cancel is stored in the command queue and leaves the route to the controller (fenced ticks, no race)', async () => {
    const c = capture();
    expect(await main(['cancel', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(weightsFromRules(spec, target, api.objects.get(p.route)!.spec.rules)).toEqual({ v1: 70, v2: 30 });
    expect(JSON.parse(api.objects.get(p.state)!.data[STATE_KEY_COMMAND])).toEqual([expect.objectContaining({ kind: 'cancel', seq: 1 })]);
    expect(c.text()).toMatch(/cancel: stored as #1/);
  });

  test('a kubeconfig with an exec plugin is refused with the reason and a way out', async () => {
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace('    token: cli-token', '    exec:\n      command: aws'));
    await expect(main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined)).rejects.toThrow(/exec plugin.*use a token/);
  });
});
