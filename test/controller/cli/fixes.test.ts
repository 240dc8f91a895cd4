/**
 * The CLI at its edges, as a new user meets it: the help, --version, shell completion, the kubectl plugin, a
 * kubeconfig that is not one, an empty KUBECONFIG, `plan` on a directory and on a terminal, commands queued before
 * the first tick, and the AWS SDK's Node notice.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kubeconfigFile, main } from '../../../src/controller/cli/main';
import { kubectlPluginArgs } from '../../../src/controller/cli/shell';
import { specConfigMapName, stateConfigMapName, STATE_KEY_SPEC, STATE_KEY_TARGET } from '../../../src/core/constants';
import { RolloutPlan } from '../../../src/rollout';
import { findTool, KubeTwin } from '../../support/kube-twin';
import { REPO_ROOT } from '../../support/paths';
import { kubernetesTarget, rolloutSpec } from '../../support/spec-fixture';

const NS = 'models';
const BUNDLE = path.join(REPO_ROOT, 'assets', 'controller', 'cli', 'main', 'index.js');

function capture() {
  let text = '';
  return { out: (s: string) => { text += s; }, text: () => text };
}
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe('help and version', () => {
  test('the top-level help gives each command one whole sentence, and names no removed option', async () => {
    const c = capture();
    expect(await main(['--help'], {}, c.out)).toBe(0);
    const lines = c.text().split('\n').filter((l) => /^ {2}[a-z]+ {2,}/.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[0])).toEqual(expect.arrayContaining(['status', 'retry', 'dashboard', 'completion', 'plan']));
    for (const l of lines) expect(l).toMatch(/[.)]$/);
    expect(c.text()).not.toContain('--state-parameter');
  });

  test('--version prints the package\'s version', async () => {
    const c = capture();
    expect(await main(['--version'], {}, c.out)).toBe(0);
    expect(c.text()).toBe(`model-rollout ${JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version}\n`);
  });
});

describe('shell completion', () => {
  const complete = (shell: string, words: string[]) => {
    const c = capture();
    return main(['completion', shell], {}, c.out).then((code) => {
      expect(code).toBe(0);
      const script = path.join(tmp('completion-'), 'model-rollout.bash');
      fs.writeFileSync(script, c.text());
      // bash's programmable completion as the shell runs it: COMP_WORDS and COMP_CWORD in, COMPREPLY out
      const run = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _model_rollout; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', run], { encoding: 'utf8' }).trim().split('\n');
    });
  };

  test('bash completes commands, then a command\'s options', async () => {
    expect(await complete('bash', ['model-rollout', 'st'])).toEqual(['status']);
    expect(await complete('bash', ['model-rollout', 'status', 'llama', '--wa'])).toEqual(['--watch']);
    expect(await complete('bash', ['model-rollout', 'promote', 'llama', '--f'])).toEqual(['--full']);
  });

  test('zsh gets the same completion through bashcompinit; another shell is a usage error', async () => {
    const c = capture();
    expect(await main(['completion', 'zsh'], {}, c.out)).toBe(0);
    expect(c.text()).toContain('bashcompinit');
    expect(c.text()).toContain('complete -F _model_rollout model-rollout');
    expect(await main(['completion', 'fish'], {}, () => undefined)).toBe(2);
  });
});

describe('the kubectl plugin', () => {
  test('implies --kube for the commands that need a target, and leaves --aws and plan alone', () => {
    expect(kubectlPluginArgs(['status', 'llama', '-n', 'models'])).toEqual(['status', 'llama', '-n', 'models', '--kube']);
    expect(kubectlPluginArgs(['status', 'llama', '--aws'])).toEqual(['status', 'llama', '--aws']);
    expect(kubectlPluginArgs(['plan', 'x.rollout.json'])).toEqual(['plan', 'x.rollout.json']);
    expect(kubectlPluginArgs(['--version'])).toEqual(['--version']);
  });

  const kubectl = findTool('kubectl');
  test('the real kubectl finds the packaged plugin on PATH and runs it', () => {
    if (!kubectl || !fs.existsSync(BUNDLE)) {
      if (process.env.CI) throw new Error('kubectl and the CLI bundle (npx projen bundle) are needed');
      console.warn('SKIPPED: kubectl or the CLI bundle missing (npx projen bundle)');
      return;
    }
    const bin = tmp('kubectl-plugin-');
    fs.symlinkSync(path.join(REPO_ROOT, 'bin', 'kubectl-model_rollout'), path.join(bin, 'kubectl-model_rollout'));
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
    expect(execFileSync(kubectl, ['plugin', 'list'], { env, encoding: 'utf8' })).toContain('kubectl-model_rollout');
    expect(execFileSync(kubectl, ['model-rollout', '--version'], { env, encoding: 'utf8' })).toMatch(/^model-rollout \d+\.\d+\.\d+/);
  });
});

describe('kubeconfig', () => {
  test('a file that is not a kubeconfig is named as such, not as a missing context "undefined"', async () => {
    const run = main(['status', 'llama', '--kube', '--kubeconfig', path.join(REPO_ROOT, 'package.json')], {}, () => undefined);
    await expect(run).rejects.toThrow(/package\.json is not a kubeconfig \(no `contexts` list\)/);
  });

  test('a kubeconfig without a current context asks for --context and lists the contexts', async () => {
    const file = path.join(tmp('kubeconfig-'), 'config');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: Config\ncontexts:\n- name: prod\n  context: { cluster: c, user: u }\nclusters: []\nusers: []\n');
    await expect(main(['status', 'llama', '--kube', '--kubeconfig', file], {}, () => undefined))
      .rejects.toThrow(/has no current-context: give --context NAME \(contexts: prod\)/);
    await expect(main(['status', 'llama', '--kube', '--kubeconfig', file, '--context', 'dev'], {}, () => undefined))
      .rejects.toThrow(/no context "dev" in .* \(contexts: prod\): give --context NAME/);
  });

  test('an empty KUBECONFIG, or empty entries in it, count as unset, as kubectl does', () => {
    const home = tmp('home-');
    expect(kubeconfigFile({}, { KUBECONFIG: '', HOME: home })).toBe(path.join(home, '.kube', 'config'));
    const real = path.join(tmp('kc-'), 'config');
    fs.writeFileSync(real, 'x');
    expect(kubeconfigFile({}, { KUBECONFIG: `${path.delimiter}/nonexistent/a${path.delimiter}${real}`, HOME: home })).toBe(real);
    expect(kubeconfigFile({ kubeconfig: '/given' }, { KUBECONFIG: real })).toBe('/given');
  });
});

describe('plan', () => {
  test('on a synth output directory, prints the one plan in it; with several, names them', async () => {
    const dir = tmp('plan-dir-');
    RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(path.join(dir, 'stacks', 'prod'));
    const c = capture();
    expect(await main(['plan', dir], {}, c.out)).toBe(0);
    expect(c.text()).toContain('Rollout plan: llama');
    RolloutPlan.compute({ name: 'qwen', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(dir);
    await expect(main(['plan', dir], {}, () => undefined)).rejects.toThrow(/holds 2 plans: give one of .*qwen\.rollout\.json, .*llama\.rollout\.json/);
  });

  test('on a terminal: the table and what stops the rollout, no mermaid; -o markdown gives the reviewed Markdown', async () => {
    const [md, json] = RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }] }).writeFiles(tmp('plan-'));
    const text = capture();
    expect(await main(['plan', json], {}, text.out)).toBe(0);
    expect(text.text()).not.toContain('mermaid');
    expect(text.text()).toContain('What stops or holds this rollout:');
    const markdown = capture();
    expect(await main(['plan', json, '-o', 'markdown'], {}, markdown.out)).toBe(0);
    expect(markdown.text()).toBe(fs.readFileSync(md, 'utf8'));
  });
});

describe('status before the first tick', () => {
  test('shows a cancel stored before the controller ran', async () => {
    const twin = await KubeTwin.start();
    try {
      twin.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      const labels = { 'model-rollout.dev/rollout': 'llama' };
      twin.seed({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: specConfigMapName('llama'), namespace: NS, labels },
        data: { [STATE_KEY_SPEC]: JSON.stringify(rolloutSpec()), [STATE_KEY_TARGET]: JSON.stringify(kubernetesTarget()) },
      });
      twin.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: stateConfigMapName('llama'), namespace: NS, labels } });
      const kubeconfig = twin.writeKubeconfig(tmp('cli-queued-'), twin.adminToken, NS);
      expect(await main(['cancel', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined)).toBe(0);
      const c = capture();
      expect(await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig], {}, c.out)).toBe(0);
      expect(c.text()).toContain('llama: not started');
      expect(c.text()).toMatch(/^queued {4}cancel #1 \(.* ago\): the controller handles them at its next tick$/m);
      const json = capture();
      await main(['status', 'llama', '--kube', '--kubeconfig', kubeconfig, '-o', 'json'], {}, json.out);
      expect(JSON.parse(json.text()).queued).toEqual([expect.objectContaining({ kind: 'cancel', seq: 1 })]);
    } finally {
      await twin.stop();
    }
  });
});

test('--aws on Node < 22 prints no AWS SDK deprecation notice', () => {
  if (!fs.existsSync(BUNDLE)) {
    if (process.env.CI) throw new Error('the CLI bundle is needed (npx projen bundle)');
    console.warn('SKIPPED: the CLI bundle is missing (npx projen bundle)');
    return;
  }
  // the shipped bin, against an endpoint that refuses at once: the command fails, and stderr says only why
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'model-rollout'), 'status', 'llama', '--aws', '--region', 'us-east-1'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: tmp('aws-home-'), AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
    timeout: 60_000,
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^model-rollout: /);
  expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
});
