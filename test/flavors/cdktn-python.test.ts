/**
 * The cdktn flavor's Python package, built, installed and run for real: flavors/cdktn/python/build.js compiles the
 * flavor (the rewritten src/, by jsii against cdktn), makes its wheel with jsii-pacmak and installs it into a venv
 * with the jsii runtime and the Python packages of constructs 10.7, cdk8s, cdk8s-plus-33, cdktn and
 * cdktn-provider-aws from PyPI (flavors/cdktn/python/requirements.txt). flavors/cdktn/python/app.py (the aws-eks-gpu
 * stack) must synthesize the `resource` blocks of its TypeScript twin, and the same rollout plan files.
 *
 * In the sequencer's WAITING set (test/support/sequencer.js): it waits for pip, jsii and Python. Without a Python
 * toolchain it fails in CI (`CI` set) and says SKIPPED loudly elsewhere.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
// the twin: the main package's Python AWS app's TypeScript twin (cdktf), the same stack
import { synth } from '../../flavors/python/apps/aws_app';
import { REPO_ROOT } from '../support/paths';

/* eslint-disable @typescript-eslint/no-require-imports */
const { buildCdktnPython } = require('../../flavors/cdktn/python/build.js') as {
  buildCdktnPython(): Promise<{ python: string; wheel: string; wheelBytes: number; venvReused: boolean; seconds: Record<string, number> }>;
};
const { findPython, pythonEnv } = require('../../flavors/python/build.js') as {
  findPython(): { ok: boolean; reason?: string };
  pythonEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const toolchain = findPython();
const STACK = path.join('stacks', 'gpu-inference');

if (!toolchain.ok && !process.env.CI) {
  test('*** SKIPPED: the cdktn flavor\'s Python package needs python3 with venv and pip; CI runs it ***', () => {
    // eslint-disable-next-line no-console
    console.warn(`*** SKIPPED: test/flavors/cdktn-python.test.ts: ${toolchain.reason} ***`);
    expect(toolchain.ok).toBe(false);
  });
} else {
  describe('the cdktn flavor from Python', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktn-python-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('app.py writes the resource blocks and the rollout plan of its TypeScript twin', async () => {
      // GIVEN the wheel in a venv with cdktn's Python packages, and the twin's output
      const built = await buildCdktnPython();
      synth(path.join(dir, 'ts'));
      // WHEN the Python app synthesizes
      const r = spawnSync(built.python, [path.join(REPO_ROOT, 'flavors', 'cdktn', 'python', 'app.py'), path.join(dir, 'py')], {
        cwd: dir, env: pythonEnv(), encoding: 'utf8', timeout: 300_000,
      });
      if (r.status !== 0) throw new Error(`app.py exited with ${r.status}: ${r.stderr.slice(-3000)}`);
      // THEN the resource blocks are the same (cdktn prints an empty object as `{}`, cdktf as `{\n}`: the same JSON)
      const read = (side: string) => fs.readFileSync(path.join(dir, side, STACK, 'cdk.tf.json'), 'utf8');
      const py = JSON.parse(read('py'));
      const ts = JSON.parse(read('ts'));
      const count = Object.values(ts.resource as Record<string, object>).reduce((n, x) => n + Object.keys(x).length, 0);
      expect(count).toBeGreaterThan(20);
      expect(JSON.stringify(py.resource, null, 2)).toEqual(JSON.stringify(ts.resource, null, 2));
      expect(py['//'].metadata.version).toBe('0.24.0');
      expect(py.provider.kubernetes).toEqual(ts.provider.kubernetes);
      // AND the rollout plan files are byte-identical
      const plans = fs.readdirSync(path.join(dir, 'ts', STACK)).filter((f) => /\.rollout\.(md|json)$/.test(f)).sort();
      expect(plans).toEqual(['llama-production.rollout.json', 'llama-production.rollout.md']);
      for (const f of plans) expect(fs.readFileSync(path.join(dir, 'py', STACK, f), 'utf8')).toEqual(fs.readFileSync(path.join(dir, 'ts', STACK, f), 'utf8'));
      // eslint-disable-next-line no-console
      console.log(`cdktn Python flavor: ${count} resources identical; wheel ${(built.wheelBytes / 1e6).toFixed(2)} MB; seconds ${JSON.stringify(built.seconds)}`);
    }, 900_000);
  });
}
