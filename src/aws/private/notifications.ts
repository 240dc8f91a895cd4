/**
 * Notifications and a dashboard for a rollout on AWS:
 * - an SNS topic the step controller publishes its phase changes to (the Lambda may `sns:Publish` to that topic
 *   only; its ARN reaches the handler as `ROLLOUT_SNS_TOPIC_ARN`), to subscribe e-mail, chat or an incident tool;
 * - a CloudWatch dashboard per rollout: each version's share of the requests (the weights the listener serves),
 *   its 5xx answers, its p99 latency, and the state of the rollout's alarms.
 * Metrics and dimensions as the ALB publishes them (`AWS/ApplicationELB`, `LoadBalancer` and `TargetGroup` ARN
 * suffixes): https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 * Dashboard body: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { Fn, Lazy } from 'cdktf';
import { Construct } from 'constructs';
import { ENV_CONTROLLER_SNS_TOPIC_ARN } from '../../core/notifications';

export { ENV_CONTROLLER_SNS_TOPIC_ARN };

/** Props of `RolloutNotifications`. */
export interface RolloutNotificationsProps {
  /** Name of the rollout: the topic is `<name>-rollout-events`, the dashboard `<name>-rollout`. */
  readonly name: string;
  readonly listenerArn: string;
  /** Every version's target group, by version (stable first). */
  readonly targetGroups: { [version: string]: LbTargetGroup };
  /** ARNs of the rollout's alarms, rendered late. */
  readonly alarmArns: () => string[];
  /** The controller's function and role (with a topic). */
  readonly controller: { readonly function: LambdaFunction; readonly role: IamRole };
  readonly topic: boolean;
  /**
   * KMS key ARN of the topic's encryption at rest.
   * @default - the AWS managed key of SNS, `alias/aws/sns`
   */
  readonly topicKmsKey?: string;
  readonly dashboard: boolean;
}

export class RolloutNotifications extends Construct {
  public readonly topic?: SnsTopic;
  public readonly dashboard?: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: RolloutNotificationsProps) {
    super(scope, id);
    if (props.topic) {
      // encrypted at rest (AWS Config's sns-encrypted-kms): the AWS managed key's policy lets every principal of the
      // account that may publish use it through SNS; a customer key needs the publisher's kms grants below
      // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
      this.topic = new SnsTopic(this, 'Topic', { name: `${props.name}-rollout-events`, kmsMasterKeyId: props.topicKmsKey ?? 'alias/aws/sns' });
      new IamRolePolicy(this, 'PublishPolicy', {
        role: props.controller.role.name,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'PublishPhaseChanges', Effect: 'Allow', Action: ['sns:Publish'], Resource: [this.topic.arn] },
            ...(props.topicKmsKey ? [{ Sid: 'EncryptPhaseChanges', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: [props.topicKmsKey] }] : []),
          ],
        }),
      });
      // the function's variables are rendered by the controller construct: one more, without touching it
      props.controller.function.addOverride(`environment.variables.${ENV_CONTROLLER_SNS_TOPIC_ARN}`, this.topic.arn);
    }
    if (props.dashboard) {
      const region = new DataAwsRegion(this, 'Region').region;
      // the load balancer dimension is `app/<name>/<id>`, the middle of the listener ARN
      const lb = Fn.join('/', Fn.slice(Fn.split('/', props.listenerArn), 1, 4));
      const versions = Object.entries(props.targetGroups);
      const metric = (name: string, stat: string, idOf?: (i: number) => string) => versions.map(([v, tg], i) => [
        'AWS/ApplicationELB', name, 'TargetGroup', tg.arnSuffix, 'LoadBalancer', lb,
        { stat, period: 60, label: v, ...(idOf ? { id: idOf(i), visible: false } : {}) },
      ]);
      const widget = (x: number, y: number, title: string, metrics: unknown[], extra: Record<string, unknown> = {}) => ({
        type: 'metric',
        x,
        y,
        width: 12,
        height: 6,
        properties: { title, region, view: 'timeSeries', stacked: false, metrics, ...extra },
      });
      // each version's share of the requests: what the listener's weights send it, measured
      const share = [
        ...metric('RequestCount', 'Sum', (i) => `r${i}`),
        ...versions.map(([v], i) => [{ expression: `100 * r${i} / (${versions.map((_, j) => `FILL(r${j}, 0)`).join(' + ')})`, label: `${v} %`, id: `s${i}` }]),
      ];
      this.dashboard = new CloudwatchDashboard(this, 'Dashboard', {
        dashboardName: `${props.name}-rollout`,
        dashboardBody: Lazy.stringValue({
          produce: () => Fn.jsonencode({
            widgets: [
              widget(0, 0, 'Share of requests by version (%)', share, { yAxis: { left: { min: 0, max: 100 } } }),
              widget(12, 0, 'Target 5xx answers', metric('HTTPCode_Target_5XX_Count', 'Sum')),
              widget(0, 6, 'Target response time p99 (s)', metric('TargetResponseTime', 'p99')),
              widget(12, 6, 'Healthy targets', metric('HealthyHostCount', 'Minimum')),
              ...(props.alarmArns().length > 0 ? [{
                type: 'alarm',
                x: 0,
                y: 12,
                width: 24,
                height: 4,
                properties: { title: 'Rollout alarms (in ALARM, the canary fails)', alarms: props.alarmArns() },
              }] : []),
            ],
          }),
        }),
      });
    }
  }
}
