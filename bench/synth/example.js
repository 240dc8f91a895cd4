// One example synthesized as a whole process, from JavaScript compiled by `npx tsc -p bench/tsconfig.examples.json`
// into bench/.work (as an app would run in production): `node bench/synth/example.js <name> <outdir>`
// (outdir unused: examples write into their own dist/). Prints {"ms":..., "maxRssKb":..., "objects":...}.
const started = process.hrtime.bigint();
const fs = require('fs');
const path = require('path');
const name = process.argv[2];
const main = path.join(__dirname, '..', '.work', 'examples', name, 'main.js');
require(main);
const dist = path.join(path.dirname(main), 'dist');
const objects = fs.existsSync(dist) ? fs.readdirSync(dist, { recursive: true }).filter((f) => /\.(ya?ml|json|md)$/.test(f)).length : 0;
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, objects }) + '\n');
