/**
 * Upgrading the aws-eks-gpu example from the previous release (the commit before environment names, a1cb4f4^):
 * its cdk.tf.json, synthesized once by test/aws/fixtures/generate-previous-release.sh, against this release's
 * synthesis of the same stack. Terraform plans a replacement where an argument that forces a new resource
 * changes at the same address; a protected resource (`prevent_destroy`) planned for replacement fails the plan.
 * Which arguments force a new resource, per type, from the providers' schemas (`ForceNew`):
 * - aws_lb_target_group: name, name_prefix, port, protocol, protocol_version, target_type, vpc_id, ip_address_type
 *   (terraform-provider-aws internal/service/elbv2/target_group.go)
 * - aws_ssm_parameter: name (internal/service/ssm/parameter.go)
 * - aws_dynamodb_table: name, hash_key, range_key (internal/service/dynamodb/table.go)
 * - aws_lb_listener_rule: listener_arn (internal/service/elbv2/listener_rule.go)
 * - aws_eks_access_entry: cluster_name, principal_arn (internal/service/eks/access_entry.go)
 * - kubernetes_manifest: apiVersion, kind, metadata.name, metadata.namespace (terraform-provider-kubernetes
 *   manifest/provider/plan.go, `RequiresReplace`)
 * A resource block removed from the configuration is destroyed whatever its `prevent_destroy` said ("this setting
 * does not prevent the remote object from being destroyed if the resource block were removed from configuration
 * entirely"): https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Chart, Duration, App as K8sApp, Size } from 'cdk8s';
import { App, TerraformStack } from 'cdktf';
import { AlbCanaryRollout, GpuNodeGroup, KubernetesManifests } from '../../src/aws';
import { Model } from '../../src/k8s';
import { Gpu, GpuProduct, Steps } from '../../src/rollout';

const FORCE_NEW: Record<string, (r: any) => unknown[]> = {
  aws_lb_target_group: (r) => [r.name, r.name_prefix, r.port, r.protocol, r.protocol_version, r.target_type, r.vpc_id, r.ip_address_type],
  aws_ssm_parameter: (r) => [r.name],
  aws_dynamodb_table: (r) => [r.name, r.hash_key, r.range_key],
  aws_lb_listener_rule: (r) => [r.listener_arn],
  aws_eks_access_entry: (r) => [r.cluster_name, r.principal_arn],
  kubernetes_manifest: (r) => [r.manifest.apiVersion, r.manifest.kind, r.manifest.metadata.name, r.manifest.metadata.namespace],
};

type Resources = Record<string, any>;
const byAddress = (tf: any): Resources => Object.fromEntries(Object.entries(tf.resource as Record<string, Record<string, any>>)
  .flatMap(([type, rs]) => Object.entries(rs).map(([id, r]) => [`${type}.${id}`, r])));

/** Addresses of the previous release's protected resources this release would replace, and those it dropped. */
function protectedReplacements(previous: Resources, next: Resources): { replaced: string[]; missing: string[] } {
  const prior = Object.keys(previous).filter((a) => previous[a].lifecycle?.prevent_destroy === true);
  const kept = prior.filter((a) => next[a]);
  const replaced = kept.filter((a) => {
    const forceNew = FORCE_NEW[a.split('.')[0]];
    expect(forceNew).toBeDefined();
    return JSON.stringify(forceNew(previous[a])) !== JSON.stringify(forceNew(next[a]));
  });
  return { replaced, missing: prior.filter((a) => !next[a]) };
}

/**
 * The previous release's example stack, as its user wrote it (examples/aws-eks-gpu/main.ts at a1cb4f4^, same
 * construct ids and props), synthesized with this release's constructs.
 */
function synthesize(options: { environmentInNames?: boolean }): Resources {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-upgrade-'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'gpu-inference');
  const cluster = { name: 'inference', endpoint: 'https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com', ca: 'LS0tLS1CRUdJTi...' };
  const subnetIds = ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88'];
  new AwsProvider(stack, 'Aws', { region: 'us-east-1' });
  new KubernetesProvider(stack, 'Kubernetes', { host: cluster.endpoint, clusterCaCertificate: cluster.ca });
  new GpuNodeGroup(stack, 'A10G', { clusterName: cluster.name, subnetIds, instanceTypes: ['g5.2xlarge', 'g5.4xlarge'], minSize: 0, maxSize: 4 });
  const chart = new Chart(new K8sApp(), 'Llama', { namespace: 'models', disableResourceNameHashes: true });
  const llama = new Model(chart, 'Llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3', memory: Size.gibibytes(24), gpu: Gpu.nvidia({ count: 1, product: GpuProduct.A10G }) });
  llama.addVersion('v2', { image: 'vllm/vllm-openai:v0.6.4' });
  const production = llama.addEnvironment('production', { version: 'v1', autoscaling: { minReplicas: 2, maxReplicas: 4 } });
  new AlbCanaryRollout(stack, 'Rollout', {
    name: 'llama',
    listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/inference/50dc6c495c0c9188/f2f7dc8efc522ab2',
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    priority: 100,
    hostHeaders: ['llama.example.com'],
    canaries: [{ version: 'v2' }],
    steps: Steps.equal({ count: 10, over: Duration.minutes(20) }),
    alarms: { errorRate: 0.01, p99Latency: Duration.seconds(8) },
    environment: production,
    eks: { clusterName: cluster.name, endpoint: cluster.endpoint, certificateAuthority: cluster.ca },
    ...options,
  });
  new KubernetesManifests(stack, 'Workloads', { charts: [chart] });
  app.synth();
  return byAddress(JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'gpu-inference', 'cdk.tf.json'), 'utf8')));
}

describe('upgrading an AWS rollout from the previous release', () => {
  const previous = byAddress(JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'previous-release.cdk.tf.json'), 'utf8')));

  test('the previous release\'s output is the fixture: protected target groups, spec parameter, bindings and workloads', () => {
    const protectedTypes = Object.keys(previous).filter((a) => previous[a].lifecycle?.prevent_destroy === true).map((a) => a.split('.')[0]);
    expect([...new Set(protectedTypes)].sort()).toEqual(['aws_lb_listener_rule', 'aws_lb_target_group', 'aws_ssm_parameter', 'kubernetes_manifest']);
  });

  test('with the default names, Terraform would replace the protected target groups and spec parameter (the plan refuses)', () => {
    const { replaced } = protectedReplacements(previous, synthesize({}));
    expect(replaced.map((a) => a.replace(/_[0-9A-F]{8}$/, '')).sort()).toEqual([
      'aws_lb_target_group.Rollout_Rule_TargetGroups_V1', 'aws_lb_target_group.Rollout_Rule_TargetGroups_V2', 'aws_ssm_parameter.Rollout_Controller_Spec',
    ]);
  });

  test('with environmentInNames: false, no protected resource is replaced; only the old state parameter goes (its block is gone)', () => {
    // https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy
    const next = synthesize({ environmentInNames: false });
    const { replaced, missing } = protectedReplacements(previous, next);
    expect(replaced).toEqual([]);
    expect(missing.map((a) => a.replace(/_[0-9A-F]{8}$/, ''))).toEqual(['aws_ssm_parameter.Rollout_Controller_State']);
    // the addresses did not move between the releases: no `moved` block is needed
    const unprotectedGone = Object.keys(previous).filter((a) => !next[a] && !missing.includes(a));
    expect(unprotectedGone).toEqual([]);
  });
});
