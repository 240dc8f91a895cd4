/**
 * The Lambda's SNS notifier: SigV4 signing checked against AWS's published test vector (aws-sig-v4-test-suite
 * `get-vanilla`, https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and against the AWS
 * SDK's own signer (@smithy/signature-v4), and `Publish` calls received by a loopback server standing in for the
 * SNS Query API (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html: form-encoded POST).
 */
import { createHash, createHmac } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { SignatureV4 } from '@smithy/signature-v4';
import { signV4 } from '../../src/controller/aws/sigv4';
import { SnsSink } from '../../src/controller/notify-sns';
import { transitions } from '../../src/core/history';
import { ControllerState } from '../../src/core/state';
import { rolloutSpec } from '../support/spec-fixture';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };

function toBytes(d: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);
}

/** node:crypto as the SDK signer's hash. */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret ? createHmac('sha256', toBytes(secret)) : createHash('sha256');
  }
  public update(data: string | ArrayBuffer | ArrayBufferView) { this.h.update(toBytes(data)); }
  public async digest() { return new Uint8Array(this.h.digest()); }
}

async function sdkAuthorization(method: string, host: string, headers: Record<string, string>, body: string, date: Date): Promise<string> {
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'sns', sha256: Sha256, applyChecksum: false });
  const signed: any = await signer.sign({ method, protocol: 'https:', hostname: host, path: '/', headers: { ...headers, host }, body, query: {} } as any, { signingDate: date });
  return String(signed.headers.authorization);
}

describe('SNS notifier', () => {
  test('SigV4 matches the AWS test vector and the SDK signer', async () => {
    const vanilla = signV4({ method: 'GET', host: 'example.amazonaws.com', path: '/', headers: {}, body: '' }, 'service', 'us-east-1',
      { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }, new Date(Date.UTC(2015, 7, 30, 12, 36, 0)));
    expect(vanilla.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, '
      + 'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const date = new Date(Date.UTC(2026, 10, 23, 1, 2, 3));
    const body = 'Action=Publish&Message=%7B%22a%22%3A1%7D';
    const ours = signV4({ method: 'POST', host: 'sns.us-east-1.amazonaws.com', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body }, 'sns', 'us-east-1', credentials, date);
    const sdk = await sdkAuthorization('POST', 'sns.us-east-1.amazonaws.com', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-amz-security-token': 'session-token' }, body, date);
    expect(ours.authorization).toBe(sdk);
  });

  test('each phase change is one signed Publish to the topic, with the event as a message attribute', async () => {
    // GIVEN a loopback "SNS" that checks each request's signature with the SDK signer
    const got: Array<Record<string, string>> = [];
    const bad: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', async () => {
        const headers = Object.fromEntries(['content-type', 'x-amz-security-token'].map((h) => [h, String(req.headers[h])]));
        const expected = await sdkAuthorization('POST', String(req.headers.host), headers, body, new Date(Date.UTC(2026, 10, 23, 1, 2, 3)));
        if (req.headers.authorization !== expected) bad.push(String(req.headers.authorization));
        got.push(Object.fromEntries(new URLSearchParams(body)));
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const topic = 'arn:aws:sns:us-east-1:111122223333:llama-rollout-events';
      const sink = new SnsSink(topic, 'us-east-1', () => credentials, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => new Date(Date.UTC(2026, 10, 23, 1, 2, 3)));
      const spec = rolloutSpec();
      const prior: ControllerState = { specHash: 'h', phase: 'progressing', stepIndex: 3, stepStartedAt: 0, weights: { v1: 70, v2: 30 }, floors: {}, checkFailures: 1, updatedAt: 0 };
      const next: ControllerState = { ...prior, phase: 'aborted', weights: { v1: 100, v2: 0 }, checkFailures: 3, reason: 'continuous checks failed 3 times', updatedAt: 60_000 };
      // WHEN an abort by failing checks is published
      await sink.publish(spec, next, transitions(spec, prior, next, 'abort: continuous checks failed 3 times'));
      // THEN two Publish calls (gate failed, aborted), signed as the SDK signs
      expect(bad).toEqual([]);
      expect(got.map((g) => [g.Action, g.TopicArn, g.Subject, g['MessageAttributes.entry.1.Value.StringValue']])).toEqual([
        ['Publish', topic, 'llama: GateFailed', 'gateFailed'],
        ['Publish', topic, 'llama: RolloutAborted', 'aborted'],
      ]);
      expect(JSON.parse(got[1].Message)).toMatchObject({ rollout: 'llama', event: 'aborted', phase: 'aborted', weights: { v1: 100, v2: 0 }, type: 'Warning' });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
