// Jest `globalTeardown` (.projenrc.ts): removes the run's temporary directory (jest-global-setup.js).
const fs = require('fs');

module.exports = async () => {
  const dir = process.env.MODEL_ROLLOUT_TEST_TMP;
  if (dir && /model-rollout-test-/.test(dir)) fs.rmSync(dir, { recursive: true, force: true });
};
