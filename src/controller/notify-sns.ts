/**
 * The Lambda's notifier: each phase change published to the rollout's SNS topic (`ROLLOUT_SNS_TOPIC_ARN`), through
 * the SNS Query API (`Action=Publish`, form-encoded POST) signed with SigV4 over node:crypto, as `eks-token.ts`
 * signs: the Lambda bundle gains no SDK client (the runtime ships the SDK, the tests' node_modules do not carry
 * the SNS client). Best-effort like every sink.
 * @see https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac } from 'crypto';
import { AwsCredentials } from './aws/eks-token';
import { request } from './http-request';
import { TransitionSink } from './tick';
import { Transition } from '../core/history';
import { webhookPayload } from '../core/notifications';
import { RolloutSpec } from '../core/spec';
import { ControllerState } from '../core/state';

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
/** RFC 3986 encoding, as SigV4 and the Query API want it. */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A request to sign: method, host, path, lower-case headers (besides host and x-amz-date), body. */
export interface UnsignedRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** SigV4 header signing: the headers to send (host, x-amz-date, the token, authorization). */
export function signV4(req: UnsignedRequest, service: string, region: string, credentials: AwsCredentials, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    'host': req.host,
    'x-amz-date': amzDate,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const signed = names.join(';');
  const canonical = [req.method, req.path, '', ...names.map((n) => `${n}:${headers[n]}`), '', signed, sha256(req.body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}` };
}

export class SnsSink implements TransitionSink {
  /**
   * @param endpoint the SNS endpoint (default `https://sns.<region>.amazonaws.com`; a test's loopback server)
   */
  constructor(
    private readonly topicArn: string,
    private readonly region: string,
    private readonly credentials: () => AwsCredentials,
    private readonly endpoint = `https://sns.${region}.amazonaws.com`,
    private readonly now: () => Date = () => new Date(),
  ) {}

  public async publish(spec: RolloutSpec, state: ControllerState, events: readonly Transition[]): Promise<void> {
    for (const t of events) {
      const message = webhookPayload(spec, state, t);
      // Subject: at most 100 ASCII characters, no line breaks (API_Publish)
      const subject = `${spec.name}: ${t.reason}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
      const body = [
        ['Action', 'Publish'], ['Version', '2010-03-31'], ['TopicArn', this.topicArn], ['Subject', subject], ['Message', JSON.stringify(message)],
        ['MessageAttributes.entry.1.Name', 'event'], ['MessageAttributes.entry.1.Value.DataType', 'String'], ['MessageAttributes.entry.1.Value.StringValue', t.trigger],
      ].map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
      const u = new URL(this.endpoint);
      const headers = signV4({ method: 'POST', host: u.host, path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body },
        'sns', this.region, this.credentials(), this.now());
      const { host: _host, ...rest } = headers;
      await request(`${this.endpoint}/`, { method: 'POST', headers: rest, body, timeoutMs: 3_000, retries: 0 });
    }
  }
}
