import { AutoscalingGroupTagA } from '@cdktf/provider-aws/lib/autoscaling-group-tag';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Size } from 'cdk8s';
import { Construct } from 'constructs';
import * as errors from './errors';
import { GPU_PRODUCT_LABEL, NVIDIA_GPU_RESOURCE } from '../core/constants';
import { GpuProduct } from '../rollout/gpu';

/** The AMI of GPU nodes. */
export class GpuAmiType {
  /**
   * Amazon Linux 2023 with the NVIDIA driver. The NVIDIA Kubernetes device plugin is NOT included: install it
   * (Helm chart `nvdp/nvidia-device-plugin`, or the NVIDIA GPU Operator), or no node advertises `nvidia.com/gpu`
   * and GPU pods stay Pending.
   * @see https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html
   */
  public static readonly AL2023_NVIDIA = new GpuAmiType('AL2023_x86_64_NVIDIA');
  /**
   * Bottlerocket with the NVIDIA driver and the NVIDIA Kubernetes device plugin built in: GPU pods schedule with
   * nothing else installed.
   * @see https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html
   */
  public static readonly BOTTLEROCKET_NVIDIA = new GpuAmiType('BOTTLEROCKET_x86_64_NVIDIA');

  private constructor(
    /** The EKS AMI type. */
    public readonly value: string,
  ) {}
}

/** GPUs per instance of the sizes this library knows (for the cluster-autoscaler's scale-from-zero template). */
const GPUS_PER_INSTANCE: Record<string, number> = {
  'g4dn.xlarge': 1,
  'g4dn.2xlarge': 1,
  'g4dn.4xlarge': 1,
  'g4dn.8xlarge': 1,
  'g4dn.12xlarge': 4,
  'g4dn.16xlarge': 1,
  'g5.xlarge': 1,
  'g5.2xlarge': 1,
  'g5.4xlarge': 1,
  'g5.8xlarge': 1,
  'g5.12xlarge': 4,
  'g5.16xlarge': 1,
  'g5.24xlarge': 4,
  'g5.48xlarge': 8,
  'g6.xlarge': 1,
  'g6.2xlarge': 1,
  'g6.4xlarge': 1,
  'g6.8xlarge': 1,
  'g6.12xlarge': 4,
  'g6.16xlarge': 1,
  'g6.24xlarge': 4,
  'g6.48xlarge': 8,
  'g6e.xlarge': 1,
  'g6e.2xlarge': 1,
  'g6e.4xlarge': 1,
  'g6e.8xlarge': 1,
  'g6e.12xlarge': 4,
  'g6e.16xlarge': 1,
  'g6e.24xlarge': 4,
  'g6e.48xlarge': 8,
  'p4d.24xlarge': 8,
  'p4de.24xlarge': 8,
  'p5.48xlarge': 8,
  'p5e.48xlarge': 8,
  'p5en.48xlarge': 8,
};

/** Props of a `GpuNodeGroup`. */
export interface GpuNodeGroupProps {
  /** Name of the existing EKS cluster. */
  readonly clusterName: string;
  /** Subnets of the nodes. */
  readonly subnetIds: string[];
  /** GPU instance types, all of one GPU family (g5, g6, g6e, p4d, p5, ...). */
  readonly instanceTypes: string[];
  /**
   * Fewest nodes; 0 lets the group scale from zero.
   * @default 0
   */
  readonly minSize?: number;
  /**
   * Most nodes.
   * @default 4
   */
  readonly maxSize?: number;
  /**
   * Nodes at creation (the autoscaler owns it afterwards).
   * @default - minSize
   */
  readonly desiredSize?: number;
  /**
   * AMI.
   * @default GpuAmiType.BOTTLEROCKET_NVIDIA - the device plugin is built in
   */
  readonly amiType?: GpuAmiType;
  /**
   * Root disk (model images are large).
   * @default Size.gibibytes(200)
   */
  readonly diskSize?: Size;
  /**
   * Name of the node group.
   * @default - '<cluster>-gpu-<product>'
   */
  readonly nodeGroupName?: string;
  /**
   * Refuse to destroy the group (Terraform `prevent_destroy`): production capacity.
   * @default false
   */
  readonly destroyProtection?: boolean;
}

/**
 * An EKS managed node group of GPU instances: GPU AMI, the `nvidia.com/gpu` NoSchedule taint, the GPU product
 * label Model pods select on (`model-rollout.dev/gpu-product`), scaling from zero, an update config, a node role
 * with the policies EKS nodes need, and the cluster-autoscaler node-template tags.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html
 */
export class GpuNodeGroup extends Construct {
  /** The GPU product of the nodes. */
  public readonly product: GpuProduct;
  /** The node group. */
  public readonly resource: EksNodeGroup;
  /** The node role. */
  public readonly nodeRole: IamRole;

  constructor(scope: Construct, id: string, props: GpuNodeGroupProps) {
    super(scope, id);
    const p = this.node.path;
    const known = GpuProduct.all().flatMap((x) => x.instanceFamilies).join(', ');
    const products = props.instanceTypes.map((t, i) => {
      const product = GpuProduct.fromInstanceFamily(t.split('.')[0]);
      if (!product) throw errors.notGpuInstanceType(p, `instanceTypes[${i}]`, t, known);
      return product;
    });
    if (products.length === 0) throw errors.notGpuInstanceType(p, 'instanceTypes', '', known);
    if (new Set(products.map((x) => x.name)).size > 1) throw errors.mixedGpuProducts(p, 'instanceTypes', props.instanceTypes);
    this.product = products[0];
    const min = props.minSize ?? 0;
    const max = props.maxSize ?? 4;
    for (const [prop, v] of [['minSize', min], ['maxSize', max]] as const) {
      if (!Number.isInteger(v) || v < 0) throw errors.nodeGroupSizeInvalid(p, prop, v);
    }
    if (min > max) throw errors.nodeGroupMinAboveMax(p, 'minSize', min, max);
    const desired = props.desiredSize ?? min;

    this.nodeRole = new IamRole(this, 'NodeRole', {
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    for (const policy of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']) {
      new IamRolePolicyAttachment(this, policy, { role: this.nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` });
    }

    const gpus = Math.max(...props.instanceTypes.map((t) => GPUS_PER_INSTANCE[t] ?? 0));
    const label = this.product.name;
    const nodeGroupName = props.nodeGroupName ?? `${props.clusterName}-gpu-${label.toLowerCase()}`;
    if (nodeGroupName.length > 63) throw errors.nodeGroupNameTooLong(p, props.nodeGroupName ? 'nodeGroupName' : 'clusterName', nodeGroupName);
    // the cluster-autoscaler builds a node template from these when the group is at zero
    const templateTags: Record<string, string> = {
      'k8s.io/cluster-autoscaler/enabled': 'true',
      [`k8s.io/cluster-autoscaler/${props.clusterName}`]: 'owned',
      [`k8s.io/cluster-autoscaler/node-template/label/${GPU_PRODUCT_LABEL}`]: label,
      [`k8s.io/cluster-autoscaler/node-template/taint/${NVIDIA_GPU_RESOURCE}`]: 'true:NoSchedule',
      ...(gpus > 0 ? { [`k8s.io/cluster-autoscaler/node-template/resources/${NVIDIA_GPU_RESOURCE}`]: String(gpus) } : {}),
    };
    this.resource = new EksNodeGroup(this, 'Resource', {
      clusterName: props.clusterName,
      nodeGroupName,
      nodeRoleArn: this.nodeRole.arn,
      subnetIds: props.subnetIds,
      instanceTypes: props.instanceTypes,
      amiType: (props.amiType ?? GpuAmiType.BOTTLEROCKET_NVIDIA).value,
      capacityType: 'ON_DEMAND',
      diskSize: (props.diskSize ?? Size.gibibytes(200)).toGibibytes(),
      scalingConfig: { minSize: min, maxSize: max, desiredSize: desired },
      updateConfig: { maxUnavailable: 1 },
      labels: { [GPU_PRODUCT_LABEL]: label },
      taint: [{ key: NVIDIA_GPU_RESOURCE, value: 'true', effect: 'NO_SCHEDULE' }],
      tags: templateTags,
      lifecycle: {
        // the autoscaler moves desired size; Terraform must not move it back
        ignoreChanges: ['scaling_config[0].desired_size'],
        preventDestroy: props.destroyProtection ?? false,
      },
    });
    // A managed node group's tags stay on the node group: the cluster-autoscaler reads its node template from the
    // Auto Scaling group's tags, so the template tags go there too (EKS tags the group for discovery only).
    // https://docs.aws.amazon.com/eks/latest/userguide/autoscaling.html
    const asgName = this.resource.resources.get(0).autoscalingGroups.get(0).name;
    const asgTags = new Construct(this, 'AutoScalingGroupTags');
    for (const [key, value] of Object.entries(templateTags).filter(([k]) => k.includes('/node-template/'))) {
      new AutoscalingGroupTagA(asgTags, key.split('/').slice(2).join('-').replace(/[^A-Za-z0-9-]/g, '-'), {
        autoscalingGroupName: asgName,
        tag: { key, value, propagateAtLaunch: false },
      });
    }
  }
}
