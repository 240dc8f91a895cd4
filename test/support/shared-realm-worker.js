// One test file in a jest worker process, run in the process' own realm (test/support/shared-realm-runner.js says
// why): jest-circus' adapter with jest's semantics (hooks, timeouts, test.each, expect and its assertion counts,
// failure formatting), but the test file and what it imports are loaded by Node's own `require`, not evaluated again
// in a fresh `vm` context per file.
//
// What is per file, as under jest's runner: jest-circus' state (its module is loaded afresh for every file: the
// describe tree, event handlers, timeouts), the `expect` state, the console buffer shown with the file's result, the
// globals the file and its framework add (removed afterwards), and the test file module itself.
// What is per process: every other module (src, test/support, node_modules), loaded once and shared by the files the
// worker runs, and `setupFiles`, run once (they would patch shared modules).
'use strict';
// before anything the test files load: V8's tier-up threshold for a short-lived process (./v8-tiering.js)
require('./v8-tiering').tuneTiering();
const fs = require('fs');
const path = require('path');

const SOURCE_MAPS = new Map();
/** The test API jest-circus' adapter puts on the global (jestAdapterInit.js `initialize`), and `jest`. */
const FRAMEWORK_GLOBALS = new Set(['afterAll', 'afterEach', 'beforeAll', 'beforeEach', 'describe', 'expect', 'fdescribe', 'fit', 'it', 'jest', 'test', 'xdescribe', 'xit', 'xtest']);
/** jest-circus' global symbols (build/types.js): its state (one per copy of the module), timeout and retry settings. */
const FRAMEWORK_SYMBOLS = new Set(['JEST_STATE_SYMBOL', 'TEST_TIMEOUT_SYMBOL', 'RETRY_TIMES', 'LOG_ERRORS_BEFORE_RETRY']);
let ready;

/**
 * Once per process: TypeScript through the same transform as jest's (test/support/esbuild-jest.js), stack traces of the transformed files mapped back as jest-runner maps them
 * (source-map-support with the transform's maps only; node_modules' own source maps are not read, as under jest),
 * the stack depth jest-runner sets, and `setupFiles`.
 */
async function setUp(config) {
  const transformer = require('./esbuild-jest');
  require.extensions['.ts'] = function compileTypeScript(module, filename) {
    const { code, map } = transformer.process(fs.readFileSync(filename, 'utf8'), filename);
    SOURCE_MAPS.set(filename, map);
    module._compile(code, filename);
  };
  require('source-map-support').install({
    environment: 'node',
    handleUncaughtExceptions: false,
    overrideRetrieveSourceMap: true,
    retrieveSourceMap: (source) => {
      const map = SOURCE_MAPS.get(source);
      return map ? { map, url: source } : null;
    },
  });
  // jest-runner/build/runTest.js: "Node's error-message stack size is limited at 10, but it's pretty useful to see
  // more than that when a test fails"
  Error.stackTraceLimit = 100;
  // the framework's process-wide modules, loaded before any file's globals are noted: `expect` keeps its state on a
  // global (Symbol.for('$$jest-matchers-object')), which must outlive every file
  require('@jest/expect');
  require('jest-snapshot');
  require('@jest/console');
  for (const file of config.setupFiles) {
    const setup = require(file);
    if (typeof setup === 'function') await setup();
  }
}

/** A fresh copy of jest-circus (its state and event handlers are module-level), as jest loads it per test file. */
function freshCircus() {
  const dir = path.dirname(require.resolve('jest-circus/package.json')) + path.sep;
  for (const key of Object.keys(require.cache)) if (key.startsWith(dir)) delete require.cache[key];
  // jest's `testRunner` (config.testRunner is this file); it loads the adapter's init through runtime.requireInternalModule
  return require('jest-circus/runner');
}

/** The `jest` object: mock functions work; module mocks need jest's own module registry. */
function jestObject() {
  const { ModuleMocker } = require('jest-mock');
  const mocker = new ModuleMocker(globalThis);
  const needsIsolation = (what) => () => {
    throw new Error(`jest.${what} needs jest's module registry: run this file with MODEL_ROLLOUT_JEST_ISOLATE=1 (test/support/shared-realm-runner.js)`);
  };
  return {
    fn: mocker.fn.bind(mocker),
    spyOn: mocker.spyOn.bind(mocker),
    clearAllMocks: () => mocker.clearAllMocks(),
    resetAllMocks: () => mocker.resetAllMocks(),
    restoreAllMocks: () => mocker.restoreAllMocks(),
    mock: needsIsolation('mock'),
    doMock: needsIsolation('doMock'),
    requireActual: needsIsolation('requireActual'),
    resetModules: needsIsolation('resetModules'),
    isolateModules: needsIsolation('isolateModules'),
    useFakeTimers: needsIsolation('useFakeTimers'),
  };
}

async function run({ testPath, config, globalConfig }) {
  ready ??= setUp(config);
  await ready;
  const { BufferedConsole } = require('@jest/console');
  const before = new Set(Reflect.ownKeys(globalThis));
  const realConsole = globalThis.console;
  const testConsole = new BufferedConsole();
  const jest = jestObject();
  globalThis.console = testConsole;
  globalThis.jest = jest;
  const runtime = {
    requireInternalModule: (file) => require(file),
    // what the adapter loads per file (setupFilesAfterEnv, the test file, snapshot serializers) is evaluated afresh
    // each time, as in jest's per-file registry: a setupFilesAfterEnv file registers its hooks for every file
    requireModule: (file) => {
      perFile.add(file);
      delete require.cache[file];
      return require(file);
    },
    unstable_shouldLoadAsEsm: () => false,
    setGlobalsForRuntime: () => undefined,
    resetModules: () => undefined,
    clearAllMocks: () => jest.clearAllMocks(),
    resetAllMocks: () => jest.resetAllMocks(),
    restoreAllMocks: () => jest.restoreAllMocks(),
  };
  // a file that calls process.exit ends the process, as in jest's runner, saying so first with where it was called
  // (jest-runner/build/runTest.js wraps the test environment's process.exit the same way)
  const realExit = process.exit;
  process.exit = function exit(...args) {
    const where = new Error(`process.exit called with "${args.join(', ')}" in ${path.relative(config.rootDir, testPath)}`);
    Error.captureStackTrace(where, exit);
    process.stderr.write(`${where.stack}\n`);
    return realExit.apply(process, args);
  };
  const environment = { global: globalThis };
  const perFile = new Set([testPath]);
  const start = Date.now();
  try {
    const result = await freshCircus()(globalConfig, config, environment, runtime, testPath, undefined);
    const end = Date.now();
    const count = result.numPassingTests + result.numFailingTests + result.numPendingTests + result.numTodoTests;
    result.perfStats = { end, runtime: end - start, slow: (end - start) / 1000 > config.slowTestThreshold, start };
    result.testFilePath = testPath;
    result.console = testConsole.getBuffer();
    result.skipped = count === result.numPendingTests;
    result.displayName = config.displayName;
    return result;
  } finally {
    for (const file of perFile) delete require.cache[file];
    process.exit = realExit;
    globalThis.console = realConsole;
    // what jest-circus and its adapter put on the global for this file: its state and the test API; a module's own
    // process-wide global stays, as the module does (cdktf's token map: `__cdktfTokenMap`, undici's dispatcher)
    for (const key of Reflect.ownKeys(globalThis)) {
      const framework = typeof key === 'string' ? FRAMEWORK_GLOBALS.has(key) : FRAMEWORK_SYMBOLS.has(key.description);
      if (framework && !before.has(key)) delete globalThis[key];
    }
  }
}

module.exports = { run };
