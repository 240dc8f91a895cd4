// Jest runner: test files run in their worker process' own realm, not in a fresh `vm` context each.
//
// Why: code in a `vm` context runs slower in V8. Its global object is reached through interceptors, so every global
// (`Math`, `JSON`, `Object`, ...) is a slow lookup and calls like `Math.imul` are not inlined. And each of jest's
// contexts loads and runs every module again. test/README.md has the measured gain.
//
// What stays as with jest's runner: jest-circus runs each file (./shared-realm-worker.js), so hooks, timeouts,
// `test.each`, `expect`, failure messages and the reporters are jest's own. Files run in worker processes, in jest's
// order (the slowest first, from jest's cache of the last run), and each file's console output is shown with its result.
// What differs: modules are loaded once per worker process and shared by the files it runs; the globals jest adds for
// a file (its test API, jest-circus' state) are removed after it, a global a module or a test sets stays. `jest.mock`
// and fake timers need jest's module registry: a file that needs them (none today) fails with a message saying so.
// `MODEL_ROLLOUT_JEST_ISOLATE=1`, or `--coverage`, runs jest's own runner instead.
'use strict';
const os = require('os');
const path = require('path');
const { Worker } = require('jest-worker');
const Emittery = require('emittery');
const JestRunner = require('jest-runner').default;

const WORKER = require.resolve('./shared-realm-worker');
/**
 * Files that spend most of their time waiting for an external process rather than computing: the real Prometheus
 * scrapes on its own clock (a ~5 s first-scrape floor, then real-time windows).
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
const relative = (file) => path.relative(path.join(__dirname, '..', '..'), file).split(path.sep).join('/');

class SharedRealmRunner extends JestRunner {
  #events = new Emittery();

  /** jest's own runner (`vm` context and module registry per file): for coverage, or on request. */
  #isolated() {
    return this._globalConfig.collectCoverage || process.env.MODEL_ROLLOUT_JEST_ISOLATE === '1';
  }

  on(eventName, listener) {
    return this.#isolated() ? super.on(eventName, listener) : this.#events.on(eventName, listener);
  }

  async runTests(tests, watcher, options) {
    if (this.#isolated()) return super.runTests(tests, watcher, options);
    const globalConfig = this._globalConfig;
    const cpuLanes = options.serial ? 1 : Math.max(1, Math.min(globalConfig.maxWorkers, tests.length));
    // files that mostly wait on a real process' clock (WAITING: Prometheus' scrapes) run in a lane of
    // their own, beside the `maxWorkers` lanes of the files that compute: asleep, they would otherwise hold a core's
    // lane idle (the first scrape alone comes ~5 s after Prometheus starts)
    const waiting = options.serial ? [] : tests.filter((t) => WAITING.has(relative(t.path)));
    const computing = tests.filter((t) => !waiting.includes(t));
    const lanes = [computing, ...Array.from({ length: cpuLanes - 1 }, () => computing), ...(waiting.length ? [waiting] : [])];
    // in band (`-i`, one file): in this process, so `node --cpu-prof jest -i` profiles the tests themselves
    const pool = options.serial ? undefined : new Worker(WORKER, {
      exposedMethods: ['run'],
      forkOptions: { serialization: 'json', stdio: 'pipe' },
      maxRetries: 0,
      numWorkers: lanes.length,
      // one worker process per lane, for good: a lane's first call binds its key to an idle worker
      // (jest-worker's `computeWorkerKey`), so the waiting lane's process never loads what the computing files load
      // (cdk8s, cdktf, the validator thread with its parsed models), and each computing lane keeps its own modules
      computeWorkerKey: (_method, input) => `lane-${input.lane}`,
    });
    pool?.getStdout().pipe(process.stdout);
    pool?.getStderr().pipe(process.stderr);
    const runOne = (input) => (pool ? pool.run(input) : require(WORKER).run(input));
    // a lane takes the next file of its queue (the sequencer's order) when its last one ends: with as many worker
    // processes as lanes, each call finds an idle worker; `test-file-start` when the file starts
    const lane = async (queue, index) => {
      for (let test = queue.shift(); test; test = queue.shift()) {
        if (watcher.isInterrupted()) return;
        await this.#events.emit('test-file-start', [test]);
        try {
          const result = await runOne({ testPath: test.path, config: test.context.config, globalConfig, lane: index });
          await this.#events.emit('test-file-success', [test, result]);
        } catch (error) {
          await this.#events.emit('test-file-failure', [test, error]);
        }
      }
    };
    try {
      await Promise.all(lanes.map(lane));
    } finally {
      if (pool) {
        const { forceExited } = await pool.end();
        if (forceExited) process.stderr.write(`a test worker did not exit after its last file and was killed${os.EOL}`);
      }
    }
  }
}

module.exports = SharedRealmRunner;
