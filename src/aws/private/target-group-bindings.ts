/**
 * AWS Load Balancer Controller TargetGroupBindings: each version's Service registers its pods in the version's
 * target group. Rendered as `kubernetes_manifest` resources, because a binding needs the target group's ARN.
 * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/targetgroupbinding/targetgroupbinding/
 */
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { Construct } from 'constructs';
import { KubernetesBackend } from '../../core/contract/target';
import { pascalCase } from '../../core/names';

/** Props of `TargetGroupBindings`. */
export interface TargetGroupBindingsProps {
  readonly namespace: string;
  /** The versions' Kubernetes objects. */
  readonly backends: { [version: string]: KubernetesBackend };
  /** The versions' target group ARNs. */
  readonly targetGroupArns: { [version: string]: string };
  readonly lifecycle?: { preventDestroy: boolean };
  /** The load balancer's security group: the controller opens the pods to it on the Service's port. */
  readonly loadBalancerSecurityGroupId?: string;
}

export class TargetGroupBindings extends Construct {
  constructor(scope: Construct, id: string, props: TargetGroupBindingsProps) {
    super(scope, id);
    for (const [version, backend] of Object.entries(props.backends)) {
      new Manifest(this, pascalCase(version), {
        manifest: {
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name: backend.service, namespace: props.namespace },
          spec: {
            serviceRef: { name: backend.service, port: backend.port },
            targetGroupARN: props.targetGroupArns[version],
            targetType: 'ip',
            // the AWS Load Balancer Controller adds an ingress rule from the ALB to the pods' security group
            ...(props.loadBalancerSecurityGroupId ? {
              networking: { ingress: [{ from: [{ securityGroup: { groupID: props.loadBalancerSecurityGroupId } }], ports: [{ port: backend.port, protocol: 'TCP' }] }] },
            } : {}),
          },
        },
        lifecycle: props.lifecycle,
      });
    }
  }
}
