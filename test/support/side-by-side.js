#!/usr/bin/env node
// Runs the test suite and the static checks side by side (the `test` task in .projenrc.ts):
//
//   node test/support/side-by-side.js [--first-task <projen task>] '<check>' ... -- <command> [args...]
//
// Each <check> is a shell command run in the background with its output held back and printed, under a header,
// when it ends; <command> (jest, with the task's arguments) runs in the foreground with the terminal. Exits with
// the first failure's code once everything has ended, so any failing check still fails the task. The project's
// node_modules/.bin comes first on PATH, as under `npm run`.
//
// --first-task runs a projen task in the foreground before <command>, once the checks have started: the tests need
// the bundles (`bundle`), the checks do not, so they no longer wait for them (~1 s). The task is read from
// .projen/tasks.json and its `spawn` steps, independent tasks (one per bundle), run side by side, each sub-task's
// own steps in order; a step of another kind than spawn, exec or execArgs is refused (run `npx projen <task>`).
const { spawn } = require('child_process');
const path = require('path');

let argv = process.argv.slice(2);
let firstTask;
if (argv[0] === '--first-task') {
  firstTask = argv[1];
  argv = argv.slice(2);
}
const split = argv.indexOf('--');
if (split < 0 || split === argv.length - 1) {
  console.error('usage: side-by-side.js <check>... -- <command> [args...]');
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

/** Run projen task `name` from .projen/tasks.json: spawn steps side by side, exec/execArgs steps in order. */
async function runTask(name) {
  const task = require(path.join(root, '.projen', 'tasks.json')).tasks[name];
  if (!task) return { label: `task ${name}`, code: 1, error: new Error(`no projen task ${name}`) };
  const spawned = task.steps.filter((s) => s.spawn);
  const own = task.steps.filter((s) => !s.spawn);
  if (task.env || task.cwd || task.condition || task.steps.some((s) => !s.spawn && !s.exec && !s.execArgs)) {
    return { label: `task ${name}`, code: 1, error: new Error(`task ${name} has a step side-by-side.js does not run: run \`npx projen ${name}\``) };
  }
  if (spawned.length && own.length) return { label: `task ${name}`, code: 1, error: new Error(`task ${name} mixes spawn and exec steps: run \`npx projen ${name}\``) };
  if (spawned.length) {
    const results = await Promise.all(spawned.map((s) => runTask(s.spawn)));
    return results.find((r) => r.code !== 0) ?? { label: `task ${name}`, code: 0 };
  }
  for (const step of own) {
    const child = step.execArgs
      ? spawn(step.execArgs[0], step.execArgs.slice(1), { cwd: root, env, stdio: 'inherit' })
      : spawn(step.exec, { cwd: root, env, shell: true, stdio: 'inherit' });
    const r = await run(child, `task ${name}`);
    if (r.code !== 0) return r;
  }
  return { label: `task ${name}`, code: 0 };
}

const foreground = (async () => {
  if (firstTask) {
    const r = await runTask(firstTask);
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
