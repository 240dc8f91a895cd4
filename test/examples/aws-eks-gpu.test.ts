import * as fs from 'fs';
import * as path from 'path';
import { BUNDLES } from '../../src/private/bundles';
import { REPO_ROOT } from '../support/paths';

/** Actions AWS offers no resource-level permissions for: "*" is the narrowest resource these accept. */
const NO_RESOURCE_LEVEL = new Set([
  'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth',
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
  'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
]);
/**
 * Resource patterns of the VPC Lambda's network interfaces: any interface of the account and region (Lambda creates
 * them; their IDs are unknown beforehand), and all resources for DeleteNetworkInterface as the Lambda guide documents.
 */
const ACCOUNT_WIDE = /^arn:\$\{[^}]+\}:ec2:\$\{[^}]+\}:\$\{[^}]+\}:(network-interface\/\*|\*\/\*)$/;

/**
 * The IAM action of each SDK client package the Lambda bundle requires: `<prefix>:<command without "Command">`.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
const ACTION_PREFIX: Record<string, string> = {
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-scheduler': 'scheduler',
  '@aws-sdk/client-ssm': 'ssm',
};
/**
 * Permissions a call needs besides its own action: UpdateSchedule passes the schedule's role to EventBridge Scheduler.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
 */
const IMPLIED: Record<string, string[]> = { 'scheduler:UpdateSchedule': ['iam:PassRole'] };
/**
 * Query API calls the bundle signs itself (`aws/sigv4.ts`), by service and `Action`. STS GetCallerIdentity (the EKS
 * token) needs no permission: "No permissions are required to perform this operation."
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
const SIGNED_CALLS: Array<{ pattern: RegExp; action?: string }> = [
  { pattern: /\["Action","Publish"\]/, action: 'sns:Publish' },
  { pattern: /\{Action:"GetCallerIdentity"/ },
];

/** The IAM actions the shipped Lambda bundle calls: each `new <x>.<Name>Command` of a required client, and its signed calls. */
function bundleActions(source: string): string[] {
  const modules = [...new Set([...source.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]))];
  const commands = [...new Set([...source.matchAll(/new [A-Za-z_$][\w$]*\.(\w+)Command\b/g)].map((m) => m[1]))];
  const actions = commands.map((name) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const owner = modules.filter((m) => typeof require(m)[`${name}Command`] === 'function');
    expect(owner).toHaveLength(1);
    expect(ACTION_PREFIX[owner[0]]).toBeDefined();
    return `${ACTION_PREFIX[owner[0]]}:${name}`;
  });
  const signed = SIGNED_CALLS.map((c) => {
    expect(source).toMatch(c.pattern);
    return c.action;
  }).filter((a): a is string => !!a);
  return [...new Set([...actions, ...actions.flatMap((a) => IMPLIED[a] ?? []), ...signed])].sort();
}

describe('examples/aws-eks-gpu', () => {
  // a fresh output: files left by an earlier run must not answer for this one
  fs.rmSync(path.join(REPO_ROOT, 'examples', 'aws-eks-gpu', 'dist'), { recursive: true, force: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { outdir } = require('../../examples/aws-eks-gpu/main');
  const stackDir = path.join(outdir, 'stacks', 'gpu-inference');
  const tf = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));

  test('synthesizes cdk.tf.json and the rollout plan without a terraform binary', () => {
    expect(Object.keys(tf.resource).sort()).toEqual([
      'aws_autoscaling_group_tag', 'aws_cloudwatch_log_group', 'aws_cloudwatch_metric_alarm', 'aws_dynamodb_table', 'aws_eks_access_entry', 'aws_eks_node_group',
      'aws_iam_role', 'aws_iam_role_policy', 'aws_iam_role_policy_attachment', 'aws_lambda_function', 'aws_lambda_function_event_invoke_config',
      'aws_lb_listener_rule', 'aws_lb_target_group', 'aws_scheduler_schedule', 'aws_sns_topic', 'aws_ssm_parameter', 'aws_vpc_security_group_ingress_rule',
      'kubernetes_manifest',
    ]);
    // the rollout's names carry its environment (staging and production of one model coexist in an account)
    expect(fs.readdirSync(stackDir).filter((f) => f.includes('.rollout.'))).toEqual(['llama-production.rollout.json', 'llama-production.rollout.md']);
    const plan = JSON.parse(fs.readFileSync(path.join(stackDir, 'llama-production.rollout.json'), 'utf8')).plan;
    expect(plan.totalSeconds).toBe(1200);
    const kinds = (Object.values(tf.resource.kubernetes_manifest) as any[]).map((m) => m.manifest.kind);
    expect(kinds.filter((k) => k === 'TargetGroupBinding')).toHaveLength(2);
  });

  test('every IAM policy document: no wildcard action, and "*" resources only where the API accepts nothing narrower', () => {
    const documents: any[] = [
      ...(Object.values(tf.resource.aws_iam_role_policy) as any[]).map((p) => JSON.parse(p.policy)),
      ...(Object.values(tf.resource.aws_iam_role) as any[]).map((r) => JSON.parse(r.assume_role_policy)),
    ];
    expect(documents.length).toBeGreaterThanOrEqual(5);
    let statements = 0;
    for (const doc of documents) {
      for (const st of doc.Statement) {
        statements++;
        const actions: string[] = [].concat(st.Action);
        const resources: string[] = st.Resource === undefined ? [] : [].concat(st.Resource);
        for (const a of actions) expect(a).not.toMatch(/\*/);
        if (resources.some((r) => r.includes('*') && !/^\$\{.*\}:\*$/.test(r) && !ACCOUNT_WIDE.test(r))) {
          // only the Describe calls without resource-level permissions may use "*"
          expect(resources).toEqual(['*']);
          for (const a of actions) expect(NO_RESOURCE_LEVEL.has(a)).toBe(true);
        }
      }
    }
    console.log(`examples/aws-eks-gpu: ${documents.length} IAM documents, ${statements} statements checked`);
  });

  test('the controller role allows every AWS call the shipped Lambda bundle makes, and the VPC Lambda its network interfaces', () => {
    const actions = bundleActions(fs.readFileSync(BUNDLES.lambda, 'utf8'));
    expect(actions.length).toBeGreaterThanOrEqual(12);
    const fn = Object.values(tf.resource.aws_lambda_function)[0] as any;
    const role = fn.role.replace(/\.arn\}$/, '.name}');
    const allowed = (Object.values(tf.resource.aws_iam_role_policy) as any[]).filter((p) => p.role === role)
      .flatMap((p) => JSON.parse(p.policy).Statement).filter((st: any) => st.Effect === 'Allow').flatMap((st: any): string[] => [].concat(st.Action));
    expect(actions.filter((a) => !allowed.includes(a))).toEqual([]);
    // nothing granted that the bundle does not call, but the network interfaces Lambda manages for a VPC function
    expect(allowed.filter((a: string) => !actions.includes(a) && !a.startsWith('ec2:') && !a.startsWith('logs:'))).toEqual([]);
    expect(fn.vpc_config.subnet_ids).toHaveLength(2);
    console.log(`examples/aws-eks-gpu: ${actions.length} actions the Lambda bundle calls, all allowed: ${actions.join(', ')}`);
  });

  test('the Kubernetes provider asks aws eks get-token for the cluster\'s region', () => {
    expect(tf.provider.kubernetes[0].exec[0].args).toEqual(expect.arrayContaining(['--region', 'us-east-1']));
  });

  test('providers come from the example stack, not from the library constructs', () => {
    expect(Object.keys(tf.provider).sort()).toEqual(['aws', 'kubernetes']);
  });

  test('the Kubernetes provider gets the cluster CA decoded (PEM), and the backend path is relative', () => {
    expect(tf.provider.kubernetes[0].cluster_ca_certificate).toMatch(/^\$\{base64decode\("LS0t/);
    expect(path.isAbsolute(tf.terraform.backend.local.path)).toBe(false);
  });

  test('probes, target groups and the server agree on the port vLLM listens on', () => {
    const tgs = Object.values(tf.resource.aws_lb_target_group) as any[];
    expect(tgs.every((t) => t.port === 8000)).toBe(true);
    const deployment = (Object.values(tf.resource.kubernetes_manifest) as any[]).map((m) => m.manifest).find((m) => m.kind === 'Deployment');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toEqual(expect.arrayContaining(['--port', '8000', '--max-model-len']));
    expect(container.readinessProbe.httpGet.port).toBe(8000);
  });
});
