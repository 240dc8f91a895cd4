// `node -r ./examples/register-ts.js examples/synth-all.ts`: run TypeScript as the main job does, transpile-only.
// Each .ts file is transpiled on require by esbuild (already a devDependency for the bundles), in a fraction of
// the CPU ts-node needs; `npm test` type-checks src, tests and examples (`tsc --noEmit -p test/tsconfig.json`).
// Stack traces point into the TypeScript (inline source maps; run node with --enable-source-maps).
const fs = require('fs');
const { transformSync } = require('esbuild');

require.extensions['.ts'] = function compile(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcefile: filename,
    sourcemap: 'inline',
    // what tsconfig.json says, for the semantics that depend on it
    tsconfigRaw: { compilerOptions: { target: 'ES2022', experimentalDecorators: true, esModuleInterop: true } },
  });
  module._compile(code, filename);
};
