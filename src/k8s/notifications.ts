/**
 * Notifications of a rollout's phase changes from the in-cluster controller: a generic webhook or a Slack
 * incoming webhook, each subscribed to a few events. URLs that are credentials (every Slack webhook URL) come from
 * a Kubernetes Secret key the controller reads when it posts: never in plain text in a ConfigMap.
 * @see https://argoproj.github.io/argo-rollouts/features/notifications/ (the triggers this follows)
 * @see https://docs.flagger.app/usage/alerting
 * @see https://api.slack.com/messaging/webhooks
 */
import * as errors from './errors';
import { Trigger } from '../core/history';
import { DEFAULT_TRIGGERS, NotifierConfig } from '../core/notifications';

/** A phase change a notifier can subscribe to. */
export enum NotificationEvent {
  /** The rollout started (a new spec), or restarted after `retry`. */
  STARTED = 'started',
  /** The rollout moved to another step. */
  STEP = 'step',
  /** The rollout paused: by command, at a manual step, or because a gate lacks data. */
  PAUSED = 'paused',
  /** The rollout resumed after a pause. */
  RESUMED = 'resumed',
  /** A check or an analysis gate failed a measurement (or aborted the rollout). */
  GATE_FAILED = 'gateFailed',
  /** The rollout aborted: every canary went back to 0 %. */
  ABORTED = 'aborted',
  /** The canary serves 100 % and is the stable version. */
  PROMOTED = 'promoted',
  /** Several canaries (or a partial target) hold their final split. */
  COMPLETED = 'completed',
}

/** A key of a Kubernetes Secret in the rollout's namespace. */
export interface NotifierSecretKey {
  /** Name of the Secret. */
  readonly name: string;
  /** Key within the Secret's data. */
  readonly key: string;
}

/** Options of `Notifier.webhook()`. */
export interface WebhookNotifierOptions {
  /**
   * URL to POST to, when it is no secret (an internal alert router). Give this or `urlSecret`.
   * @default - none: `urlSecret` gives it
   */
  readonly url?: string;
  /**
   * The Secret key holding the URL. Give this or `url`.
   * @default - none: `url` gives it
   */
  readonly urlSecret?: NotifierSecretKey;
  /**
   * The events to post.
   * @default - started, paused, gate failed, aborted, promoted and completed
   */
  readonly events?: NotificationEvent[];
}

/** Options of `Notifier.slack()`. */
export interface SlackNotifierOptions {
  /** The Secret key holding the Slack incoming webhook URL (the URL is a credential). */
  readonly webhookUrlSecret: NotifierSecretKey;
  /**
   * The events to post.
   * @default - started, paused, gate failed, aborted, promoted and completed
   */
  readonly events?: NotificationEvent[];
}

/**
 * Where the controller posts a rollout's phase changes. Best-effort: a notifier that fails or does not answer
 * within 3 s is logged, and never holds the rollout.
 */
export class Notifier {
  /**
   * A JSON POST per phase change: `{ rollout, namespace, event, reason, type, message, phase, step, steps, weights,
   * stable, canaries, at }`.
   */
  public static webhook(options: WebhookNotifierOptions): Notifier {
    return new Notifier('webhook', options.url, options.urlSecret, options.events);
  }

  /** A Slack incoming webhook message per phase change (`text` and `blocks`). */
  public static slack(options: SlackNotifierOptions): Notifier {
    return new Notifier('slack', undefined, options.webhookUrlSecret, options.events);
  }

  private constructor(
    private readonly kind: 'webhook' | 'slack',
    private readonly url: string | undefined,
    private readonly urlSecret: NotifierSecretKey | undefined,
    private readonly events: NotificationEvent[] | undefined,
  ) {}

  /** The notifier as plain data for the controller, checked. @internal */
  public _toConfig(path: string, property: string): NotifierConfig {
    const given = [this.url !== undefined, this.urlSecret !== undefined].filter(Boolean).length;
    if (given !== 1) throw errors.webhookUrlSources(path, property, given);
    if (this.url !== undefined && !/^https?:\/\/\S+$/.test(this.url)) throw errors.webhookUrlInvalid(path, property, this.url);
    if (this.urlSecret && (!this.urlSecret.name || !this.urlSecret.key)) throw errors.secretKeyIncomplete(path, property, this.urlSecret);
    if (this.events !== undefined && this.events.length === 0) throw errors.noEvents(path, property);
    return {
      kind: this.kind,
      ...(this.url !== undefined ? { url: this.url } : {}),
      ...(this.urlSecret ? { urlSecret: { name: this.urlSecret.name, key: this.urlSecret.key } } : {}),
      triggers: [...new Set((this.events ?? DEFAULT_TRIGGERS) as Trigger[])],
    };
  }
}
