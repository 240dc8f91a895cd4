/**
 * The `model-rollout` CLI: `plan` on a synthesized plan file, and the Kubernetes commands against the kube twin
 * (test/support/kube-twin) on loopback, through a kubeconfig written for it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main, parseArgs } from '../../../src/controller/cli/main';
import { weightsFromRules } from '../../../src/controller/k8s/adapter';
import { paths } from '../../../src/controller/k8s/kube-client';
import { specConfigMapName, stateConfigMapName, STATE_KEY_COMMAND, STATE_KEY_SPEC, STATE_KEY_STATE, STATE_KEY_TARGET } from '../../../src/core/constants';
import { KubernetesTarget } from '../../../src/core/contract/target';
import { renderHttpRouteRules } from '../../../src/core/routes/gateway-api';
import { RolloutSpec } from '../../../src/core/spec';
import { RolloutPlan } from '../../../src/rollout';
import { KubeTwin } from '../../support/kube-twin';
import { REPO_ROOT } from '../../support/paths';
import { kubernetesTarget, rolloutSpec } from '../../support/spec-fixture';

const NS = 'models';
const spec: RolloutSpec = rolloutSpec();
const target: KubernetesTarget = kubernetesTarget({ httpRoute: 'llama-production' });

function capture() {
  let text = '';
  return { out: (s: string) => { text += s; }, text: () => text };
}

describe('model-rollout plan', () => {
  test('prints the plan table; -o markdown adds the mermaid chart of a synthesized rollout', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
    const [, json] = RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(dir);
    const c = capture();
    expect(await main(['plan', json], {}, c.out)).toBe(0);
    expect(c.text()).toContain('Rollout plan: llama');
    expect(c.text()).toMatch(/^15:00\s+-\s+0%\s+100%/m);
    expect(c.text()).toMatch(/shadow: mirror 100% of requests to the canary/);
    const md = capture();
    expect(await main(['plan', json, '-o', 'markdown'], {}, md.out)).toBe(0);
    expect(md.text()).toContain('xychart-beta');
  });

  test('the packaged bin runs the bundled CLI', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
    const [, json] = RolloutPlan.compute({ name: 'bin', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(dir);
    const out = execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'model-rollout'), 'plan', json], { encoding: 'utf8' });
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
    await expect(main(['plan', path.join(REPO_ROOT, 'package.json')], {}, () => undefined)).rejects.toThrow(/is not a rollout plan \(kind RolloutPlan\)/);
  });
});

describe('model-rollout against a cluster (kube twin)', () => {
  let api: KubeTwin;
  let kubeconfig: string;
  const p = {
    spec: paths.configMap(NS, specConfigMapName('llama')),
    state: paths.configMap(NS, stateConfigMapName('llama')),
    route: paths.httpRoute(NS, 'llama-production'),
  };

  beforeEach(async () => {
    api = await KubeTwin.start();
    api.seedAt(p.spec, { metadata: { name: specConfigMapName('llama') }, data: { [STATE_KEY_SPEC]: JSON.stringify(spec), [STATE_KEY_TARGET]: JSON.stringify(target) } } as any);
    const state = { specHash: 'x', phase: 'progressing', stepIndex: 7, stepStartedAt: Date.now(), weights: { v1: 70, v2: 30 }, floors: { v2: 2 }, checkFailures: 0, updatedAt: Date.now() };
    api.seedAt(p.state, { metadata: { name: stateConfigMapName('llama') }, data: { [STATE_KEY_STATE]: JSON.stringify(state) } } as any);
    api.seedAt(p.route, { metadata: { name: 'llama-production' }, spec: { rules: renderHttpRouteRules(spec, target, { v1: 70, v2: 30 }) } } as any);
    // the token as a plain bearer token (the twin's own kubeconfigs put it in the server URL, for kubectl)
    kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kube-')), 'config');
    fs.writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', '- name: twin', '  cluster:', `    server: ${api.url}`,
      'users:', '- name: me', '  user:', `    token: ${api.adminToken}`,
      'contexts:', '- name: test', '  context:', '    cluster: twin', '    user: me', `    namespace: ${NS}`, '',
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
    const [command] = JSON.parse(api.at(p.state).data[STATE_KEY_COMMAND]);
    expect(command).toMatchObject({ kind: 'pause', seq: 1 });
    expect(api.at(p.state).data[STATE_KEY_STATE]).toBeDefined();
    expect(weightsFromRules(spec, target, api.at(p.route).spec.rules)).toEqual({ v1: 70, v2: 30 });
  });

  test('cancel is stored in the command queue and leaves the route to the controller (fenced ticks, no race)', async () => {
    const c = capture();
    expect(await main(['cancel', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(weightsFromRules(spec, target, api.at(p.route).spec.rules)).toEqual({ v1: 70, v2: 30 });
    expect(JSON.parse(api.at(p.state).data[STATE_KEY_COMMAND])).toEqual([expect.objectContaining({ kind: 'cancel', seq: 1 })]);
    expect(c.text()).toMatch(/cancel: stored as #1/);
  });

  test('a kubeconfig with an exec plugin (aws eks update-kubeconfig) works: the plugin runs and its ExecCredential token is used', async () => {
    const plugin = path.join(path.dirname(kubeconfig), 'get-token.js');
    fs.writeFileSync(plugin, 'process.stdout.write(JSON.stringify({ apiVersion: \'client.authentication.k8s.io/v1beta1\', kind: \'ExecCredential\', status: { token: process.env.TOKEN } }))');
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace(`    token: ${api.adminToken}`,
      `    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ${process.execPath}\n      args: [${JSON.stringify(plugin)}]\n      env:\n      - name: TOKEN\n        value: ${api.adminToken}`));
    const c = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(c.text()).toMatch(/phase\s+progressing/);
  });

  test('a failing credential plugin, a missing kubeconfig and a rollout that is not deployed get messages with the fix', async () => {
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace(`    token: ${api.adminToken}`, '    exec:\n      command: /nonexistent/aws'));
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
    const aborted = JSON.parse(api.at(p.state).data[STATE_KEY_STATE]);
    api.modifyAt(p.state, (o) => { o.data[STATE_KEY_STATE] = JSON.stringify({ ...aborted, phase: 'aborted', reason: 'check failed' }); });
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig, '--watch'], {}, () => undefined)).toBe(3);
  });

  test('status shows replicas ready/desired per version, the gate\'s progress and the time to the next change', async () => {
    // GIVEN the Deployments of both versions, and a state in an analysis step with two measurements taken
    api.seedAt(paths.deployment(NS, 'llama-v1'), { metadata: { name: 'llama-v1' }, spec: { replicas: 4 }, status: { readyReplicas: 4 } } as any);
    api.seedAt(paths.deployment(NS, 'llama-v2'), { metadata: { name: 'llama-v2' }, spec: { replicas: 2 }, status: { readyReplicas: 1 } } as any);
    const gateSpec = { ...spec, steps: [{ kind: 'setWeight' as const, weight: 30 }, { kind: 'analysis' as const, gate: { name: 'quality', metrics: [], intervalSeconds: 300, count: 3, failureLimit: 1, inconclusiveLimit: 1 } }] };
    api.modifyAt(p.spec, (o) => { o.data[STATE_KEY_SPEC] = JSON.stringify(gateSpec); });
    const now = 1_700_000_000_000;
    const state = { specHash: 'x', phase: 'progressing', stepIndex: 1, stepStartedAt: now - 600_000, weights: { v1: 70, v2: 30 }, floors: {}, checkFailures: 0, gate: { measurements: 2, failures: 1, inconclusive: 0, lastAt: now - 60_000 }, updatedAt: now - 5_000 };
    api.modifyAt(p.state, (o) => { o.data[STATE_KEY_STATE] = JSON.stringify(state); });
    // WHEN status runs (table, then JSON)
    const c = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out, () => now)).toBe(0);
    const j = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig, '-o', 'json'], {}, j.out, () => now)).toBe(0);
    // THEN
    expect(c.text()).toMatch(/replicas\s+v1 4\/4 ready, v2 1\/2 ready/);
    expect(c.text()).toMatch(/gate\s+"quality" 2\/3 measurements, 1 failed \(limit 1\), 0 inconclusive/);
    expect(c.text()).toMatch(/next\s+in 4m 0s \(2023-11-14T22:17:20.000Z\): measurement 3\/3 of "quality"/);
    expect(JSON.parse(j.text())).toMatchObject({ replicas: { v1: { ready: 4, desired: 4 }, v2: { ready: 1, desired: 2 } }, gate: { measurements: 2 }, next: { what: 'measurement 3/3 of "quality"' } });
  });

  test('status still shows the rest when the CLI user may not read a Deployment', async () => {
    const c = capture();
    expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(c.text()).toMatch(/replicas\s+v1 unknown \(HTTP 404\), v2 unknown \(HTTP 404\)/);
    expect(c.text()).toMatch(/phase\s+progressing/);
  });

  test('history prints the recorded decisions as a table and as JSON', async () => {
    // GIVEN a state with three history entries
    const raw = JSON.parse(api.at(p.state).data[STATE_KEY_STATE]);
    const history = [
      { at: Date.UTC(2026, 0, 1, 10, 0), phase: 'progressing', step: 0, weights: { v1: 100, v2: 0 }, reason: 'rollout started', events: ['RolloutStarted'] },
      { at: Date.UTC(2026, 0, 1, 10, 1), phase: 'progressing', step: 1, weights: { v1: 95, v2: 5 }, reason: 'step 1/20', events: ['StepAdvanced'] },
      { at: Date.UTC(2026, 0, 1, 10, 9), phase: 'aborted', step: 3, weights: { v1: 100, v2: 0 }, reason: 'abort: continuous checks failed 3 times', events: ['GateFailed', 'RolloutAborted'] },
    ];
    api.modifyAt(p.state, (o) => { o.data[STATE_KEY_STATE] = JSON.stringify({ ...raw, history }); });
    // WHEN
    const c = capture();
    expect(await main(['history', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    const j = capture();
    expect(await main(['history', 'llama', '--kube', '--kubeconfig', kubeconfig, '-o', 'json'], {}, j.out)).toBe(0);
    // THEN one line per decision, oldest first
    const lines = c.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+PHASE\s+STEP\s+WEIGHTS\s+WHY$/);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^2026-01-01T10:09:00Z\s+aborted\s+4\/20\s+v1=100,v2=0\s+\[GateFailed,RolloutAborted\] abort: continuous checks failed 3 times$/);
    expect(JSON.parse(j.text()).map((e: any) => [e.at, e.phase])).toEqual([['2026-01-01T10:00:00.000Z', 'progressing'], ['2026-01-01T10:01:00.000Z', 'progressing'], ['2026-01-01T10:09:00.000Z', 'aborted']]);
  });

  test('retry is stored for the controller, with a note when the rollout is not aborted', async () => {
    const c = capture();
    expect(await main(['retry', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
    expect(JSON.parse(api.at(p.state).data[STATE_KEY_COMMAND])).toEqual([expect.objectContaining({ kind: 'retry', seq: 1 })]);
    expect(c.text()).toContain('note: llama is progressing, not aborted: the controller will ignore this retry');
    expect(c.text()).toMatch(/retry: stored as #1/);
    const h = capture();
    expect(await main(['retry', '--help'], {}, h.out)).toBe(0);
    expect(h.text()).toContain('Restart an aborted rollout from its first step');
  });

  test('promote releases a pause step; promote --full skips the rest; abort is cancel', async () => {
    await main(['promote', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
    await main(['promote', 'llama', '--kube', '--kubeconfig', kubeconfig, '--full'], {}, () => undefined);
    await main(['abort', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
    expect(JSON.parse(api.at(p.state).data[STATE_KEY_COMMAND]).map((x: any) => x.kind)).toEqual(['resume', 'promote', 'cancel']);
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
