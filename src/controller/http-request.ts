/**
 * A small HTTP(S) client over node:http(s) for the controller's bundles (no dependencies): JSON in and out,
 * a timeout, and errors that carry the status code.
 */
import * as http from 'http';
import * as https from 'https';

/** An HTTP answer outside 2xx. */
export class HttpError extends Error {
  constructor(public readonly status: number, public readonly body: string, what: string) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 300)}`);
    this.name = 'HttpError';
  }
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
  /** TLS: extra CA (the in-cluster CA), client cert and key (kubeconfig). */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly insecureSkipTlsVerify?: boolean;
}

/** Send a request; resolves with the body on 2xx, rejects with `HttpError` otherwise, or on timeout. */
export function request(url: string, options: RequestOptions = {}): Promise<string> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method: options.method ?? 'GET',
      headers: { accept: 'application/json', ...(options.body ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      rejectUnauthorized: !options.insecureSkipTlsVerify,
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(body);
        else reject(new HttpError(status, body, `${options.method ?? 'GET'} ${u.pathname}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${u.host}${u.pathname}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}
