/**
 * AWS Signature Version 4 over node:crypto, the one signer of the controller: header signing for the SNS Query
 * API (`notify-sns.ts`) and query-string presigning for the EKS token (`eks-token.ts`). The Lambda bundle carries
 * no SDK signer: the SDK the runtime ships is external to it, and its signer package is not.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac } from 'crypto';
import { awsCredentialsUnset } from '../errors';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Credentials of the Lambda's role, from its environment. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw awsCredentialsUnset();
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}

/** A request to sign: method, host, path, headers (besides host and x-amz-date), body. */
export interface UnsignedRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
/** RFC 3986 encoding, as SigV4 and the Query API want it. */
export const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The request's time and credential scope. */
function stamp(now: Date, region: string, service: string): { amzDate: string; date: string; scope: string } {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  return { amzDate, date, scope: `${date}/${region}/${service}/aws4_request` };
}

/** Lower-case names, trimmed values, the host added; and the sorted names, `;`-joined, that the signature covers. */
function canonicalHeaders(req: UnsignedRequest, extra: Record<string, string>): { headers: Record<string, string>; names: string[] } {
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    host: req.host,
    ...extra,
  };
  return { headers, names: Object.keys(headers).sort() };
}

/** The hex signature of a canonical request: string to sign, then the key derived from date, region and service. */
function signature(
  req: UnsignedRequest, canonicalQuery: string, headers: Record<string, string>, names: string[],
  service: string, region: string, secret: string, at: ReturnType<typeof stamp>,
): string {
  const canonical = [req.method, req.path, canonicalQuery, ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), sha256(req.body)].join('\n');
  const toSign = [ALGORITHM, at.amzDate, at.scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, at.date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/** SigV4 header signing: the headers to send (host, x-amz-date, the token, authorization). */
export function signV4(req: UnsignedRequest, service: string, region: string, credentials: AwsCredentials, now: Date): Record<string, string> {
  const at = stamp(now, region, service);
  const { headers, names } = canonicalHeaders(req, {
    'x-amz-date': at.amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  });
  const sig = signature(req, '', headers, names, service, region, credentials.secretAccessKey, at);
  return { ...headers, authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${at.scope}, SignedHeaders=${names.join(';')}, Signature=${sig}` };
}

/**
 * SigV4 query-string presigning: an https URL carrying `params`, the signature and its expiry; the headers of
 * `req` (besides host) are signed and must be sent with it.
 */
export function presignV4(
  req: UnsignedRequest, params: Record<string, string>, expiresSeconds: number,
  service: string, region: string, credentials: AwsCredentials, now: Date,
): string {
  const at = stamp(now, region, service);
  const { headers, names } = canonicalHeaders(req, {});
  const query: Record<string, string> = {
    ...params,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${at.scope}`,
    'X-Amz-Date': at.amzDate,
    'X-Amz-Expires': String(expiresSeconds),
    'X-Amz-SignedHeaders': names.join(';'),
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
  };
  const canonicalQuery = Object.keys(query).sort().map((k) => `${rfc3986(k)}=${rfc3986(query[k])}`).join('&');
  const sig = signature(req, canonicalQuery, headers, names, service, region, credentials.secretAccessKey, at);
  return `https://${req.host}${req.path}?${canonicalQuery}&X-Amz-Signature=${sig}`;
}
