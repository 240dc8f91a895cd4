#!/usr/bin/env node
/**
 * Builds the Python package of cdk-model-rollout and a virtual environment that runs it, for the Python tests
 * (test/flavors/python.test.ts) and by hand (`npx projen package:python`):
 *
 *   1. a copy of the package (package.json, tsconfig.json, .npmignore, README.md, LICENSE, src/, assets/) in
 *      flavors/python/.build/pkg/, compiled there by jsii and given its lazy submodules (as the `compile` task does),
 *      so that the build never writes the working tree's lib/ or .jsii while other tests or an editor read them;
 *   2. jsii-pacmak's Python target of that assembly: the wheel and sdist in flavors/python/.build/dist/python/;
 *   3. beside 1-2 (they do not depend on each other): a venv in flavors/python/.build/venv/ with the jsii runtime
 *      and the Python packages of constructs, cdk8s, cdk8s-plus-33 and cdktf at the versions of requirements.txt,
 *      from PyPI; then the wheel, over whatever an earlier build installed.
 *
 * Everything it downloads or caches stays under flavors/python/.build/ (gitignored): pip runs without its user cache
 * and the jsii kernel without its package cache in ~/.cache (see `pythonEnv`). The venv is reused while
 * requirements.txt is unchanged (a stamp holds its hash): a clean clone, as in CI, installs it once; the wheel is
 * built anew every time, since it is the code under test.
 *
 * Usage: node flavors/python/build.js   (prints the wheel's path and size)
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = __dirname;
const BUILD = path.join(HERE, '.build');
const PKG = path.join(BUILD, 'pkg');
const DIST = path.join(BUILD, 'dist');
const VENV = path.join(BUILD, 'venv');
const LOGS = path.join(BUILD, 'logs');
const REQUIREMENTS = path.join(HERE, 'requirements.txt');
const VENV_PYTHON = path.join(VENV, 'bin', 'python');
const BIN = path.join(ROOT, 'node_modules', '.bin');

/**
 * The environment of every Python and jsii process of the build and the tests: no pip user cache, no jsii package
 * cache (the kernel would extract every assembly into ~/.cache; without it, into a temporary directory per process,
 * ~60 ms for the largest), and no banner from the jsii kernel about this machine's Node 20 on stderr.
 */
function pythonEnv(extra = {}) {
  return {
    ...process.env,
    PATH: [BIN, process.env.PATH].join(path.delimiter),
    PIP_NO_CACHE_DIR: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    JSII_RUNTIME_PACKAGE_CACHE: 'disabled',
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0],
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: process.versions.node.split('.')[0],
    ...extra,
  };
}

/** The system Python that makes the venv: `python3` with the venv module and pip (ensurepip), or why not. */
function findPython() {
  const r = spawnSync('python3', ['-c', 'import venv, ensurepip, sys; print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return { ok: false, reason: `python3 with the venv module and ensurepip is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})` };
  }
  return { ok: true, version: r.stdout.trim() };
}

/** Runs a command with its output in LOGS/<name>.log; rejects with the log's tail when it fails. */
function run(name, command, args, options = {}) {
  fs.mkdirSync(LOGS, { recursive: true });
  const logFile = path.join(LOGS, `${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? pythonEnv(), stdio: ['ignore', log, log] });
    child.on('error', reject);
    child.on('close', (code) => {
      fs.closeSync(log);
      if (code === 0) return resolve((Date.now() - started) / 1000);
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => !/^\s*(b')?!!/.test(l)).slice(-30).join('\n');
      reject(new Error(`${name}: \`${command} ${args.join(' ')}\` exited with ${code} (log: ${path.relative(ROOT, logFile)})\n${tail}`));
    });
  });
}

/** 1-2: the assembly in a copy of the package, then the wheel. */
async function buildWheel() {
  if (!fs.existsSync(path.join(ROOT, 'assets', 'controller'))) {
    // the constructs read the controllers' bundles at synthesis: `npm test` builds them before jest starts
    await run('bundle', 'npx', ['projen', 'bundle']);
  }
  fs.rmSync(PKG, { recursive: true, force: true });
  fs.mkdirSync(PKG, { recursive: true });
  for (const f of ['package.json', 'tsconfig.json', '.npmignore', 'README.md', 'LICENSE']) fs.copyFileSync(path.join(ROOT, f), path.join(PKG, f));
  for (const d of ['src', 'assets']) fs.cpSync(path.join(ROOT, d), path.join(PKG, d), { recursive: true });
  // the copy resolves its dependencies from the repository's node_modules, two folders up (Node's lookup)
  const jsii = await run('jsii', path.join(BIN, 'jsii'), ['--silence-warnings=reserved-word'], { cwd: PKG });
  await run('lazy-submodules', process.execPath, [path.join(ROOT, 'projenrc', 'lazy-submodules.js'), 'lib/index.js'], { cwd: PKG });
  fs.rmSync(DIST, { recursive: true, force: true });
  const pacmak = await run('pacmak', path.join(BIN, 'jsii-pacmak'), ['--targets', 'python', '--outdir', DIST], { cwd: PKG });
  const wheel = fs.readdirSync(path.join(DIST, 'python')).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`jsii-pacmak made no wheel in ${path.relative(ROOT, DIST)}/python`);
  return { wheel: path.join(DIST, 'python', wheel), seconds: { jsii, pacmak } };
}

/**
 * 3: a venv with the third-party packages of `requirements`, reused while that file (and the system Python) is the
 * same: a stamp in the venv holds their hash. `name` prefixes the logs.
 */
async function buildVenv(venv = VENV, requirements = REQUIREMENTS, name = '') {
  const python = path.join(venv, 'bin', 'python');
  const want = crypto.createHash('sha256').update(fs.readFileSync(requirements)).update(findPython().version ?? '').digest('hex');
  const stamp = path.join(venv, '.requirements-hash');
  if (fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return { reused: true, seconds: 0 };
  fs.rmSync(venv, { recursive: true, force: true });
  const started = Date.now();
  await run(`${name}venv`, 'python3', ['-m', 'venv', venv]);
  await run(`${name}pip-requirements`, python, ['-m', 'pip', 'install', '--quiet', '-r', requirements]);
  fs.writeFileSync(stamp, want);
  return { reused: false, seconds: (Date.now() - started) / 1000 };
}

/** Builds the wheel and the venv; resolves to where they are and how long each part took. */
async function buildPython() {
  const python = findPython();
  if (!python.ok) throw new Error(python.reason);
  const started = Date.now();
  const [built, venv] = await Promise.all([buildWheel(), buildVenv()]);
  const install = await run('pip-wheel', VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--no-deps', '--force-reinstall', built.wheel]);
  return {
    python: VENV_PYTHON,
    wheel: built.wheel,
    wheelBytes: fs.statSync(built.wheel).size,
    venvReused: venv.reused,
    seconds: { ...built.seconds, venv: venv.seconds, install, total: (Date.now() - started) / 1000 },
  };
}

module.exports = { buildPython, buildVenv, findPython, pythonEnv, run, VENV_PYTHON, BUILD };

if (require.main === module) {
  buildPython().then((r) => {
    console.log(`${path.relative(ROOT, r.wheel)}: ${(r.wheelBytes / 1e6).toFixed(2)} MB`);
    console.log(`venv: ${path.relative(ROOT, VENV)}${r.venvReused ? ' (reused)' : ''}; seconds: ${JSON.stringify(r.seconds)}`);
  }, (e) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
