/**
 * The Python package, built, installed and run for real: flavors/python/build.js compiles the assembly, makes the
 * wheel with jsii-pacmak and installs it into a venv with the jsii runtime and the Python packages of constructs,
 * cdk8s, cdk8s-plus-33 and cdktf from PyPI (flavors/python/requirements.txt). Then one pytest process runs the
 * pytest suite (flavors/python/tests/) and the three apps of flavors/python/apps/, one per entry point, and each
 * app's files must be byte for byte those of its TypeScript twin.
 *
 * Where it runs: this file is in the sequencer's WAITING set (test/support/sequencer.js), so the shared-realm runner
 * gives it a lane of its own beside the computing lanes: it spends its time waiting for pip, jsii-pacmak and
 * Python, and starts with the run instead of after the other files. It builds the package once per run, here and
 * nowhere else (no other test needs it), into flavors/python/.build/; `npx jest test/flavors` runs it alone.
 *
 * Without a Python toolchain (python3 with venv and ensurepip) it fails in CI (`CI` set) and says SKIPPED loudly
 * elsewhere.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { synth as synthAws } from '../../flavors/python/apps/aws_app';
import { synth as synthK8s } from '../../flavors/python/apps/k8s_app';
import { synth as synthPlan } from '../../flavors/python/apps/plan_app';
import { RolloutPlan, Steps } from '../../src';
import { Model } from '../../src/k8s';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require('../../flavors/python/build.js') as {
  buildPython(): Promise<{ python: string; wheel: string; wheelBytes: number; venvReused: boolean; seconds: Record<string, number> }>;
  findPython(): { ok: boolean; reason?: string; version?: string };
  pythonEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
};

const ROOT = path.join(__dirname, '..', '..');
const PY = path.join(ROOT, 'flavors', 'python');
const APPS: Record<string, (outdir: string) => void> = { plan_app: synthPlan, k8s_app: synthK8s, aws_app: synthAws };
const toolchain = build.findPython();
const inCi = !!process.env.CI;

/** Every file under `dir`, by its path relative to it, with its bytes. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(path.relative(dir, full).split(path.sep).join('/'), fs.readFileSync(full));
    }
  };
  walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const ERRORS: Record<string, string> = JSON.parse(fs.readFileSync(path.join(PY, 'tests', 'errors.json'), 'utf8'));

describe('the errors the Python suite expects (flavors/python/tests/errors.json)', () => {
  // the Python side asserts these texts on its exceptions; here, that they are the TypeScript side's own messages
  const thrown = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('no error thrown');
  };
  const chart = () => new Chart(new App(), 'Chart', { namespace: 'models', disableResourceNameHashes: true });
  test.each([
    ['bad_model_name', () => new Model(chart(), 'M', { name: 'Bad_Name', image: 'x' })],
    ['unknown_version', () => new Model(chart(), 'Llama', { name: 'llama', image: 'x' }).addEnvironment('production', { version: 'v9' })],
    ['canary_is_stable', () => RolloutPlan.compute({ name: 'p', stableVersion: 'v1', canaries: [{ version: 'v1' }], steps: Steps.equal(), stableReplicas: 1 })],
  ])('%s is the TypeScript message', (key, f) => {
    expect(thrown(f)).toBe(ERRORS[key]);
  });
});

describe('docs/other-languages.md (linked from the README)', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'other-languages.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n### Python\n'), readme.indexOf('\n### Java and Go\n'));

  test('its Python example is the app CI runs, flavors/python/apps/k8s_app.py', () => {
    const block = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(fs.readFileSync(path.join(PY, 'apps', 'k8s_app.py'), 'utf8'));
  });

  test('its pip install names the versions CI installs (flavors/python/requirements.txt)', () => {
    const pinned = (text: string) => [...text.matchAll(/([a-z0-9-]+)==([\d.]+)/g)].map((m) => `${m[1]}==${m[2]}`).filter((p) => !p.startsWith('pytest=='));
    const install = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(pinned(install).sort()).toEqual(pinned(fs.readFileSync(path.join(PY, 'requirements.txt'), 'utf8')).filter((p) => !p.startsWith('publication==')).sort());
  });
});

describe('the README\'s "Other languages" section', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Other languages\n'), readme.indexOf('\n## More\n'));

  test('its install names the versions CI installs, and the app it runs is the one CI runs', () => {
    const pinned = (text: string) => [...text.matchAll(/([a-z0-9-]+)==([\d.]+)/g)].map((m) => `${m[1]}==${m[2]}`).filter((p) => !p.startsWith('pytest=='));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(pinned(block).sort()).toEqual(pinned(fs.readFileSync(path.join(PY, 'requirements.txt'), 'utf8')).filter((p) => !p.startsWith('publication==')).sort());
    const app = /python (\S+\.py)\s+# (\S+\.py)/.exec(block);
    expect(app?.[2]).toBe('flavors/python/apps/k8s_app.py');
    expect(fs.existsSync(path.join(ROOT, app![2]))).toBe(true);
    expect(path.basename(app![2])).toBe(app![1]);
  });
});

if (!toolchain.ok && !inCi) {
  describe('the Python package', () => {
    test('is SKIPPED: no Python toolchain on this machine', () => {
      console.warn(`\n\n*** SKIPPED: the Python package was not built or run: ${toolchain.reason}. CI (CI=true) fails here instead. ***\n\n`);
      expect(toolchain.ok).toBe(false);
    });
  });
} else {
  describe('the Python package', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'python-flavor-'));
    const tsOut = path.join(work, 'ts');
    const pyOut = path.join(work, 'py');
    let built: Awaited<ReturnType<typeof build.buildPython>> | undefined;
    let pytest: { status: number | null; output: string } | undefined;
    let failure: Error | undefined;

    beforeAll(async () => {
      if (!toolchain.ok) {
        failure = new Error(`CI needs python3 with venv and ensurepip (.ci/run installs it): ${toolchain.reason}`);
        return;
      }
      // the twins synthesize here while pip and jsii-pacmak run in child processes
      const building = build.buildPython();
      for (const [name, synth] of Object.entries(APPS)) synth(path.join(tsOut, name));
      try {
        built = await building;
      } catch (e) {
        failure = e as Error;
        return;
      }
      const started = Date.now();
      const r = spawnSync(built.python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', path.join(PY, 'tests')], {
        cwd: ROOT,
        env: build.pythonEnv({ MODEL_ROLLOUT_PY_OUT: pyOut }),
        encoding: 'utf8',
        timeout: 10 * 60_000,
      });
      pytest = { status: r.status, output: `${r.stdout}${r.stderr}${r.error ? r.error.message : ''}` };
      console.log(`python flavor: wheel ${path.basename(built.wheel)} ${(built.wheelBytes / 1e6).toFixed(2)} MB; `
        + `build ${JSON.stringify(built.seconds)} s${built.venvReused ? ' (venv reused)' : ''}; pytest ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }, 20 * 60_000);
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    test('builds, installs and passes its pytest suite', () => {
      if (failure) throw failure;
      expect(pytest?.output).toMatch(/^\d+ passed in /m);
      expect(pytest?.output).not.toMatch(/\d+ (failed|error)/);
      if (pytest?.status !== 0) throw new Error(`pytest exited with ${pytest?.status}:\n${pytest?.output}`);
    });

    test.each(Object.keys(APPS))('%s writes the same files as its TypeScript twin, byte for byte', (app) => {
      if (failure) throw failure;
      const ts = files(path.join(tsOut, app));
      const py = fs.existsSync(path.join(pyOut, app)) ? files(path.join(pyOut, app)) : new Map<string, Buffer>();
      expect([...py.keys()]).toEqual([...ts.keys()]);
      for (const [name, bytes] of ts) {
        // as text first, for a readable diff; then the bytes (line endings, trailing newline)
        expect(`${name}:\n${py.get(name)!.toString('utf8')}`).toBe(`${name}:\n${bytes.toString('utf8')}`);
        expect(py.get(name)!.equals(bytes)).toBe(true);
      }
    });
  });
}
