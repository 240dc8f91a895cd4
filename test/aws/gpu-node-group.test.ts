import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
// typings of the matchers Testing.setupJest() registers
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { GpuAmiType, GpuNodeGroup } from '../../src/aws';

Testing.setupJest();

const base = { clusterName: 'inference', subnetIds: ['subnet-1', 'subnet-2'] };

describe('GpuNodeGroup', () => {
  test('the node-template tags also go on the Auto Scaling group, where the cluster-autoscaler reads them', () => {
    const s = JSON.parse(Testing.synthScope((scope) => { new GpuNodeGroup(scope, 'A10G', { ...base, instanceTypes: ['g5.12xlarge'] }); }));
    const tags = Object.values(s.resource.aws_autoscaling_group_tag) as any[];
    expect(tags.map((t) => t.tag.key).sort()).toEqual([
      'k8s.io/cluster-autoscaler/node-template/label/model-rollout.dev/gpu-product',
      'k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu',
      'k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu',
    ]);
    expect(tags.every((t) => /aws_eks_node_group\.A10G_.*\.resources\[0\]\.autoscaling_groups\[0\]\.name/.test(t.autoscaling_group_name))).toBe(true);
  });

  test('rejects a node group name over 63 characters', () => {
    expect(() => Testing.synthScope((scope) => {
      new GpuNodeGroup(scope, 'A10G', { ...base, clusterName: 'a-cluster-name-that-is-rather-long-for-a-node-group-name', instanceTypes: ['g5.xlarge'] });
    })).toThrow(/clusterName: node group names are 63 characters at most/);
  });

  test('is a managed node group of GPU instances with the taint, the product label, scale from zero and autoscaler tags', () => {
    const synthesized = Testing.synthScope((scope) => {
      new GpuNodeGroup(scope, 'A10G', { ...base, instanceTypes: ['g5.2xlarge', 'g5.12xlarge'], maxSize: 6 });
    });
    expect(synthesized).toHaveResourceWithProperties(EksNodeGroup, {
      cluster_name: 'inference',
      node_group_name: 'inference-gpu-a10g',
      // Bottlerocket NVIDIA includes the device plugin; AL2023 NVIDIA does not
      ami_type: 'BOTTLEROCKET_x86_64_NVIDIA',
      instance_types: ['g5.2xlarge', 'g5.12xlarge'],
      scaling_config: { min_size: 0, max_size: 6, desired_size: 0 },
      update_config: { max_unavailable: 1 },
      labels: { 'model-rollout.dev/gpu-product': 'A10G' },
      taint: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NO_SCHEDULE' }],
      tags: {
        'k8s.io/cluster-autoscaler/enabled': 'true',
        'k8s.io/cluster-autoscaler/inference': 'owned',
        'k8s.io/cluster-autoscaler/node-template/label/model-rollout.dev/gpu-product': 'A10G',
        'k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu': 'true:NoSchedule',
        'k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu': '4',
      },
      lifecycle: { ignore_changes: ['scaling_config[0].desired_size'], prevent_destroy: false },
    });
    for (const policy of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']) {
      expect(synthesized).toHaveResourceWithProperties(IamRolePolicyAttachment, { policy_arn: `arn:aws:iam::aws:policy/${policy}` });
    }
  });

  test('AL2023 NVIDIA is the other AMI (with the device plugin installed by the cluster)', () => {
    const synthesized = Testing.synthScope((scope) => {
      new GpuNodeGroup(scope, 'H100', { ...base, instanceTypes: ['p5.48xlarge'], amiType: GpuAmiType.AL2023_NVIDIA, destroyProtection: true });
    });
    expect(synthesized).toHaveResourceWithProperties(EksNodeGroup, { ami_type: 'AL2023_x86_64_NVIDIA', labels: { 'model-rollout.dev/gpu-product': 'H100' } });
  });

  test.each([
    ['a non-GPU instance type', { instanceTypes: ['m5.xlarge'] },
      /^\[stack\/Bad\] instanceTypes\[0\]: "m5\.xlarge" is not a GPU instance type this library knows .*\(received "m5\.xlarge"\)\. Fix: use a GPU instance type such as g5\.2xlarge/],
    ['mixed GPU products', { instanceTypes: ['g5.xlarge', 'g6.xlarge'] }, /instanceTypes: the instance types carry different GPU products/],
    ['min above max', { instanceTypes: ['g5.xlarge'], minSize: 5, maxSize: 2 }, /minSize: the node group's minimum size is above its maximum \(received minSize 5 > maxSize 2\)\. Fix: lower minSize to 2 at most/],
  ])('rejects %s', (_name, props, message) => {
    expect(() => Testing.synthScope((scope) => { new GpuNodeGroup(scope, 'Bad', { ...base, ...props }); })).toThrow(message);
  });
});
