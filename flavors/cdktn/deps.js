#!/usr/bin/env node
/**
 * Installs what the cdktn flavor is built against (cdktn, @cdktn/provider-aws, constructs 10.7, cdk8s) into
 * flavors/cdktn/node_modules with `npm ci` from the committed package-lock.json: apart from the repository's
 * node_modules, because cdktn pins `constructs <10.8.0`. A no-op when the installed tree matches the lock file
 * (a stamp holds the lock's hash); otherwise ~20 s and ~510 MB, logged. The flavor test calls this in its setup,
 * so a fresh clone after `npm ci` needs nothing else; CDK_MODEL_ROLLOUT_NO_INSTALL=1 makes it fail instead.
 * Usage: node flavors/cdktn/deps.js
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const HERE = __dirname;
const STAMP = path.join(HERE, 'node_modules', '.flavor-lock-hash');

function lockHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(path.join(HERE, 'package-lock.json'))).digest('hex');
}

/**
 * One installer at a time across processes: the flavor test and the cdktn Python build may start together, and two
 * `npm ci` into one folder delete each other's files. mkdir is atomic; the others wait for the stamp.
 */
const LOCK = path.join(HERE, '.install-lock');

function ensureDeps(log = console.log) {
  const want = lockHash();
  const ready = () => fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === want;
  if (ready()) return false;
  if (process.env.CDK_MODEL_ROLLOUT_NO_INSTALL) {
    throw new Error('flavors/cdktn/node_modules is missing or stale and CDK_MODEL_ROLLOUT_NO_INSTALL is set: run `npm ci --prefix flavors/cdktn`');
  }
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (ready()) return false;
    if (Date.now() > deadline) throw new Error(`flavors/cdktn: another install has held ${LOCK} for 10 minutes; remove it if none runs`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
  try {
    if (ready()) return false;
    const t0 = Date.now();
    log('flavors/cdktn: installing cdktn, @cdktn/provider-aws, constructs 10.7, cdk8s (npm ci --prefix flavors/cdktn) ...');
    execFileSync('npm', ['ci', '--prefix', HERE, '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'], { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.writeFileSync(STAMP, want);
    log(`flavors/cdktn: installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return true;
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

module.exports = { ensureDeps };
if (require.main === module) ensureDeps();
