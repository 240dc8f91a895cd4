// Jest transformer: TypeScript to CommonJS with esbuild, transpile-only (no TypeScript compiler in every jest worker).
// The repository's TypeScript runner for scripts (./register-ts.js) uses the same OPTIONS, so a script runs the code
// the tests ran. Type errors are `npm test`'s static checks (./static-checks.js: tsc's diagnostics and eslint), which
// run beside jest. Source maps keep stack traces on the TypeScript.
const crypto = require('crypto');
const { transformSync, version } = require('esbuild');

const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'external',
  // strict mode, as tsc emits for every module (the library's lib/ and the bundles run strict too): a write to a
  // frozen object (the kube twin's stored objects) throws instead of being silently dropped
  banner: '"use strict";',
  // what tsconfig.json says, for the semantics that depend on it
  tsconfigRaw: { compilerOptions: { target: 'ES2022', experimentalDecorators: true, esModuleInterop: true } },
};
const SALT = JSON.stringify({ version, OPTIONS });

module.exports = {
  OPTIONS,
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(SALT).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
  process(source, filename) {
    const { code, map } = transformSync(source, { ...OPTIONS, sourcefile: filename });
    return { code, map };
  },
};
