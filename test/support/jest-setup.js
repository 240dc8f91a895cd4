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
// The mock is lazy: a test file that never loads cdktf never loads this module either.
jest.mock('cdktf/lib/tokens/private/stack-trace', () => {
  const actual = jest.requireActual('cdktf/lib/tokens/private/stack-trace');
  function captureStackTrace(below) {
    const mapped = Error.prepareStackTrace;
    Error.prepareStackTrace = undefined;
    try {
      return actual.captureStackTrace(below || captureStackTrace);
    } finally {
      Error.prepareStackTrace = mapped;
    }
  }
  return { ...actual, captureStackTrace };
});
