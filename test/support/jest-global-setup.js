// Jest `globalSetup` (.projenrc.ts), in jest's own process before any test file:
//
// 1. Every temporary file of the run goes into one directory, removed by `globalTeardown` (jest-global-teardown.js).
//    cdk8s' and cdktf's `Testing.app()` make an output directory under os.tmpdir() per call and never remove it
//    (`fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s.outdir.'))`), as do the twins' kubeconfigs and Prometheus' data
//    directories; a run left about 250 of them in /tmp, and kubectl filled ~/.kube/cache with one discovery cache per
//    twin port (281 MB after a day of runs). Node's os.tmpdir() reads TMPDIR, and the workers jest starts after this
//    inherit the parent's environment, so setting it here is enough; kubectl gets `--cache-dir` under it
//    (test/support/kube-twin/index.ts, `kubectlCacheDir()`).
// 2. The strict Kubernetes validator (k8s-validate-worker.mjs) starts here, once for the run, on a Unix socket in
//    that directory (`MODEL_ROLLOUT_K8S_VALIDATOR`, inherited by the workers): it warms up while jest starts its
//    workers, and no worker process pays its ~2 s of loading (k8s-validate.ts).
// 3. V8's tier-up threshold for this process and the validator's thread (./v8-tiering.js): set here, as jest's own
//    process loads no code of ours earlier.
require('./v8-tiering').tuneTiering();
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker } = require('worker_threads');

const VALIDATOR = Symbol.for('cdk-model-rollout/test/k8s-validator-server');

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-rollout-test-'));
  process.env.MODEL_ROLLOUT_TEST_TMP = dir;
  process.env.TMPDIR = dir;
  const socket = path.join(dir, 'k8s-validate.sock');
  const validator = new Worker(path.join(__dirname, 'k8s-validate-worker.mjs'), { workerData: { socket } });
  // never keeps jest alive; jest-global-teardown.js ends it
  validator.unref();
  await new Promise((resolve, reject) => {
    validator.once('message', resolve);
    validator.once('error', reject);
  });
  process[VALIDATOR] = validator;
  process.env.MODEL_ROLLOUT_K8S_VALIDATOR = socket;
};
module.exports.VALIDATOR = VALIDATOR;
