// The repository's one way to run TypeScript outside jest (examples, `npm run synth`, bench, docs, flavors):
//
//   node --enable-source-maps -r ./test/support/register-ts.js <file.ts> [args...]
//
// Each .ts file is transpiled on require by esbuild (a devDependency already, for the bundles), transpile-only, with
// jest's transform options (./esbuild-jest.js), so a script runs the code the tests ran. Type errors are `npm test`'s
// static checks (test/tsconfig.json covers src, tests, examples and bench). Inline source maps keep stack traces on
// the TypeScript under --enable-source-maps.
'use strict';
const fs = require('fs');
const { transformSync } = require('esbuild');
const { OPTIONS } = require('./esbuild-jest');

require.extensions['.ts'] = function compile(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...OPTIONS, sourcefile: filename, sourcemap: 'inline' });
  module._compile(code, filename);
};
