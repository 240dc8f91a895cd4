/**
 * AlbCanaryRollout with a Kubernetes environment (shipped through the bridge): what it derives from the
 * environment, the controller's Kubernetes identity, the bindings' networking, names per environment, and the
 * mistakes caught at synth.
 */
import { Chart, Testing as K8sTesting } from 'cdk8s';
// typings of the matchers Testing.setupJest() registers
import 'cdktf/lib/testing/adapters/jest';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { AlbCanaryRollout, AlbCanaryRolloutProps, KubernetesManifests } from '../../src/aws';
import { Environment, Model } from '../../src/k8s';
import { Gpu, GpuProduct } from '../../src/rollout';

Testing.setupJest();

const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2';
const EKS = { clusterName: 'inference', endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', certificateAuthority: 'LS0t' };

function environments() {
  const chart = new Chart(K8sTesting.app(), 'Llama', { namespace: 'models' });
  const model = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3', port: 8000, healthPath: '/health', gpu: Gpu.nvidia({ product: GpuProduct.A10G }) });
  model.addVersion('v2');
  const production = model.addEnvironment('production', { version: 'v1', autoscaling: { minReplicas: 2 } }) as Environment;
  const staging = model.addEnvironment('staging', { version: 'v1' }) as Environment;
  return { chart, production, staging };
}

function rollout(scope: Construct, id: string, env: Environment, extra: Partial<AlbCanaryRolloutProps> = {}) {
  return new AlbCanaryRollout(scope, id, { name: 'llama', listenerArn: LISTENER, vpcId: 'vpc-1', priority: 100, canaries: [{ version: 'v2' }], environment: env, eks: EKS, ...extra });
}

const resources = (s: string, type: string): any[] => Object.values(JSON.parse(s).resource[type] ?? {});

describe('AlbCanaryRollout with an environment', () => {
  test('derives versions, ports, health paths, GPUs, the stable version and destroy protection from the environment', () => {
    const { production } = environments();
    const s = Testing.synthScope((scope) => { rollout(scope, 'Rollout', production); });
    const tgs = resources(s, 'aws_lb_target_group');
    expect(tgs.map((t) => [t.name, t.port, t.health_check.path])).toEqual([['llama-production-v1', 8000, '/health'], ['llama-production-v2', 8000, '/health']]);
    expect(tgs.every((t) => t.lifecycle?.prevent_destroy === true)).toBe(true);
    expect(resources(s, 'aws_dynamodb_table')[0]).toMatchObject({ deletion_protection_enabled: true, lifecycle: { prevent_destroy: true } });
    const doc = JSON.parse(resources(s, 'aws_ssm_parameter').find((p) => p.name.endsWith('/spec')).value);
    expect(doc.spec.stable).toBe('v1');
    expect(doc.spec.stableReplicas).toBe(2);
    expect(doc.spec.versions).toEqual([{ name: 'v1', gpusPerReplica: 1, gpuProduct: 'A10G' }, { name: 'v2', gpusPerReplica: 1, gpuProduct: 'A10G' }]);
  });

  test('staging and production of one model coexist in an account: every name carries the environment', () => {
    const { production, staging } = environments();
    const s = Testing.synthScope((scope) => {
      rollout(scope, 'Production', production);
      rollout(scope, 'Staging', staging, { priority: 101 });
    });
    const names = [
      ...resources(s, 'aws_lb_target_group').map((t) => t.name),
      ...resources(s, 'aws_ssm_parameter').map((p) => p.name),
      ...resources(s, 'aws_dynamodb_table').map((t) => t.name),
      ...resources(s, 'aws_lambda_function').map((f) => f.function_name),
      ...resources(s, 'aws_scheduler_schedule').map((x) => x.name),
      ...resources(s, 'aws_cloudwatch_metric_alarm').map((a) => a.alarm_name),
    ];
    expect(new Set(names).size).toBe(names.length);
    expect(resources(s, 'aws_lambda_function').map((f) => f.function_name).sort()).toEqual(['llama-production-rollout-controller', 'llama-staging-rollout-controller']);
    expect(resources(s, 'aws_dynamodb_table').map((t) => t.name).sort()).toEqual(['model-rollout-llama-production', 'model-rollout-llama-staging']);
  });

  test('the controller has a Kubernetes identity: an access entry mapping its role to a group bound to a Role limited by name', () => {
    const { production } = environments();
    const s = Testing.synthScope((scope) => { rollout(scope, 'Rollout', production); });
    const [entry] = resources(s, 'aws_eks_access_entry');
    expect(entry).toMatchObject({ cluster_name: 'inference', type: 'STANDARD', kubernetes_groups: ['model-rollout:llama-production-rollout-controller'] });
    expect(entry.principal_arn).toMatch(/aws_iam_role\.Rollout_Controller_Role_.*\.arn/);
    const manifests = resources(s, 'kubernetes_manifest').map((m) => m.manifest);
    const role = manifests.find((m) => m.kind === 'Role');
    expect(role.metadata).toMatchObject({ name: 'llama-production-rollout-controller', namespace: 'models' });
    expect(role.rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['llama-production-v1', 'llama-production-v2'], verbs: ['get'] },
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], resourceNames: ['llama-production-v1', 'llama-production-v2'], verbs: ['get', 'patch'] },
    ]);
    const binding = manifests.find((m) => m.kind === 'RoleBinding');
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'model-rollout:llama-production-rollout-controller' }]);
  });

  test('a private cluster endpoint: the controller runs in the given subnets', () => {
    const { production } = environments();
    const s = Testing.synthScope((scope) => { rollout(scope, 'Rollout', production, { eks: { ...EKS, vpc: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] } } }); });
    expect(resources(s, 'aws_lambda_function')[0].vpc_config).toEqual({ subnet_ids: ['subnet-1'], security_group_ids: ['sg-1'] });
  });

  test('the bindings open the pods to the load balancer\'s security group; without it a warning names the prerequisite', () => {
    const { production } = environments();
    const s = Testing.synthScope((scope) => { rollout(scope, 'Rollout', production, { loadBalancerSecurityGroupId: 'sg-alb' }); });
    const bindings = resources(s, 'kubernetes_manifest').map((m) => m.manifest).filter((m) => m.kind === 'TargetGroupBinding');
    expect(bindings).toHaveLength(2);
    expect(bindings[0].spec.networking).toEqual({ ingress: [{ from: [{ securityGroup: { groupID: 'sg-alb' } }], ports: [{ port: 8000, protocol: 'TCP' }] }] });
    const r = rollout(new TerraformStack(Testing.app(), 'stack'), 'Rollout', environments().production);
    expect(r.node.metadata.map((m) => String(m.data)).join('\n')).toMatch(/no loadBalancerSecurityGroupId: the TargetGroupBindings carry no networking rules/);
  });

  test.each([
    ['an environment without EKS access', (scope: Construct) => rollout(scope, 'Rollout', environments().production, { eks: undefined }),
      /eks: the rollout raises the replica floors of environment "production" through the EKS API, and no cluster is given/],
    ['the bridge created before the rollout', (scope: Construct) => {
      const { chart, production } = environments();
      new KubernetesManifests(scope, 'Workloads', { charts: [chart] });
      rollout(scope, 'Rollout', production);
    }, /environment: the chart of this environment was already rendered into Terraform by .*Workloads.*Fix: create the KubernetesManifests bridge after every rollout/],
    ['two rollouts with one priority on one listener', (scope: Construct) => {
      const { production, staging } = environments();
      rollout(scope, 'Production', production);
      rollout(scope, 'Staging', staging);
    }, /priority: .*Production already uses this priority on the same listener/],
  ])('rejects %s', (_name, build, message) => {
    expect(() => Testing.synthScope((scope) => { build(scope); })).toThrow(message);
  });
});
