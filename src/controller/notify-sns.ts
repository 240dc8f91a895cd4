/**
 * The Lambda's notifier: each phase change published to the rollout's SNS topic (`ROLLOUT_SNS_TOPIC_ARN`), through
 * the SNS Query API (`Action=Publish`, form-encoded POST) signed by the controller's one SigV4 signer
 * (`aws/sigv4.ts`, which also presigns the EKS token): no SNS client for one call. Best-effort like every sink.
 * @see https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
import { dnsSuffix, regionalHost } from './aws/partition';
import { AwsCredentials, rfc3986 as enc, signV4 } from './aws/sigv4';
import { request } from './http-request';
import { TransitionSink } from './tick';
import { Transition } from '../core/history';
import { webhookPayload } from '../core/notifications';
import { RolloutSpec } from '../core/spec';
import { ControllerState } from '../core/state';

export class SnsSink implements TransitionSink {
  /**
   * @param endpoint the SNS endpoint (default `https://sns.<region>.<the partition's DNS suffix>`, `aws/partition.ts`)
   */
  constructor(
    private readonly topicArn: string,
    private readonly region: string,
    private readonly credentials: () => AwsCredentials,
    private readonly endpoint = `https://${regionalHost('sns', region, dnsSuffix({}, region))}`,
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
