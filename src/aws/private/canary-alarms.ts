/**
 * CloudWatch alarms on each canary's target group that the step controller reads as checks: in ALARM, the canary
 * fails. Over one-minute periods:
 * - the share of 5xx answers from the targets, counted only from `minRequests` requests a minute on;
 * - connections the load balancer could not open to the targets (`TargetConnectionErrorCount`): a crashed or
 *   OOM-killed model server answers nothing, and the ALB's own 502/503/504 are not in `HTTPCode_Target_5XX_Count`;
 * - unhealthy targets (`UnHealthyHostCount`) while the canary has traffic;
 * - the p99 target response time.
 * Missing data is not breaching: a canary without traffic has none.
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 */
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Duration } from 'cdk8s';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { pascalCase } from '../../core/names';
import { CanaryAlarmOptions } from '../options';

/** Props of `CanaryAlarms`. */
export interface CanaryAlarmsProps extends CanaryAlarmOptions {
  /** Prefix of the alarm names (`<prefix>-<version>-5xx-share`). */
  readonly namePrefix: string;
  readonly rolloutName: string;
  readonly listenerArn: string;
  /** The canaries' target groups, by version. */
  readonly targetGroups: { [version: string]: LbTargetGroup };
}

export class CanaryAlarms extends Construct {
  public readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: CanaryAlarmsProps) {
    super(scope, id);
    // the load balancer dimension is `app/<name>/<id>`, the middle of the listener ARN
    const lbSuffix = Fn.join('/', Fn.slice(Fn.split('/', props.listenerArn), 1, 4));
    for (const [version, tg] of Object.entries(props.targetGroups)) {
      const scopeOf = new Construct(this, pascalCase(version));
      const dims = { TargetGroup: tg.arnSuffix, LoadBalancer: lbSuffix };
      this.alarms.push(new CloudwatchMetricAlarm(scopeOf, 'ErrorRate', {
        alarmName: `${props.namePrefix}-${version}-5xx-share`,
        alarmDescription: `Share of 5xx answers of canary ${version} (rollout ${props.rolloutName})`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: props.errorRate ?? 0.02,
        evaluationPeriods: props.evaluationPeriods ?? 2,
        treatMissingData: 'notBreaching',
        metricQuery: [
          { id: 'errors', metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', period: 60, stat: 'Sum', dimensions: dims } },
          { id: 'requests', metric: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', period: 60, stat: 'Sum', dimensions: dims } },
          // below minRequests a minute the share is 0: one error among a handful of requests must not abort
          { id: 'share', expression: `IF(requests >= ${props.minRequests ?? 20}, errors / requests, 0)`, label: '5xx share', returnData: true },
        ],
      }));
      this.alarms.push(new CloudwatchMetricAlarm(scopeOf, 'ConnectionErrors', {
        alarmName: `${props.namePrefix}-${version}-connection-errors`,
        alarmDescription: `Connections the ALB could not open to canary ${version} (rollout ${props.rolloutName})`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: props.connectionErrors ?? 5,
        evaluationPeriods: props.evaluationPeriods ?? 2,
        treatMissingData: 'notBreaching',
        namespace: 'AWS/ApplicationELB',
        metricName: 'TargetConnectionErrorCount',
        statistic: 'Sum',
        period: 60,
        dimensions: dims,
      }));
      this.alarms.push(new CloudwatchMetricAlarm(scopeOf, 'UnhealthyTargets', {
        alarmName: `${props.namePrefix}-${version}-unhealthy-targets`,
        alarmDescription: `Unhealthy targets of canary ${version} (rollout ${props.rolloutName})`,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        evaluationPeriods: props.evaluationPeriods ?? 2,
        treatMissingData: 'notBreaching',
        metricQuery: [
          { id: 'unhealthy', metric: { namespace: 'AWS/ApplicationELB', metricName: 'UnHealthyHostCount', period: 60, stat: 'Maximum', dimensions: dims } },
          { id: 'requests', metric: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', period: 60, stat: 'Sum', dimensions: dims } },
          // a pre-warmed canary loads its model for minutes, failing health checks, before it gets any traffic:
          // only unhealthy targets of a canary that serves requests count
          { id: 'serving', expression: 'IF(requests > 0, unhealthy, 0)', label: 'unhealthy targets while serving', returnData: true },
        ],
      }));
      this.alarms.push(new CloudwatchMetricAlarm(scopeOf, 'Latency', {
        alarmName: `${props.namePrefix}-${version}-p99-latency`,
        alarmDescription: `p99 target response time of canary ${version} (rollout ${props.rolloutName})`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: (props.p99Latency ?? Duration.seconds(5)).toMilliseconds() / 1000,
        evaluationPeriods: props.evaluationPeriods ?? 2,
        treatMissingData: 'notBreaching',
        namespace: 'AWS/ApplicationELB',
        metricName: 'TargetResponseTime',
        extendedStatistic: 'p99',
        period: 60,
        dimensions: dims,
      }));
    }
  }
}
