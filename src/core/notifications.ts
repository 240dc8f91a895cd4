/**
 * Notifications of phase changes, as plain data shared by the constructs (which write it into the spec
 * ConfigMap's `notify.json`) and the controller (which posts): where to post, which triggers, and the payloads.
 * Pure: no I/O. Secrets are references (a Secret's name and key), never values: the controller reads them at
 * the time it posts.
 *
 * The triggers follow Argo Rollouts' built-in notification triggers (on-rollout-updated, on-rollout-step-completed,
 * on-rollout-paused, on-analysis-run-failed, on-rollout-aborted, on-rollout-completed) and Flagger's alerts:
 * @see https://argoproj.github.io/argo-rollouts/features/notifications/
 * @see https://docs.flagger.app/usage/alerting
 * The Slack payload is an incoming webhook's: `text` (the fallback shown in notifications) and `blocks`:
 * @see https://api.slack.com/messaging/webhooks
 */
import { Transition, Trigger } from './history';
import { RolloutSpec } from './spec';
import { ControllerState } from './state';

/** Key of the spec ConfigMap holding the rollout's notifiers (absent when there are none). */
export const STATE_KEY_NOTIFY = 'notify.json';

/** Environment variable of the Lambda controller with its SNS topic's ARN (absent without a topic). */
export const ENV_CONTROLLER_SNS_TOPIC_ARN = 'ROLLOUT_SNS_TOPIC_ARN';

/** The triggers a notifier gets when it names none: what a person acts on (a step is too chatty for a channel). */
export const DEFAULT_TRIGGERS: readonly Trigger[] = ['started', 'paused', 'gateFailed', 'aborted', 'promoted', 'completed'];

/** A reference to one key of a Kubernetes Secret in the rollout's namespace. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** One notifier, as stored in `notify.json`. */
export interface NotifierConfig {
  readonly kind: 'webhook' | 'slack';
  /** The URL, for a webhook whose URL is no secret. */
  readonly url?: string;
  /** The Secret key holding the URL (a Slack incoming webhook URL is a credential). */
  readonly urlSecret?: SecretKeyRef;
  readonly triggers: readonly Trigger[];
}

/** The generic webhook's JSON body: one phase change. */
export function webhookPayload(spec: RolloutSpec, state: ControllerState, t: Transition, namespace?: string) {
  return {
    rollout: spec.name,
    ...(namespace ? { namespace } : {}),
    event: t.trigger,
    reason: t.reason,
    type: t.type,
    message: t.message,
    phase: state.phase,
    step: state.stepIndex,
    steps: spec.steps.length,
    weights: state.weights,
    stable: spec.stable,
    canaries: spec.canaries.map((c) => c.version),
    at: new Date(state.updatedAt).toISOString(),
  };
}

const EMOJI: Record<Trigger, string> = {
  started: ':rocket:',
  step: ':arrow_forward:',
  paused: ':double_vertical_bar:',
  resumed: ':arrow_forward:',
  gateFailed: ':warning:',
  aborted: ':rotating_light:',
  promoted: ':white_check_mark:',
  completed: ':white_check_mark:',
};

/** A Slack incoming webhook's body: `text` (fallback) and one section block with the weights as fields. */
export function slackPayload(spec: RolloutSpec, state: ControllerState, t: Transition, namespace?: string) {
  const where = namespace ? `${namespace}/${spec.name}` : spec.name;
  const text = `${EMOJI[t.trigger]} ${where}: ${t.message}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${EMOJI[t.trigger]} *${where}* ${t.reason}\n${t.message}` } },
      {
        type: 'context',
        elements: [{
          type: 'mrkdwn',
          text: `phase *${state.phase}* · step ${Math.min(state.stepIndex + 1, spec.steps.length)}/${spec.steps.length} · `
            + Object.entries(state.weights).map(([v, w]) => `${v} ${w}%`).join(', '),
        }],
      },
    ],
  };
}
