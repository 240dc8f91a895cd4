// The shared-realm runner's own test (test/shared-realm-runner.test.ts) runs jest on the files here, once with that
// runner and once with jest's own, and compares what each reports.
const path = require('path');

module.exports = {
  rootDir: __dirname,
  testMatch: ['<rootDir>/*.check.ts'],
  transform: { '^.+\\.ts$': path.join(__dirname, '..', 'esbuild-jest.js') },
  runner: path.join(__dirname, '..', 'shared-realm-runner.js'),
  setupFilesAfterEnv: ['<rootDir>/after-env.ts'],
  testTimeout: 5_000,
};
