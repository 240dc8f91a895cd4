/**
 * Webhook and Slack notifiers: each phase change whose trigger a notifier subscribes to is POSTed as JSON
 * (`core/notifications.ts` builds the bodies), one request per change, with a short deadline. Best-effort, as
 * Argo Rollouts' notification engine and Flagger's alerts are: a notifier that fails or hangs is logged by the
 * tick and never holds the rollout. A URL kept in a Secret is read when there is something to send (idle ticks
 * read nothing).
 */
import { notifierWithoutUrl, notPublished } from './errors';
import { request } from './http-request';
import { TransitionSink } from './tick';
import { Transition } from '../core/history';
import { NotifierConfig, slackPayload, webhookPayload, SecretKeyRef } from '../core/notifications';
import { RolloutSpec } from '../core/spec';
import { ControllerState } from '../core/state';

/** Deadline of one notification (ms): a tick must not wait long on a chat service. */
const NOTIFY_TIMEOUT_MS = 3_000;

/** Reads a Secret key (Kubernetes: the rollout's Role grants `get` on that Secret only). */
export type SecretReader = (ref: SecretKeyRef) => Promise<string>;

export class NotifierSink implements TransitionSink {
  constructor(
    private readonly notifiers: readonly NotifierConfig[],
    private readonly readSecret: SecretReader,
    private readonly namespace?: string,
    private readonly timeoutMs = NOTIFY_TIMEOUT_MS,
  ) {}

  public async publish(spec: RolloutSpec, state: ControllerState, events: readonly Transition[]): Promise<void> {
    const errors: string[] = [];
    await Promise.all(this.notifiers.map(async (n, i) => {
      const mine = events.filter((e) => n.triggers.includes(e.trigger));
      if (mine.length === 0) return;
      try {
        const url = n.url ?? (n.urlSecret ? (await this.readSecret(n.urlSecret)).trim() : undefined);
        if (!url) throw notifierWithoutUrl();
        for (const t of mine) {
          const body = n.kind === 'slack' ? slackPayload(spec, state, t, this.namespace) : webhookPayload(spec, state, t, this.namespace);
          await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), timeoutMs: this.timeoutMs, retries: 0 });
        }
      } catch (e) {
        // never the URL in the message: a Slack webhook URL is a credential
        const where = n.urlSecret ? `Secret ${n.urlSecret.name}/${n.urlSecret.key}` : 'its URL';
        errors.push(`${n.kind} notifier ${i + 1} (${where}): ${redact((e as Error).message)}`);
      }
    }));
    if (errors.length > 0) throw notPublished(errors);
  }
}

/** An error message without the URL or its path (a Slack webhook's path is its token). */
function redact(message: string): string {
  return message.replace(/https?:\/\/\S+/g, '<url>').replace(/\b(POST|GET) \/[^\s:]*/g, '$1 <path>');
}
