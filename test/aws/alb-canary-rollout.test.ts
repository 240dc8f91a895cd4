import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { Duration } from 'cdk8s';
// typings of the matchers Testing.setupJest() registers
import 'cdktf/lib/testing/adapters/jest';
import { Testing, TerraformStack } from 'cdktf';
import { AlbCanaryRollout, AlbCanaryRolloutProps } from '../../src/aws';
import { BUNDLES } from '../../src/private/bundles';
import { Metric, Step, Steps } from '../../src/rollout';

import { albRolloutProps } from '../support/alb-fixture';

/** Whether Info-ZIP's unzip (Debian `unzip`, which .ci/run installs) is here. */
const hasUnzip = spawnSync('sh', ['-c', 'command -v unzip']).status === 0;

Testing.setupJest();

const props: AlbCanaryRolloutProps = albRolloutProps({ versions: [{ name: 'v1', healthPath: '/healthz' }, { name: 'v2', healthPath: '/healthz' }] });

/** The resources of one type in a synthesized stack. */
function resources(s: string, type: string): any[] {
  return Object.values(JSON.parse(s).resource[type] ?? {});
}

function synth(p: Partial<AlbCanaryRolloutProps> = {}, extra?: (r: AlbCanaryRollout) => void) {
  return Testing.synthScope((scope) => {
    const r = new AlbCanaryRollout(scope, 'Rollout', { ...props, ...p });
    extra?.(r);
  });
}

describe('AlbCanaryRollout', () => {
  test('has a target group per version with the health path, and a rule splitting by weight, all on stable at first', () => {
    const s = synth({ stickiness: Duration.minutes(10) });
    expect(s).toHaveResourceWithProperties(LbTargetGroup, { name: 'llama-v2', port: 8080, protocol: 'HTTP', target_type: 'ip' });
    expect(resources(s, 'aws_lb_target_group').map((t) => [t.name, t.health_check.path, t.health_check.matcher])).toEqual([['llama-v1', '/healthz', '200'], ['llama-v2', '/healthz', '200']]);
    const [rule] = resources(s, 'aws_lb_listener_rule');
    expect(rule.priority).toBe(100);
    expect(rule.condition).toEqual([{ host_header: { values: ['llama.example.com'] } }]);
    expect(rule.action[0].forward.target_group.map((t: any) => [t.arn.replace(/_[0-9A-F]{8}\.arn/, '.arn'), t.weight])).toEqual([
      // the canary's group joins the action when the controller gives it weight
      ['${aws_lb_target_group.Rollout_Rule_TargetGroups_V1.arn}', 100],
    ]);
    expect(rule.action[0].forward.stickiness).toEqual({ enabled: true, duration: 600 });
    // cdktf deploy mid-rollout must not reset the controller's weights
    expect(rule.lifecycle).toEqual({ ignore_changes: ['action'] });
  });

  test('runs the bundled Lambda every minute, with the spec in SSM and the state in DynamoDB; Terraform writes no state', () => {
    const s = synth();
    expect(s).toHaveResourceWithProperties(LambdaFunction, { runtime: 'nodejs22.x', handler: 'index.handler', function_name: 'llama-rollout-controller' });
    expect(s).toHaveResourceWithProperties(SchedulerSchedule, { name: 'llama-rollout-tick', state: 'ENABLED', schedule_expression: 'rate(1 minute)', flexible_time_window: { mode: 'OFF' } });
    expect(resources(s, 'aws_lambda_function')[0].environment.variables.ROLLOUT_SCHEDULE_NAME).toBe('llama-rollout-tick');
    // the only SSM parameter is the spec: the state lives in the table, whose items Terraform never writes
    expect(resources(s, 'aws_ssm_parameter').map((x) => x.name)).toEqual(['/model-rollout/llama/spec']);
    expect(resources(s, 'aws_dynamodb_table_item')).toEqual([]);
    const spec = resources(s, 'aws_ssm_parameter').find((x) => x.name === '/model-rollout/llama/spec');
    const doc = JSON.parse(spec.value);
    expect(doc.spec.steps.filter((x: any) => x.kind === 'setWeight')).toHaveLength(10);
    // the alarms' names as given to them: the document the plan is built from is the one the controller reads
    expect(doc.spec.checks.map((c: any) => c.alarmName)).toEqual(['5xx-share', 'connection-errors', 'unhealthy-targets', 'p99-latency'].map((a) => `llama-v2-${a}`));
    expect(doc.target.listenerRuleArn).toMatch(/aws_lb_listener_rule\.Rollout_Rule_.*\.arn/);
    // the CLI finds the state table through the spec parameter
    expect(doc.stateTable).toBe('model-rollout-llama');
  });

  test('the state table: on demand, keyed pk/sk, point-in-time recovery; the Lambda gets its name and exactly the calls it makes on it', () => {
    const s = synth();
    expect(s).toHaveResourceWithProperties(DynamodbTable, {
      name: 'model-rollout-llama',
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: 'pk',
      range_key: 'sk',
      attribute: [{ name: 'pk', type: 'S' }, { name: 'sk', type: 'N' }],
      point_in_time_recovery: { enabled: true },
      deletion_protection_enabled: false,
    });
    const fn = resources(s, 'aws_lambda_function')[0];
    expect(fn.environment.variables.ROLLOUT_DYNAMODB_TABLE).toMatch(/^\$\{aws_dynamodb_table\.Rollout_Controller_StateTable_[0-9A-F]+\.name\}$/);
    expect(fn.environment.variables.ROLLOUT_SSM_STATE_PARAMETER).toBeUndefined();
    const policy = JSON.parse(resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('dynamodb:')).policy);
    const dynamo = policy.Statement.filter((x: any) => [].concat(x.Action).some((a: string) => a.startsWith('dynamodb:')));
    const table = expect.stringMatching(/^\$\{aws_dynamodb_table\.Rollout_Controller_StateTable_[0-9A-F]+\.arn\}$/);
    expect(dynamo).toEqual([
      { Sid: 'ReadStateAndCommands', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [table] },
      // the Lambda writes the state item only, never a command item (dynamodb:LeadingKeys)
      { Sid: 'WriteState', Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [table], Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['state'] } } },
    ]);
    // the controller no longer writes SSM: it reads the spec parameter only
    const ssm = policy.Statement.filter((x: any) => [].concat(x.Action).some((a: string) => a.startsWith('ssm:')));
    expect(ssm.map((x: any) => x.Action)).toEqual([['ssm:GetParameter']]);
    expect(ssm[0].Resource).toHaveLength(1);
    // an output names the table for people and scripts
    expect(JSON.parse(s).output.llama_state_table.value).toMatch(/^\$\{aws_dynamodb_table\..*\.name\}$/);
  });

  test('alarms watch the canary target group: 5xx share by metric math, p99 response time; thresholds are props', () => {
    const s = synth({ alarms: { errorRate: 0.05, p99Latency: Duration.seconds(3), evaluationPeriods: 3 } });
    expect(s).toHaveResourceWithProperties(CloudwatchMetricAlarm, { alarm_name: 'llama-v2-5xx-share', threshold: 0.05, evaluation_periods: 3 });
    const latency = resources(s, 'aws_cloudwatch_metric_alarm').find((a) => a.alarm_name === 'llama-v2-p99-latency');
    expect(latency.threshold).toBe(3);
    expect(latency.metric_query.map((q: any) => [q.id, q.metric?.metric_name, q.metric?.stat])).toEqual([
      ['p99', 'TargetResponseTime', 'p99'], ['requests', 'RequestCount', 'Sum'], ['stable', 'TargetResponseTime', 'p99'], ['judged', undefined, undefined],
    ]);
  });

  test('the p99 alarm judges from minRequests requests a minute on and against stable\'s p99 over the same minute', () => {
    const s = synth({ alarms: { minRequests: 50, p99LatencyVsStable: 2 } });
    const latency = resources(s, 'aws_cloudwatch_metric_alarm').find((a) => a.alarm_name === 'llama-v2-p99-latency');
    const q = Object.fromEntries(latency.metric_query.map((x: any) => [x.id, x]));
    expect(q.judged).toMatchObject({ expression: 'IF(requests >= 50 AND p99 > 2 * FILL(stable, 0), p99, 0)', return_data: true });
    // the canary's target group, and stable's for the comparison
    expect(q.p99.metric.dimensions.TargetGroup).toMatch(/Rollout_Rule_TargetGroups_V2_.*\.arn_suffix/);
    expect(q.stable.metric.dimensions.TargetGroup).toMatch(/Rollout_Rule_TargetGroups_V1_.*\.arn_suffix/);
    expect(latency.extended_statistic).toBeUndefined();
  });

  test('addAlarm makes another alarm a check and lets the controller read it', () => {
    const s = synth({}, (r) => {
      r.addAlarm(new CloudwatchMetricAlarm(r, 'Queue', { alarmName: 'llama-queue-depth', comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 100 }));
    });
    const doc = JSON.parse(resources(s, 'aws_ssm_parameter').find((x) => x.name === '/model-rollout/llama/spec').value);
    expect(doc.spec.checks.map((c: any) => c.alarmName)).toContain('llama-queue-depth');
    const policy = JSON.parse(resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('DescribeAlarms')).policy);
    expect(policy.Statement.find((x: any) => x.Sid === 'ReadAlarms').Resource).toHaveLength(5);
  });

  test('the controller may read every alarm the spec judges, also those its checks name but it did not create', () => {
    // GIVEN a check on an alarm created elsewhere
    const s = synth({ checks: [Metric.cloudWatchAlarm('llama-xid-errors')] });
    // THEN DescribeAlarms allows it by ARN (a denied read would leave the canary unjudged)
    const policy = JSON.parse(resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('DescribeAlarms')).policy);
    const arns: string[] = policy.Statement.find((x: any) => x.Sid === 'ReadAlarms').Resource;
    const named = arns.filter((a) => a.endsWith(':alarm:llama-xid-errors'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/^arn:\$\{data\.aws_partition\..*:cloudwatch:\$\{data\.aws_region\..*\}:\$\{data\.aws_caller_identity\./);
  });

  test('a given role and log group serve the controller: the rollout creates neither and attaches its policy to the role', () => {
    // GIVEN a role and a log group the stack already has
    const s = Testing.synthScope((scope) => {
      const role = new IamRole(scope, 'OwnRole', { name: 'platform-rollout-controller', assumeRolePolicy: '{}' });
      const logGroup = new CloudwatchLogGroup(scope, 'OwnLogs', { name: '/platform/rollouts' });
      // WHEN the rollout is given them
      new AlbCanaryRollout(scope, 'Rollout', { ...props, controllerRole: role, controllerLogGroup: logGroup });
    });
    // THEN the function runs as the role and logs to the group
    const fn = resources(s, 'aws_lambda_function')[0];
    expect(fn.role).toMatch(/^\$\{aws_iam_role\.OwnRole\.arn\}$/);
    expect(fn.logging_config.log_group).toMatch(/^\$\{aws_cloudwatch_log_group\.OwnLogs\.name\}$/);
    expect(fn.depends_on).toEqual(['aws_cloudwatch_log_group.OwnLogs']);
    // only the scheduler's role and the given one; only the given log group
    expect(resources(s, 'aws_iam_role').map((r) => r.name ?? JSON.parse(r.assume_role_policy).Statement[0].Principal.Service).sort())
      .toEqual(['platform-rollout-controller', 'scheduler.amazonaws.com']);
    expect(resources(s, 'aws_cloudwatch_log_group').map((g) => g.name)).toEqual(['/platform/rollouts']);
    // the least-privilege policy goes on the given role, its log statement on the given group
    const policy = resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('dynamodb:'));
    expect(policy.role).toBe('${aws_iam_role.OwnRole.name}');
    expect(JSON.parse(policy.policy).Statement.find((x: any) => x.Sid === 'Logs').Resource).toEqual(['${aws_cloudwatch_log_group.OwnLogs.arn}:*']);
  });

  test('without a role or log group the rollout creates them: a role only Lambda may assume, a log group kept logRetention', () => {
    const s = synth({ logRetention: Duration.days(7) });
    expect(resources(s, 'aws_cloudwatch_log_group')).toEqual([expect.objectContaining({ name: '/aws/lambda/llama-rollout-controller', retention_in_days: 7 })]);
    const services = resources(s, 'aws_iam_role').map((r) => JSON.parse(r.assume_role_policy).Statement[0].Principal.Service).sort();
    expect(services).toEqual(['lambda.amazonaws.com', 'scheduler.amazonaws.com']);
    expect(resources(s, 'aws_lambda_function')[0].role).toMatch(/^\$\{aws_iam_role\.Rollout_Controller_Role_[0-9A-F]+\.arn\}$/);
  });

  test('no reserved concurrency by default (it fails the deploy in a new account), configurable; no async retries, late events dropped', () => {
    const s = synth();
    expect(resources(s, 'aws_lambda_function')[0].reserved_concurrent_executions).toBeUndefined();
    expect(resources(synth({ controllerReservedConcurrency: 1 }), 'aws_lambda_function')[0].reserved_concurrent_executions).toBe(1);
    expect(resources(s, 'aws_lambda_function_event_invoke_config')[0]).toMatchObject({ maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 });
  });

  test('the schedule waits for its invoke permission; its role trusts only this account; the Lambda may stop it by name', () => {
    const s = synth();
    const schedule = resources(s, 'aws_scheduler_schedule')[0];
    expect(schedule.depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\.Rollout_Controller_SchedulerPolicy/)]);
    const trust = (resources(s, 'aws_iam_role') as any[]).map((r) => JSON.parse(r.assume_role_policy)).find((d) => d.Statement[0].Principal.Service === 'scheduler.amazonaws.com');
    expect(trust.Statement[0].Condition.StringEquals['aws:SourceAccount']).toMatch(/data\.aws_caller_identity/);
    const policy = JSON.parse(resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('UpdateSchedule')).policy);
    expect(policy.Statement.find((x: any) => x.Sid === 'StopTicking').Resource[0]).toMatch(/:scheduler:.*:schedule\/default\/llama-rollout-tick$/);
  });

  test('default alarms catch a crashing canary: connection errors, unhealthy targets while serving, and a minimum request count', () => {
    const s = synth({ alarms: { minRequests: 50, connectionErrors: 3 } });
    const alarms = resources(s, 'aws_cloudwatch_metric_alarm');
    const share = alarms.find((a) => a.alarm_name === 'llama-v2-5xx-share');
    expect(share.metric_query.find((q: any) => q.id === 'share').expression).toBe('IF(requests >= 50, errors / requests, 0)');
    expect(alarms.find((a) => a.alarm_name === 'llama-v2-connection-errors')).toMatchObject({ metric_name: 'TargetConnectionErrorCount', threshold: 3 });
    const unhealthy = alarms.find((a) => a.alarm_name === 'llama-v2-unhealthy-targets');
    expect(unhealthy.metric_query.find((q: any) => q.return_data).expression).toBe('IF(requests > 0, unhealthy, 0)');
  });

  test('draining: a 5-minute deregistration delay by default and least outstanding requests', () => {
    const tgs = resources(synth(), 'aws_lb_target_group');
    expect(tgs.every((t) => t.deregistration_delay === '300' && t.load_balancing_algorithm_type === 'least_outstanding_requests')).toBe(true);
    expect(resources(synth({ deregistrationDelay: Duration.minutes(10) }), 'aws_lb_target_group')[0].deregistration_delay).toBe('600');
  });

  test('destroy protection puts prevent_destroy on the rollout\'s resources; it is off without it', () => {
    expect(resources(synth({ destroyProtection: true }), 'aws_lb_listener_rule')[0].lifecycle).toEqual({ ignore_changes: ['action'], prevent_destroy: true });
    expect(resources(synth({ destroyProtection: true }), 'aws_lb_target_group')[0].lifecycle).toEqual({ prevent_destroy: true });
    expect(resources(synth({}), 'aws_lb_listener_rule')[0].lifecycle).toEqual({ ignore_changes: ['action'] });
    // the state table: deletion protection in AWS as well as prevent_destroy in Terraform
    expect(resources(synth({ destroyProtection: true }), 'aws_dynamodb_table')[0]).toMatchObject({ deletion_protection_enabled: true, lifecycle: { prevent_destroy: true } });
    expect(resources(synth({}), 'aws_dynamodb_table')[0].deletion_protection_enabled).toBe(false);
  });

  test('writes the plan and the Lambda\'s deployment package beside the stack output', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'plan-stack');
    new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
    new AlbCanaryRollout(stack, 'Rollout', props);
    app.synth();
    const dir = path.join(app.outdir, 'stacks', 'plan-stack');
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'llama.rollout.json'), 'utf8')).plan;
    // `Steps.equal()` leaves its default shadow step out on an ALB (no mirroring): the plan is the ramp alone
    expect(plan.totalSeconds).toBe(1200);
    expect(plan.rows.some((r: any) => r.shadow !== undefined)).toBe(false);
    // the function's package: the build's reproducible zip, copied as a file (no zip made at synth), whose one entry
    // Info-ZIP's unzip reads back as the bundle, byte for byte
    const fn = resources(JSON.stringify(JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8'))), 'aws_lambda_function')[0];
    expect(fn.filename).toMatch(/^assets\/ModelRolloutControllerBundle\/[0-9A-F]+\/lambda\.zip$/);
    const zip = path.join(dir, fn.filename);
    expect(fs.readFileSync(zip)).toEqual(fs.readFileSync(BUNDLES.lambdaZip));
    if (!hasUnzip && !process.env.CI) {
      console.warn('SKIPPED: the Lambda package was not read back with unzip (apt-get install unzip); CI does');
      return;
    }
    expect(execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' })).toBe('index.js\n');
    expect(execFileSync('unzip', ['-p', zip, 'index.js'])).toEqual(fs.readFileSync(BUNDLES.lambda));
  });

  test.each([
    ['more than 5 versions on one rule', { canaries: ['v2', 'v3', 'v4', 'v5', 'v6'].map((version) => ({ version, weight: 10 })) },
      /^\[stack\/Rollout\] canaries: an ALB forward action splits between 5 target groups at most, and this rule would need 6 \(received 6\)/],
    ['weights over 100', { versions: [{ name: 'v1' }, { name: 'v2' }, { name: 'v3' }], canaries: [{ version: 'v2', weight: 60 }, { version: 'v3', weight: 50 }] },
      /canaries: canary weights add up to 110, over 100/],
    ['a name too long for target groups', { name: 'a-very-long-rollout-name-for-albs' }, /name: target group names are 32 characters at most/],
    ['a priority out of range', { priority: 0 }, /priority: listener rule priorities are whole numbers from 1 to 50000 \(received 0\)/],
    ['stickiness over 7 days', { stickiness: Duration.days(8) }, /stickiness: target-group stickiness lasts from 1 second to 7 days/],
    ['a shadow step (an ALB cannot mirror)', { steps: Steps.custom([Step.shadow(), Step.setWeight(10)]) },
      /^\[stack\/Rollout\] steps\[0\]: this target's router cannot mirror requests .* Fix: remove `Step.shadow\(\)`/],
  ])('rejects %s', (_name, p, message) => {
    expect(() => synth(p as Partial<AlbCanaryRolloutProps>)).toThrow(message);
  });

  test('a rollout with no alarm and no metric gate synthesizes with a warning', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'warn-stack');
    new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
    const r = new AlbCanaryRollout(stack, 'Rollout', { ...props, defaultAlarms: false });
    app.synth();
    const warnings = r.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings.join('\n')).toMatch(/\[warn-stack\/Rollout\] the rollout has no alarm and no metric gate/);
  });
});
