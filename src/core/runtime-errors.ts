/**
 * Run-time errors of the step controller's adapters (API calls at tick time), distinct from the synth-time
 * `RolloutConfigError`: what kind of failure it was decides what the tick does.
 *
 * - `conflict`: someone else wrote first (HTTP 409, a failed resourceVersion test, a failed DynamoDB condition): the
 *   tick stops and acts on nothing; the next tick decides again. Exit code 0: this is normal.
 * - `rejected`: the server refuses the request and will refuse it again (403, 404, 422 other than a
 *   resourceVersion test, an immutable ConfigMap): an error a person must fix. Non-zero exit code.
 * - `unavailable`: the server is overloaded or down (429, 5xx, connection refused): try again later.
 * - `timeout`: no complete answer within the request's deadline.
 *
 * Pure data: no I/O, so src/core may hold it. The messages the engine itself raises at run time are the named
 * functions at the end of this file.
 */

export type RuntimeErrorKind = 'conflict' | 'rejected' | 'unavailable' | 'timeout';

export class RolloutRuntimeError extends Error {
  constructor(
    public readonly kind: RuntimeErrorKind,
    message: string,
    /** HTTP status, when there was an answer. */
    public readonly status?: number,
    /** How long the server asked us to wait (Retry-After), in ms, when it said. */
    public readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RolloutRuntimeError';
  }
}

/** The kind an HTTP status maps to (2xx never gets here). */
export function kindOfStatus(status: number): RuntimeErrorKind {
  if (status === 409) return 'conflict';
  if (status === 408) return 'timeout';
  if (status === 429 || status >= 500 || status === 0) return 'unavailable';
  return 'rejected';
}

export function isRuntimeError(e: unknown, kind?: RuntimeErrorKind): e is RolloutRuntimeError {
  return e instanceof RolloutRuntimeError && (kind === undefined || e.kind === kind);
}

/** The rollout target (the document beside the spec) has no route backend for a version the spec names. */
export function noBackendForVersion(version: string): RolloutRuntimeError {
  return new RolloutRuntimeError('rejected', `no backend for version "${version}" in the rollout target`);
}

/** The AWS rollout target has no ALB target group for a version the spec names. */
export function noTargetGroupForVersion(version: string): RolloutRuntimeError {
  return new RolloutRuntimeError('rejected', `no target group for version "${version}" in the rollout target`);
}
