/**
 * CloudWatch alarms on each canary's target group that the step controller reads as checks: in ALARM, the canary
 * fails. Over one-minute periods:
 * - the share of 5xx answers from the targets, counted only from `minRequests` requests a minute on;
 * - connections the load balancer could not open to the targets (`TargetConnectionErrorCount`): a crashed or
 *   OOM-killed model server answers nothing, and the ALB's own 502/503/504 are not in `HTTPCode_Target_5XX_Count`;
 * - unhealthy targets (`UnHealthyHostCount`) while the canary has traffic;
 * - the p99 target response time, from `minRequests` requests a minute on and only while it is also
 *   `p99LatencyVsStable` times stable's p99 over the same minute (stable's own slowness, long generations both
 *   versions serve, is not the canary's fault); with no stable traffic (100 % canary) the threshold alone.
 * Missing data is not breaching: a canary without traffic has none.
 * Metric math (IF, AND, FILL): https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
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
  /** The stable version's target group: the canaries' p99 is compared with its p99. */
  readonly stableTargetGroup: LbTargetGroup;
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
      this.alarms.push(latencyAlarm(scopeOf, props, version, dims, { TargetGroup: props.stableTargetGroup.arnSuffix, LoadBalancer: lbSuffix }));
    }
  }
}

/** The p99 alarm: absolute threshold, minimum requests, and worse than stable by `p99LatencyVsStable` where stable serves. */
function latencyAlarm(scope: Construct, props: CanaryAlarmsProps, version: string, dims: Record<string, string>, stableDims: Record<string, string>) {
  const p99 = (dimensions: Record<string, string>) => ({ namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', period: 60, stat: 'p99', dimensions });
  const min = props.minRequests ?? 20;
  const ratio = props.p99LatencyVsStable ?? 1.5;
  return new CloudwatchMetricAlarm(scope, 'Latency', {
    alarmName: `${props.namePrefix}-${version}-p99-latency`,
    alarmDescription: `p99 target response time of canary ${version}, from ${min} requests a minute and ${ratio}x stable's (rollout ${props.rolloutName})`,
    comparisonOperator: 'GreaterThanThreshold',
    threshold: (props.p99Latency ?? Duration.seconds(5)).toMilliseconds() / 1000,
    evaluationPeriods: props.evaluationPeriods ?? 2,
    treatMissingData: 'notBreaching',
    metricQuery: [
      { id: 'p99', metric: p99(dims) },
      { id: 'requests', metric: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', period: 60, stat: 'Sum', dimensions: dims } },
      { id: 'stable', metric: p99(stableDims) },
      // a handful of long generations is no verdict, nor is a p99 stable shares; no stable traffic fills 0
      { id: 'judged', expression: `IF(requests >= ${min} AND p99 > ${ratio} * FILL(stable, 0), p99, 0)`, label: 'p99 judged against stable (s)', returnData: true },
    ],
  });
}
