// V8's tier-up threshold for the test run's own processes (issue 17): the static checks, jest's process (with the
// k8s validator's thread) and the shared-realm workers. Each calls `tuneTiering()` first thing.
//
// Why: these processes live 10 to 40 s and run a great deal of code only a few hundred times: TypeScript's checker,
// ESLint and its plugins, cdk8s, cdktf, the kube twin. V8 sends a function to TurboFan once it has used up its
// interrupt budget a few times (`--interrupt-budget`, 67584 bytes of bytecode in Node 20's V8 11.3, times
// `--ticks-before-optimization`, see `node --v8-options`), and many such functions were compiled, on V8's background
// threads, for little use before the process ended: in an in-band jest run of three test files, `node --trace-opt`
// counted 1,318 TurboFan compiles whose background phases took 6.0 s of CPU. A larger budget leaves lukewarm code in
// the interpreter and baseline code and still optimizes the hot loops (the property suite's ticks).
//
// Measured here (2 vCPUs, interleaved runs, median CPU seconds, user + sys):
// - static checks (test/support/static-checks.js): 19.8 s at V8's default, 16.9 s at 4x, 15.3 s at 8x, 15.7 s at
//   16x; wall time no longer (11.7 s at 8x against 12.7 s);
// - six CPU-heavy test files in band: 22.1 s at the default against 20.5 s at 8x;
// - `npm test`, 4 interleaved pairs on one tree: 29.6 to 32.7 s wall and 55 to 61 s CPU at 8x, against 34.4 to
//   35.7 s and 64.5 to 67.7 s at the default (MODEL_ROLLOUT_INTERRUPT_BUDGET=0). 4x to 32x were within noise of
//   each other in the whole run.
//
// Only the budget changes, not what the code does: tiering decides when code is compiled, never what it computes.
// MODEL_ROLLOUT_INTERRUPT_BUDGET=<bytes> sets another budget; 0 keeps V8's default (to compare).
'use strict';

const DEFAULT_BUDGET = 8 * 67584;

function tuneTiering() {
  const setting = process.env.MODEL_ROLLOUT_INTERRUPT_BUDGET;
  const budget = setting === undefined || setting === '' ? DEFAULT_BUDGET : Number(setting);
  if (!Number.isInteger(budget) || budget < 0) {
    throw new Error(`MODEL_ROLLOUT_INTERRUPT_BUDGET must be a whole number of bytes (0: V8's default), got "${setting}"`);
  }
  // V8 flags can change while the process runs; this one is read whenever a function's budget is (re)set, so code
  // compiled from here on gets it (`node:v8` setFlagsFromString)
  if (budget > 0) require('v8').setFlagsFromString(`--interrupt-budget=${budget}`);
}

module.exports = { tuneTiering, DEFAULT_BUDGET };
