/**
 * `npm run bench`: the synthesis benchmark and the rollout simulation; prints both tables and writes
 * bench/results/synth.md, bench/results/rollout-sim.md and bench/results/rollout-sim.svg.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

for (const script of ['synth/run.ts', 'rollout-sim/run.ts', 'namespace/run.ts']) {
  console.log(`\n== bench/${script}\n`);
  const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'test', 'support', 'register-ts.js'), path.join(__dirname, script)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
