#!/usr/bin/env node
// Runs the test suite and the static checks side by side (the `test` task in .projenrc.ts):
//
//   node test/support/side-by-side.js [--first '<command>'] '<check>' ... -- <command> [args...]
//
// Each <check> is a shell command run in the background with its output held back and printed, under a header,
// when it ends; <command> (jest, with the task's arguments) runs in the foreground with the terminal. Exits with
// the first failure's code once everything has ended, so any failing check still fails the task. The project's
// node_modules/.bin comes first on PATH, as under `npm run`.
//
// --first runs a shell command in the foreground before <command>, once the checks have started: the tests need the
// bundles (`npx projen bundle`), the checks do not, so they do not wait for them.
const { spawn } = require('child_process');
const path = require('path');

let argv = process.argv.slice(2);
let first;
if (argv[0] === '--first') {
  first = argv[1];
  argv = argv.slice(2);
}
const split = argv.indexOf('--');
if (split < 0 || split === argv.length - 1) {
  console.error('usage: side-by-side.js [--first <command>] <check>... -- <command> [args...]');
  process.exit(2);
}
const checks = argv.slice(0, split);
const [command, ...args] = argv.slice(split + 1);
const root = path.join(__dirname, '..', '..');
const env = { ...process.env, PATH: [path.join(root, 'node_modules', '.bin'), process.env.PATH].join(path.delimiter) };

function run(child, label) {
  return new Promise((resolve) => {
    child.on('error', (e) => resolve({ label, code: 127, error: e }));
    child.on('close', (code, signal) => resolve({ label, code: code ?? (signal ? 1 : 0) }));
  });
}

const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const background = checks.map((check) => {
  const child = spawn(check, { cwd: root, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => { output += c; });
  child.stderr.on('data', (c) => { output += c; });
  return run(child, check).then((r) => ({ ...r, output: `${output}${r.error ? `${r.error.message}\n` : ''}`, took: seconds() }));
});

const foreground = (async () => {
  if (first) {
    const r = await run(spawn(first, { cwd: root, env, shell: true, stdio: 'inherit' }), first);
    if (r.code !== 0) return { ...r, took: seconds() };
  }
  return run(spawn(command, args, { cwd: root, env, stdio: 'inherit' }), command).then((r) => ({ ...r, took: seconds() }));
})();

(async () => {
  // the checks' reports come after the foreground's output, never inside it
  const results = [await foreground];
  for (const pending of background) {
    const r = await pending;
    results.push(r);
    process.stdout.write(`\n--- ${r.label}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} after ${r.took}\n${r.output}`);
  }
  const failed = results.find((r) => r.code !== 0);
  if (failed) process.stdout.write(`\n${failed.label} failed${failed.error ? `: ${failed.error.message}` : ''}\n`);
  process.exitCode = failed ? failed.code || 1 : 0;
})();
