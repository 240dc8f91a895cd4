import { report, runAll } from './run';
const t = Date.now();
const { cells } = runAll({ seeds: 20, healthySeeds: 100 });
console.log(report(cells).markdown);
console.log('ms', Date.now() - t);
