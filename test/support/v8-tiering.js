// V8's tier-up threshold for the test run's own processes: the static checks, jest's process (with the k8s
// validator's thread) and the shared-realm workers. Each calls `tuneTiering()` first thing.
//
// Why: these processes live seconds and run a great deal of code only a few hundred times (TypeScript's checker,
// ESLint, cdk8s, cdktf, the kube twin). V8 sends a function to TurboFan once it has used up its interrupt budget a few
// times (`--interrupt-budget`, 67584 bytes of bytecode in Node 20's V8 11.3, times `--ticks-before-optimization`; see
// `node --v8-options`), and many such functions were compiled, on V8's background threads, for little use before
// the process ended. A budget 8 times larger leaves lukewarm code in the interpreter and baseline code and still
// optimizes the hot loops. What it saves is in bench/results/knobs.md (bench/knobs/run.ts).
//
// Only the budget changes, not what the code does: tiering decides when code is compiled, never what it computes.
// MODEL_ROLLOUT_INTERRUPT_BUDGET=<bytes> sets another budget; 0 keeps V8's default (to compare or profile).
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
