// One example synthesized as a whole process, from JavaScript compiled by `npx tsc -p bench/tsconfig.examples.json`
// into bench/.work (as an app would run in production): `node bench/synth/example.js <name> <outdir>`
// (outdir unused: examples write into their own dist/, which the caller counts). Prints {"maxRssKb":...}.
const path = require('path');

require(path.join(__dirname, '..', '.work', 'examples', process.argv[2], 'main.js'));
process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\n');
