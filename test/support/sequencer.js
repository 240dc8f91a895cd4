// Jest test sequencer: the longest test files first, so that on 2 cores no long file starts last and runs alone.
// Jest orders by the durations of its previous run (kept in its cache) and, without them (a clean clone, CI), by
// file size, which here starts the 30 s property suite near the end. Durations of a recent run are committed in
// test/support/durations.json (regenerate: `npx jest --json --outputFile=/tmp/j.json && node
// test/support/sequencer.js /tmp/j.json`); a file missing from it ranks by size after the known ones.
const fs = require('fs');
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;

const TABLE = path.join(__dirname, 'durations.json');
const KNOWN = fs.existsSync(TABLE) ? JSON.parse(fs.readFileSync(TABLE, 'utf8')) : {};
const relative = (file) => path.relative(path.join(__dirname, '..', '..'), file).split(path.sep).join('/');

/**
 * Files that spend most of their time waiting for an external process rather than computing: the real Prometheus
 * scrapes on its own clock (a ~5 s first-scrape floor, prometheus/prometheus#14073, then real-time windows), and
 * the language packages' test waits on their toolchains' processes (pip, jsii-pacmak, Python). Two of
 * them running at once on the 2 workers leave a core idle (the static checks are one thread), so they are spread:
 * each is followed by CPU-bound files in the queue, which workers take in order as they free up. (The shared-realm
 * runner, shared-realm-runner.js, runs them in a lane of their own instead; this order is for jest's own runner.)
 */
const WAITING = new Set([
  'test/controller/prometheus-vllm.test.ts',
  'test/controller/prometheus.test.ts',
  // the CronJob pod against a real Prometheus: ticks on the wall clock, every 10 s
  'test/controller/k8s/cronjob-pod-default-checks.test.ts',
  // build the Python packages and run Python: wait on pip, jsii-pacmak and Python's own processes
  'test/flavors/python.test.ts',
  'test/flavors/cdktn-python.test.ts',
]);
const CPU_FILES_BETWEEN_WAITING = 2;

class LongestFirst extends Sequencer {
  time(test) {
    return super.time(test) ?? KNOWN[relative(test.path)];
  }

  sort(tests) {
    const sorted = super.sort(tests);
    const waiting = sorted.filter((t) => WAITING.has(relative(t.path)));
    // a failed file first, as jest does (hasFailed): only reorder when none did
    if (waiting.length < 2 || sorted.some((t) => this.hasFailed(t))) return sorted;
    const busy = sorted.filter((t) => !WAITING.has(relative(t.path)));
    const out = [];
    for (const w of waiting) out.push(w, ...busy.splice(0, CPU_FILES_BETWEEN_WAITING));
    return [...out, ...busy];
  }
}

if (require.main === module) {
  // write the table from a `jest --json` report
  const report = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const table = Object.fromEntries(report.testResults
    .map((r) => [relative(r.name), Math.round(r.endTime - r.startTime)])
    .sort(([a], [b]) => (a < b ? -1 : 1)));
  fs.writeFileSync(TABLE, `${JSON.stringify(table, null, 1)}\n`);
  console.log(`${Object.keys(table).length} durations written to ${TABLE}`);
}

module.exports = LongestFirst;
module.exports.WAITING = WAITING;
module.exports.relative = relative;
