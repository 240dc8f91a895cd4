/**
 * A small HTTP(S) client over node:http(s) for the controller's bundles (no dependencies): JSON in and out,
 * a total deadline per request, bounded Retry-After, and errors that carry the status and a kind
 * (`RolloutRuntimeError`: conflict, rejected, unavailable, timeout).
 */
import * as http from 'http';
import * as https from 'https';
import { kindOfStatus, RolloutRuntimeError } from '../core/runtime-errors';

/** An HTTP answer outside 2xx. */
export class HttpError extends RolloutRuntimeError {
  constructor(status: number, public readonly body: string, what: string, retryAfterMs?: number) {
    super(kindOfStatus(status), `${what}: HTTP ${status}: ${body.slice(0, 300)}`, status, retryAfterMs);
    this.name = 'HttpError';
  }
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /**
   * Total deadline of the request in ms, retries included (default 5000). A deadline, not an idle timeout: a
   * server trickling its answer a byte at a time must not hold a tick (a CronJob run) for minutes.
   */
  readonly timeoutMs?: number;
  /**
   * Retries of a 429 or 503 that carries Retry-After (default 2). The wait is the server's, capped at
   * `maxRetryAfterMs` (default 5000) and at what is left of the deadline; past that the error is returned.
   */
  readonly retries?: number;
  readonly maxRetryAfterMs?: number;
  /** TLS: extra CA (the in-cluster CA), client cert and key (kubeconfig). */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly insecureSkipTlsVerify?: boolean;
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Send a request; resolves with the body on 2xx, rejects with `HttpError` or a timeout `RolloutRuntimeError`. */
export async function request(url: string, options: RequestOptions = {}): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(url, options, deadline);
    } catch (e) {
      const wait = e instanceof HttpError && (e.status === 429 || e.status === 503) ? e.retryAfterMs : undefined;
      // only when the server said when, and the wait fits the cap and the deadline: never a blind retry loop
      if (wait === undefined || attempt >= retries || wait > (options.maxRetryAfterMs ?? 5000) || Date.now() + wait >= deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

function once(url: string, options: RequestOptions, deadline: number): Promise<string> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const what = `${options.method ?? 'GET'} ${u.pathname}`;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method: options.method ?? 'GET',
      headers: { accept: 'application/json', ...(options.body ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      rejectUnauthorized: !options.insecureSkipTlsVerify,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(body);
        else reject(new HttpError(status, body, what, parseRetryAfter(res.headers['retry-after'])));
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const ms = Math.max(0, deadline - Date.now());
    const timer = setTimeout(() => req.destroy(new RolloutRuntimeError('timeout', `${what} (${u.host}): no complete answer within ${ms} ms`)), ms);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof RolloutRuntimeError ? e : new RolloutRuntimeError('unavailable', `${what} (${u.host}): ${e.message}`));
    });
    if (options.body) req.write(options.body);
    req.end();
  });
}
