// Jest `globalSetup` (.projenrc.ts): every temporary file of the run goes into one directory, removed by
// `globalTeardown` (jest-global-teardown.js).
//
// cdk8s' and cdktf's `Testing.app()` make an output directory under os.tmpdir() per call and never remove it
// (`fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s.outdir.'))`), as do the twins' kubeconfigs and Prometheus' data
// directories; a run left about 250 of them in /tmp, and kubectl filled ~/.kube/cache with one discovery cache per
// twin port (281 MB after a day of runs). Node's os.tmpdir() reads TMPDIR, and the workers jest starts after this
// inherit the parent's environment, so setting it here is enough; kubectl gets `--cache-dir` under it
// (test/support/kube-twin/index.ts, `kubectlCacheDir()`).
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-rollout-test-'));
  process.env.MODEL_ROLLOUT_TEST_TMP = dir;
  process.env.TMPDIR = dir;
};
