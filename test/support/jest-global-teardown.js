// Jest `globalTeardown` (.projenrc.ts): ends the shared k8s validator and removes the run's temporary directory
// (both from jest-global-setup.js).
const fs = require('fs');
const { VALIDATOR } = require('./jest-global-setup');

module.exports = async () => {
  await process[VALIDATOR]?.terminate();
  const dir = process.env.MODEL_ROLLOUT_TEST_TMP;
  if (dir && /model-rollout-test-/.test(dir)) fs.rmSync(dir, { recursive: true, force: true });
};
