import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../support/paths';

/** Actions AWS offers no resource-level permissions for: "*" is the narrowest resource these accept. */
const NO_RESOURCE_LEVEL = new Set(['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth']);

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
      'aws_lb_listener_rule', 'aws_lb_target_group', 'aws_scheduler_schedule', 'aws_ssm_parameter', 'kubernetes_manifest',
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
        if (resources.some((r) => r.includes('*') && !/^\$\{.*\}:\*$/.test(r))) {
          // only the Describe calls without resource-level permissions may use "*"
          expect(resources).toEqual(['*']);
          for (const a of actions) expect(NO_RESOURCE_LEVEL.has(a)).toBe(true);
        }
      }
    }
    console.log(`examples/aws-eks-gpu: ${documents.length} IAM documents, ${statements} statements checked`);
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
