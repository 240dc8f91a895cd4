/**
 * The README is true: it stays a first screen (under 25 KB, the rest under docs/ and linked), every relative link
 * resolves, and every command block runs: the CLI blocks against the kube twin, and the first screen, the new-project
 * recipe and the package build from a clean directory against the packed tarball (peers from the npm registry).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/controller/cli/main';
import { specConfigMapName, stateConfigMapName, STATE_KEY_SPEC, STATE_KEY_TARGET } from '../../src/core/constants';
import { KubeTwin } from '../support/kube-twin';
import { REPO_ROOT } from '../support/paths';
import { kubernetesTarget, rolloutSpec } from '../support/spec-fixture';

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The fenced blocks of a `## ` section, by language. */
function blocks(section: string, lang: string): string[] {
  const start = README.indexOf(`\n## ${section}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = README.indexOf('\n## ', start + 1);
  const text = README.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);
}
/** The commands of a shell block: one a line, comments dropped. */
const commands = (block: string) => block.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);

test('the README is a first screen: under 25 KB, the rest under docs/, every relative link resolves', () => {
  expect(Buffer.byteLength(README)).toBeLessThan(25_000);
  const files = ['README.md', ...fs.readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
      if (/^(https?|mailto):/.test(m[1])) continue;
      if (!fs.existsSync(path.join(REPO_ROOT, path.dirname(file), m[1]))) broken.push(`${file}: ${m[1]}`);
    }
  }
  expect(broken).toEqual([]);
});

test('the README opens with the repository\'s two commands: the main job and the tests, as CI runs them', () => {
  const first = /```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
  expect(README.indexOf(first)).toBeLessThan(README.indexOf('\n## '));
  expect(commands(first)).toEqual(['npm ci && npm run synth', 'npm ci && npm test']);
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  expect(pkg.scripts.synth).toMatch(/projen synth|examples/);
  const ci = fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
  expect(ci).toMatch(/^npm ci .*\nnpm test$/m);
});

describe('the README\'s CLI blocks, against the kube twin', () => {
  let twin: KubeTwin;
  let kubeconfig: string;
  beforeAll(async () => {
    twin = await KubeTwin.start();
    twin.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'models' } });
    const labels = { 'model-rollout.dev/rollout': 'llama-production' };
    const spec = rolloutSpec({ name: 'llama-production' });
    twin.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: specConfigMapName('llama-production'), namespace: 'models', labels },
      data: { [STATE_KEY_SPEC]: JSON.stringify(spec), [STATE_KEY_TARGET]: JSON.stringify(kubernetesTarget()) },
    });
    twin.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: stateConfigMapName('llama-production'), namespace: 'models', labels } });
    kubeconfig = twin.writeKubeconfig(fs.mkdtempSync(path.join(os.tmpdir(), 'readme-cli-')), twin.adminToken, 'models');
  });
  afterAll(async () => twin.stop());

  test.each([['Run a rollout'], ['Pause, cancel, roll back']])('"%s"', async (section) => {
    const lines = blocks(section, 'sh').flatMap(commands);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.startsWith('npx model-rollout ')).toBe(true);
      const argv = [...line.split(/\s+/).slice(2), '--kubeconfig', kubeconfig];
      let out = '';
      let clock = 0;
      if (argv[0] === 'dashboard') {
        // served until interrupted: interrupt it once it says where it listens
        const run = main([...argv, '--port', '0'], {}, (s) => {
          out += s;
          if (s.includes('http://127.0.0.1:')) setImmediate(() => process.emit('SIGINT'));
        });
        expect(await run).toBe(0);
        expect(out).toMatch(/^model-rollout dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(namespace models; Ctrl-C stops it\)/);
        continue;
      }
      // --watch with a fake clock: the timeout passes without waiting for it
      const code = await main(argv, {}, (s) => { out += s; }, () => clock, async (ms) => { clock += ms; });
      expect([line, code]).toEqual([line, line.includes('--watch') ? 4 : 0]);
    }
  });
});

/** A command of a README block, run by bash in `cwd` (the tarball in place of the package's name in `npm install`). */
function sh(line: string, cwd: string, tarball: string): string {
  const command = line.replace(/^npm install cdk-model-rollout /, `npm install ${tarball} `);
  return execFileSync('bash', ['-c', command], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }, timeout: 300_000 });
}

// the npm registry is reachable here and in CI (peers and the TypeScript toolchain come from it): no skip
test('from a clean directory against the packed tarball: the build, the new-project recipe and the first screen', () => {
  // the package as "Build the package" builds it, in a copy (the working tree's lib/, .jsii and API.md stay as they
  // are while other tests read them); `npm ci` is this checkout's node_modules, linked
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-pkg-'));
  for (const f of ['package.json', '.npmignore', 'README.md', 'LICENSE', 'API.md', 'bin', 'src', 'tsconfig.json', 'projenrc', '.projenrc.ts', '.projen']) {
    fs.cpSync(path.join(REPO_ROOT, f), path.join(stage, f), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(stage, 'node_modules'));
  const build = blocks('Build the package from this repository', 'sh').flatMap(commands);
  expect(build[0]).toBe('npm ci');
  for (const line of build.slice(1)) sh(line, stage, '');
  const tarball = path.join(stage, fs.readdirSync(stage).find((f) => /^cdk-model-rollout-.*\.tgz$/.test(f))!);

  // "A new project in 2 minutes", from an empty directory
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-project-'));
  const [setup, check] = blocks('A new project in 2 minutes', 'sh').map(commands);
  expect(setup[0]).toBe('mkdir llama-rollout && cd llama-rollout');
  fs.mkdirSync(path.join(root, 'llama-rollout'));
  const dir = path.join(root, 'llama-rollout');
  for (const line of setup.slice(1)) sh(line, dir, tarball);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), blocks('A new project in 2 minutes', 'json')[0]);
  fs.writeFileSync(path.join(dir, 'main.ts'), blocks('Start here', 'ts')[0]);
  // the recipe's checks, then the first screen's two commands
  let plan = '';
  for (const line of [...check, ...blocks('Start here', 'sh').slice(1).flatMap(commands)]) plan = sh(line, dir, tarball);
  expect(fs.readdirSync(path.join(dir, 'dist')).sort()).toEqual(expect.arrayContaining(['llama-production.rollout.json', 'llama-production.rollout.md']));
  expect(plan).toContain('Rollout plan: llama-production');
  expect(plan).toContain('rollout name `llama-production`');
  // the installed kubectl plugin is the same CLI
  expect(sh('./node_modules/.bin/kubectl-model_rollout --version', dir, tarball)).toMatch(/^model-rollout \d/);
}, 600_000);
