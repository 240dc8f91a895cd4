/**
 * The AWS rollout's optional SNS topic of phase changes and its CloudWatch dashboard, as synthesized Terraform.
 */
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
// typings of the matchers Testing.setupJest() registers
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { AlbCanaryRollout, AlbCanaryRolloutProps } from '../../src/aws';
import { ENV_CONTROLLER_SNS_TOPIC_ARN } from '../../src/aws/private/notifications';
import { albRolloutProps } from '../support/alb-fixture';


Testing.setupJest();

const props: AlbCanaryRolloutProps = albRolloutProps();

function synth(p: Partial<AlbCanaryRolloutProps> = {}) {
  let rollout: AlbCanaryRollout | undefined;
  const out = Testing.synthScope((scope) => {
    rollout = new AlbCanaryRollout(scope, 'Rollout', { ...props, ...p });
  });
  return { out, json: JSON.parse(out), rollout: rollout! };
}

describe('AWS notifications and dashboard', () => {
  test('notificationTopic: a topic, the Lambda may publish to it only, and the handler gets its ARN', () => {
    const { out, json, rollout } = synth({ notificationTopic: true });
    expect(out).toHaveResourceWithProperties(SnsTopic, { name: 'llama-rollout-events' });
    const policies = Object.values(json.resource.aws_iam_role_policy) as any[];
    const publish = policies.map((x) => JSON.parse(x.policy)).flatMap((d) => d.Statement).filter((st: any) => st.Action.includes('sns:Publish'));
    const topicArn = expect.stringMatching(/^\$\{aws_sns_topic\.Rollout_Notifications_Topic_[0-9A-F]+\.arn\}$/);
    expect(publish).toEqual([{ Sid: 'PublishPhaseChanges', Effect: 'Allow', Action: ['sns:Publish'], Resource: [topicArn] }]);
    const fn = Object.values(json.resource.aws_lambda_function)[0] as any;
    expect(fn.environment.variables[ENV_CONTROLLER_SNS_TOPIC_ARN]).toEqual(topicArn);
    expect(rollout.notificationTopicArn).toBeDefined();
    expect(rollout.dashboardName).toBeUndefined();
  });

  test('dashboard: request share, 5xx, p99 latency, healthy targets per version, and the rollout\'s alarms', () => {
    const { out, json } = synth({ dashboard: true });
    expect(out).toHaveResourceWithProperties(CloudwatchDashboard, { dashboard_name: 'llama-rollout' });
    const body: string = (Object.values(json.resource.aws_cloudwatch_dashboard)[0] as any).dashboard_body;
    // a Terraform expression (jsonencode over the target groups' ARN suffixes), not a literal
    expect(body).toMatch(/^\$\{jsonencode\(/);
    for (const title of ['Share of requests by version (%)', 'Target 5xx answers', 'Target response time p99 (s)', 'Healthy targets', 'Rollout alarms']) expect(body).toContain(title);
    for (const m of ['RequestCount', 'HTTPCode_Target_5XX_Count', 'TargetResponseTime', 'HealthyHostCount']) expect(body).toContain(m);
    expect(body).toMatch(/"TargetGroup", aws_lb_target_group\.Rollout_Rule_TargetGroups_V1_[0-9A-F]+\.arn_suffix/);
    expect(body).toMatch(/"TargetGroup", aws_lb_target_group\.Rollout_Rule_TargetGroups_V2_[0-9A-F]+\.arn_suffix/);
    expect(body).toContain('100 * r1 / (FILL(r0, 0) + FILL(r1, 0))');
    expect(body.match(/aws_cloudwatch_metric_alarm\.\w+\.arn/g)).toHaveLength(4);
    // no topic unless asked
    expect(json.resource.aws_sns_topic).toBeUndefined();
  });

  test('neither by default: no topic, no dashboard, no extra policy', () => {
    const { json } = synth();
    expect(json.resource.aws_sns_topic).toBeUndefined();
    expect(json.resource.aws_cloudwatch_dashboard).toBeUndefined();
  });
});
