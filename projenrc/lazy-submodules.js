/**
 * Make the package root load its jsii submodules lazily. `export * as k8s from './k8s'` compiles to
 * `exports.k8s = __importStar(require("./k8s"))`, which loads the AWS submodule (and cdktf with its providers,
 * hundreds of modules) for every user of the root. This rewrites each such line into a getter that requires the
 * submodule on first access, as aws-cdk-lib does for its submodules. Usage: node lazy-submodules.js lib/index.js
 */
const fs = require('fs');

const file = process.argv[2];
const src = fs.readFileSync(file, 'utf8');
let count = 0;
const out = src.replace(/^exports\.(\w+) = (?:__importStar\()?require\("(\.\/[\w-]+)"\)\)?;$/gm, (_, name, mod) => {
  count++;
  return `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, configurable: true, get: () => require(${JSON.stringify(mod)}) });`;
});
if (count === 0 && !/get: \(\) => require\(/.test(src)) {
  console.error(`lazy-submodules: no submodule export found in ${file}`);
  process.exit(1);
}
fs.writeFileSync(file, out);
console.log(`lazy-submodules: ${count} submodule(s) of ${file} load on first use`);
