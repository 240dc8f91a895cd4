// Jest setup (jest `setupFiles`, .projenrc.ts): runs in every test file's environment before the file.
//
// cdktf records a creation stack trace for every token it makes (Lazy values, intrinsics, dynamic blocks:
// `captureStackTrace()` in cdktf/lib/tokens/private/stack-trace.js, copied from aws/constructs
// lib/private/stack-trace.ts), reading `.stack` with `Error.stackTraceLimit` at MAX_SAFE_INTEGER. Under jest,
// `.stack` goes through the source-map-support hook jest-runner installs (jest-runner/build/runTest.js), which maps
// EVERY frame and, for node_modules files, parses their inline source maps (cdktf's and the provider's): ~3 s of
// CPU over the suite for traces that only ever appear in an error message about an unresolvable token.
// The module keeps its behaviour (same frames, same order, same format: V8's own `at ...` lines), read with V8's
// default formatting instead of source-mapped; cdktf's code is already JavaScript, so only this repository's
// frames inside a trace point at transpiled lines. Jest's own stack traces (failures) are untouched.
// Why a formatter and not `undefined`: with the test context's `Error.prepareStackTrace` undefined, Node falls back to
// the MAIN context's (lib/internal/errors.js `maybeOverridePrepareStackTrace`: "legacy usage that depends on the main
// context's Error"), which is the source-map-support jest-runner installed there, so every frame was still mapped
// (~0.9 s of CPU per run, measured with --cpu-prof). `plainV8Format` is V8's own format: the error's toString, then
// one `    at <CallSite>` line per frame (v8 src/execution/messages.cc ErrorUtils::FormatStackTrace).
function plainV8Format(error, frames) {
  let out = String(error);
  for (const frame of frames) out += `\n    at ${frame}`;
  return out;
}
// The patch replaces the module's export, which cdktf reads at every call (`(0, stack_trace_1.captureStackTrace)()` in
// lib/tokens/lazy.js and private/intrinsic.js). In jest's own runner this file runs in every test file's module
// registry; in the shared-realm runner (shared-realm-runner.js) once per worker process, whose modules every file
// shares: `PATCHED` keeps it from wrapping twice.
const stackTrace = require('cdktf/lib/tokens/private/stack-trace');
const PATCHED = Symbol.for('cdk-model-rollout/test/plain-stack-traces');
if (!stackTrace.captureStackTrace[PATCHED]) {
  const actual = stackTrace.captureStackTrace;
  const captureStackTrace = function captureStackTrace(below) {
    const mapped = Error.prepareStackTrace;
    Error.prepareStackTrace = plainV8Format;
    try {
      return actual(below || captureStackTrace);
    } finally {
      Error.prepareStackTrace = mapped;
    }
  };
  captureStackTrace[PATCHED] = true;
  stackTrace.captureStackTrace = captureStackTrace;
}
