/**
 * AlbCanaryRollout as a production account sees it: a private EKS endpoint (the VPC Lambda's network-interface
 * permissions, the endpoint's security group), checks the Lambda cannot measure refused at synth, an inactive
 * environment refused, the progress deadline's node-launch margin, the plan built from the document the controller
 * reads, the operators' policy, the partition's hosts and the topic's encryption.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Chart, Duration, Testing as K8sTesting } from 'cdk8s';
import 'cdktf/lib/testing/adapters/jest';
import { App, TerraformStack, Testing } from 'cdktf';
import { AlbCanaryRollout, AlbCanaryRolloutProps } from '../../src/aws';
import { Environment, Model } from '../../src/k8s';
import { NODE_PROVISIONING_SECONDS } from '../../src/k8s/private/version-workload';
import { AnalysisGate, Gpu, GpuProduct, Metric, RolloutPlan, Step, Steps } from '../../src/rollout';
import { albRolloutProps } from '../support/alb-fixture';

Testing.setupJest();

const EKS = { clusterName: 'inference', endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: 'LS0t' };
const VPC = { subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-lambda'], clusterSecurityGroupId: 'sg-cluster' };
const resources = (s: string, type: string): any[] => Object.values(JSON.parse(s).resource[type] ?? {});
const controllerPolicy = (s: string) => JSON.parse(resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('ssm:GetParameter')).policy);
const synth = (p: Partial<AlbCanaryRolloutProps> = {}, extra?: (r: AlbCanaryRollout) => void) =>
  Testing.synthScope((scope) => {
    const r = new AlbCanaryRollout(scope, 'Rollout', albRolloutProps(p));
    extra?.(r);
  });

function environment(options: { active?: boolean; loadTimeout?: Duration } = {}) {
  const chart = new Chart(K8sTesting.app(), 'Llama', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', port: 8000, gpu: Gpu.nvidia({ product: GpuProduct.A10G }), loadTimeout: options.loadTimeout });
  model.addVersion('v2');
  return model.addEnvironment('production', { version: 'v1', active: options.active }) as Environment;
}

/**
 * The actions of the AWS managed policy AWSLambdaVPCAccessExecutionRole, without its log actions (the controller's
 * log statement grants those on its own log group).
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
 */
const LAMBDA_VPC_ACTIONS = [
  'ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses',
];

describe('AlbCanaryRollout in a production account', () => {
  test('a private cluster: the VPC Lambda gets exactly the documented network-interface actions, scoped as far as IAM allows', () => {
    const s = synth({ eks: { ...EKS, vpc: VPC } });
    const statements = controllerPolicy(s).Statement.filter((x: any) => x.Action.some((a: string) => a.startsWith('ec2:')));
    expect(statements.flatMap((x: any) => x.Action).sort()).toEqual(LAMBDA_VPC_ACTIONS);
    const resourcesOf = (action: string) => statements.find((x: any) => x.Action.includes(action)).Resource as string[];
    // the Describe calls accept only "*"; the rest name this region's and account's resources
    expect(resourcesOf('ec2:DescribeNetworkInterfaces')).toEqual(['*']);
    const create = resourcesOf('ec2:CreateNetworkInterface');
    expect(create.map((r) => r.replace(/^arn:\$\{[^}]+\}:ec2:\$\{[^}]+\}:\$\{[^}]+\}:/, ''))).toEqual(['network-interface/*', 'subnet/subnet-a', 'subnet/subnet-b', 'security-group/sg-lambda']);
    expect(resourcesOf('ec2:DeleteNetworkInterface')[0]).toMatch(/:ec2:\$\{data\.aws_region\..*\}:\$\{data\.aws_caller_identity\..*\}:\*\/\*$/);
    const fn = resources(s, 'aws_lambda_function')[0];
    expect(fn.vpc_config).toEqual({ subnet_ids: ['subnet-a', 'subnet-b'], security_group_ids: ['sg-lambda'] });
    // the endpoint's security group lets the function in on 443
    expect(resources(s, 'aws_vpc_security_group_ingress_rule')).toEqual([expect.objectContaining({
      security_group_id: 'sg-cluster', referenced_security_group_id: 'sg-lambda', ip_protocol: 'tcp', from_port: 443, to_port: 443,
    })]);
    // outside a VPC, none of it
    const pub = synth({ eks: EKS });
    expect(JSON.stringify(controllerPolicy(pub))).not.toContain('ec2:');
    expect(resources(pub, 'aws_vpc_security_group_ingress_rule')).toEqual([]);
  });

  test('a Prometheus check or gate is refused at synth with the fix (the Lambda cannot measure it)', () => {
    const p99 = Metric.prometheus({ name: 'p99', query: 'histogram_quantile(0.99, x)', threshold: 2 });
    expect(() => synth({ checks: [p99] })).toThrow(/checks\[0\].*judges CloudWatch alarms only.*"p99".*Metric\.cloudWatchAlarm/s);
    const gate = new AnalysisGate({ name: 'latency', metrics: [p99] });
    expect(() => synth({ steps: Steps.custom([Step.setWeight(10), Step.analysis(gate), Step.setWeight(100)]) })).toThrow(/steps\[1\]\.gate\.metrics\[0\]/);
    expect(() => synth({}, (r) => r.addCheck(p99))).toThrow(/judges CloudWatch alarms only/);
    // an alarm check is what it measures
    expect(() => synth({ checks: [Metric.cloudWatchAlarm('llama-slo')] })).not.toThrow();
  });

  test('an inactive environment is refused, as on Kubernetes', () => {
    expect(() => Testing.synthScope((scope) => new AlbCanaryRollout(scope, 'Rollout', {
      ...albRolloutProps({ versions: undefined, stableVersion: undefined }), environment: environment({ active: false }), eks: EKS,
    }))).toThrow(/environment "production" is inactive/);
  });

  test('the progress deadline has the node-launch margin of Kubernetes', () => {
    const deadline = (p: Partial<AlbCanaryRolloutProps>) => JSON.parse(resources(Testing.synthScope((scope) => {
      new AlbCanaryRollout(scope, 'Rollout', { ...albRolloutProps(), ...p });
    }), 'aws_ssm_parameter')[0].value).spec.progressDeadlineSeconds;
    // without an environment: the default load timeout (15 min) and a node launch (10 min)
    expect(deadline({})).toBe(15 * 60 + NODE_PROVISIONING_SECONDS);
    // with one: the canary's load timeout and a node launch
    const env40 = environment({ loadTimeout: Duration.minutes(40) });
    const withEnvironment = { versions: undefined, stableVersion: undefined, environment: env40, eks: EKS };
    expect(deadline(withEnvironment)).toBe(40 * 60 + NODE_PROVISIONING_SECONDS);
  });

  test('the plan is built from the document the controller reads: its checks are the alarms the controller judges', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'alb-plan-'));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'stack');
    new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
    const r = new AlbCanaryRollout(stack, 'Rollout', albRolloutProps({ checks: [Metric.cloudWatchAlarm('llama-slo')] }));
    app.synth();
    const tf = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'stack', 'cdk.tf.json'), 'utf8'));
    const doc = JSON.parse((Object.values(tf.resource.aws_ssm_parameter) as any[])[0].value);
    const plan = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'stack', 'llama.rollout.json'), 'utf8')).plan;
    const alarms = ['llama-slo', ...['5xx-share', 'connection-errors', 'unhealthy-targets', 'p99-latency'].map((a) => `llama-v2-${a}`)];
    expect(doc.spec.checks.map((c: any) => c.alarmName)).toEqual(alarms);
    expect(plan.safety.checks.map((c: any) => c.alarmName)).toEqual(alarms);
    expect(r.plan.specHash).toBe(RolloutPlan._fromSpec(doc.spec).specHash);
    expect(fs.readFileSync(path.join(outdir, 'stacks', 'stack', 'llama.rollout.md'), 'utf8')).not.toMatch(/checks at every tick: none/);
  });

  test('an alarm or check added after the plan was read still reaches the document and the plan', () => {
    let hashBefore = '';
    let hashAfter = '';
    const s = synth({}, (r) => {
      hashBefore = r.plan.specHash;
      r.addAlarm(new CloudwatchMetricAlarm(r, 'Queue', { alarmName: 'llama-queue-depth', comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 100 }));
      hashAfter = r.plan.specHash;
    });
    const doc = JSON.parse(resources(s, 'aws_ssm_parameter')[0].value);
    expect(doc.spec.checks.map((c: any) => c.alarmName)).toContain('llama-queue-depth');
    expect(hashAfter).not.toBe(hashBefore);
  });

  test('the Lambda writes only the state item; the operators get a policy output that writes only command items', () => {
    const s = synth();
    const operator = JSON.parse(JSON.parse(s).output.llama_operator_policy.value);
    const put = operator.Statement.find((x: any) => x.Action.includes('dynamodb:PutItem'));
    expect(put.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['command'] } });
    expect(operator.Statement.flatMap((x: any) => x.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'ssm:GetParameter']);
    const write = controllerPolicy(s).Statement.find((x: any) => x.Action.includes('dynamodb:PutItem'));
    expect(write.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['state'] } });
  });

  test('the Lambda signs for the hosts of its partition: the DNS suffix comes from aws_partition', () => {
    const fn = resources(synth(), 'aws_lambda_function')[0];
    expect(fn.environment.variables.ROLLOUT_AWS_DNS_SUFFIX).toMatch(/^\$\{data\.aws_partition\..*\.dns_suffix\}$/);
  });

  test('the notification topic is encrypted with KMS: the AWS managed key by default, or a given key the Lambda may use', () => {
    expect(resources(synth({ notificationTopic: true }), 'aws_sns_topic')[0].kms_master_key_id).toBe('alias/aws/sns');
    const key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const s = synth({ notificationTopic: true, notificationTopicKmsKey: key });
    expect(resources(s, 'aws_sns_topic')[0].kms_master_key_id).toBe(key);
    const publish = JSON.parse(resources(s, 'aws_iam_role_policy').find((x) => x.policy.includes('sns:Publish')).policy);
    expect(publish.Statement.find((x: any) => x.Resource.includes(key)).Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
  });
});
