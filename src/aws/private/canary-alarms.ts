/**
 * CloudWatch alarms on each canary's target group that the step controller reads as checks: in ALARM, the canary
 * fails. The share of 5xx answers and the p99 target response time, over one-minute periods.
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
          { id: 'share', expression: 'IF(requests > 0, errors / requests, 0)', label: '5xx share', returnData: true },
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
