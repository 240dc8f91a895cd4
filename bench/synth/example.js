// One example synthesized as a whole process: `node bench/synth/example.js <name> <outdir>` (outdir unused:
// examples write into their own dist/). Prints {"ms":..., "maxRssKb":..., "objects":...}.
require('ts-node/register');
const started = process.hrtime.bigint();
const fs = require('fs');
const path = require('path');
const name = process.argv[2];
require(path.join(__dirname, '..', '..', 'examples', name, 'main.ts'));
const dist = path.join(__dirname, '..', '..', 'examples', name, 'dist');
const objects = fs.existsSync(dist) ? fs.readdirSync(dist, { recursive: true }).length : 0;
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, objects }) + '\n');
