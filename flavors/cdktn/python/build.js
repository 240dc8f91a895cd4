#!/usr/bin/env node
/**
 * Builds the Python package of the cdktn flavor (`cdk-model-rollout-cdktn`, module `cdk_model_rollout_cdktn`) and a
 * virtual environment that runs it, for test/flavors/cdktn-python.test.ts and by hand:
 *
 *   1. the flavor's package build (`node flavors/cdktn/build.js --package`: the rewritten copy of src/ compiled by
 *      jsii against cdktn in flavors/cdktn/.build-package/), then jsii-pacmak's Python target of it: the wheel in
 *      flavors/cdktn/.build-python/dist/python/;
 *   2. beside 1: a venv in flavors/cdktn/.build-python/venv/ with the jsii runtime and the Python packages of
 *      constructs (10.7: cdktn's pin), cdk8s, cdk8s-plus-33, cdktn and cdktn-provider-aws from PyPI at the versions of
 *      requirements.txt, reused while that file is unchanged; then the wheel.
 *
 * Everything it downloads stays under flavors/cdktn/.build-python/ (gitignored), as for the main package's Python
 * build (flavors/python/build.js, whose process runner and environment this shares).
 *
 * Usage: node flavors/cdktn/python/build.js   (prints the wheel's path and size)
 */
const fs = require('fs');
const path = require('path');
const { buildVenv, findPython, run } = require('../../python/build');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HERE = __dirname;
const BUILD = path.join(HERE, '..', '.build-python');
const DIST = path.join(BUILD, 'dist');
const VENV = path.join(BUILD, 'venv');
const VENV_PYTHON = path.join(VENV, 'bin', 'python');
const REQUIREMENTS = path.join(HERE, 'requirements.txt');
const PACKAGE_BUILD = path.join(HERE, '..', '.build-package');

async function buildWheel() {
  // the flavor's own node_modules (cdktn, @cdktn/provider-aws, constructs 10.7), as `npx projen package:cdktn` does
  await run('cdktn-deps', process.execPath, [path.join(HERE, '..', 'deps.js')]);
  const pkg = await run('cdktn-package', process.execPath, [path.join(HERE, '..', 'build.js'), '--package']);
  fs.rmSync(DIST, { recursive: true, force: true });
  const pacmak = await run('cdktn-pacmak', path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'), ['--targets', 'python', '--outdir', DIST], { cwd: PACKAGE_BUILD });
  const wheel = fs.readdirSync(path.join(DIST, 'python')).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`jsii-pacmak made no wheel in ${path.relative(ROOT, DIST)}/python`);
  return { wheel: path.join(DIST, 'python', wheel), seconds: { package: pkg, pacmak } };
}

/** Builds the wheel and the venv; resolves to where they are and how long each part took. */
async function buildCdktnPython() {
  const python = findPython();
  if (!python.ok) throw new Error(python.reason);
  const started = Date.now();
  const [built, venv] = await Promise.all([buildWheel(), buildVenv(VENV, REQUIREMENTS, 'cdktn-')]);
  const install = await run('cdktn-pip-wheel', VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--no-deps', '--force-reinstall', built.wheel]);
  return {
    python: VENV_PYTHON,
    wheel: built.wheel,
    wheelBytes: fs.statSync(built.wheel).size,
    venvReused: venv.reused,
    seconds: { ...built.seconds, venv: venv.seconds, install, total: (Date.now() - started) / 1000 },
  };
}

module.exports = { buildCdktnPython, VENV_PYTHON };

if (require.main === module) {
  buildCdktnPython().then((r) => {
    console.log(`${path.relative(ROOT, r.wheel)}: ${(r.wheelBytes / 1e6).toFixed(2)} MB`);
    console.log(`venv: ${path.relative(ROOT, VENV)}${r.venvReused ? ' (reused)' : ''}; seconds: ${JSON.stringify(r.seconds)}`);
  }, (e) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
