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
import { KubeTwin } from './support/kube-twin';
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

  test('parsing is strict: -n and -o are options, a misspelled flag or a stray argument is an error (exit 2)', async () => {
    expect(parseArgs(['status', 'llama', '--kube', '-n', 'models', '-o', 'json'])).toEqual({ verb: 'status', subject: 'llama', flags: { kube: true, namespace: 'models', output: 'json' } });
    for (const argv of [['status', 'llama', '--kube', '--namspace', 'models'], ['status', 'llama', 'extra', '--kube'], ['status', 'llama', '--kube', '-o', 'yaml']]) {
      const c = capture();
      expect(await main(argv, {}, c.out)).toBe(2);
      expect(c.text()).toMatch(/^model-rollout: (Unknown option '--namspace'|unexpected argument: extra|-o\/--output is table or json, not "yaml")/);
    }
  });

  test('each command says what it does; promote and promote --full are told apart', async () => {
    const c = capture();
    expect(await main(['promote', '--help'], {}, c.out)).toBe(0);
    expect(c.text()).toContain('usage: model-rollout promote <rollout> (--kube|--aws) [--full]');
    expect(c.text()).toContain('Without --full: release the current pause step');
    expect(c.text()).toContain('With --full: skip every remaining step and gate');
  });

  test('plan on a file that is not a plan says so', async () => {
    await expect(main(['plan', path.join(__dirname, '..', 'package.json')], {}, () => undefined)).rejects.toThrow(/is not a rollout plan \(kind RolloutPlan\)/);
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

  test('a kubeconfig with an exec plugin (aws eks update-kubeconfig) works: the plugin runs and its ExecCredential token is used', async () => {
    const plugin = path.join(path.dirname(kubeconfig), 'get-token.js');
    fs.writeFileSync(plugin, 'process.stdout.write(JSON.stringify({ apiVersion: \'client.authentication.k8s.io/v1beta1\', kind: \'ExecCredential\', status: { token: process.env.TOKEN } }))');
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace('    token: cli-token',
      `    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ${process.execPath}\n      args: [${JSON.stringify(plugin)}]\n      env:\n      - name: TOKEN\n        value: cli-token`));
    const c = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(c.text()).toMatch(/phase\s+progressing/);
  });

  test('a failing credential plugin, a missing kubeconfig and a rollout that is not deployed get messages with the fix', async () => {
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace('    token: cli-token', '    exec:\n      command: /nonexistent/aws'));
    await expect(main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined)).rejects.toThrow(/the credential plugin `\/nonexistent\/aws` failed .*aws sts get-caller-identity/);
    await expect(main(['status', 'llama', '--kube', '--kubeconfig', '/nonexistent/config'], {}, () => undefined)).rejects.toThrow(/no kubeconfig at \/nonexistent\/config: give --kubeconfig PATH, set KUBECONFIG/);
  });

  test('a rollout that is not deployed is named, with where it was looked for', async () => {
    await expect(main(['status', 'mistral', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined))
      .rejects.toThrow(/rollout "mistral" not found: its spec ConfigMap mistral-rollout-spec is not in the namespace/);
  });

  test('-o json, and exit codes scripts can use: 3 when aborted, 4 when --watch times out', async () => {
    const c = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig, '-o', 'json'], {}, c.out)).toBe(0);
    expect(JSON.parse(c.text())).toMatchObject({ rollout: 'llama', phase: 'progressing', weights: { v1: 70, v2: 30 } });
    // --watch redraws until the rollout is over or the timeout passes (a fake clock: each sleep advances it)
    let clock = 0;
    const watched = capture();
    const code = await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig, '--watch', '--timeout', '30s', '--interval', '10s'], {}, watched.out,
      () => clock, async (ms) => { clock += ms; });
    expect(code).toBe(4);
    expect(watched.text().match(/phase\s+progressing/g)).toHaveLength(4);
    const aborted = JSON.parse(api.objects.get(p.state)!.data[STATE_KEY_STATE]);
    api.objects.get(p.state)!.data[STATE_KEY_STATE] = JSON.stringify({ ...aborted, phase: 'aborted', reason: 'check failed' });
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig, '--watch'], {}, () => undefined)).toBe(3);
  });

  test('promote releases a pause step; promote --full skips the rest; abort is cancel', async () => {
    await main(['promote', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
    await main(['promote', 'llama', '--kube', '--kubeconfig', kubeconfig, '--full'], {}, () => undefined);
    await main(['abort', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
    expect(JSON.parse(api.objects.get(p.state)!.data[STATE_KEY_COMMAND]).map((x: any) => x.kind)).toEqual(['resume', 'promote', 'cancel']);
  });
});

describe('model-rollout list against the kube twin', () => {
  test('lists the rollouts of a namespace with their phase and weights', async () => {
    const twin = await KubeTwin.start();
    try {
      twin.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      for (const name of ['llama', 'qwen']) {
        const labels = { 'model-rollout.dev/rollout': name };
        const data = { [STATE_KEY_SPEC]: JSON.stringify({ ...spec, name }), [STATE_KEY_TARGET]: JSON.stringify(target) };
        twin.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: specConfigMapName(name), namespace: NS, labels }, data });
        twin.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: stateConfigMapName(name), namespace: NS, labels } });
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-list-'));
      const c = capture();
      expect(await main(['list', '--kube', '--kubeconfig', twin.writeKubeconfig(dir, twin.adminToken, NS), '-o', 'json'], {}, c.out)).toBe(0);
      expect(JSON.parse(c.text()).map((r: any) => [r.rollout, r.phase])).toEqual([['llama', 'not started'], ['qwen', 'not started']]);
    } finally {
      await twin.stop();
    }
  });
});
