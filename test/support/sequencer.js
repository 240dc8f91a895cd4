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

class LongestFirst extends Sequencer {
  time(test) {
    return super.time(test) ?? KNOWN[relative(test.path)];
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
