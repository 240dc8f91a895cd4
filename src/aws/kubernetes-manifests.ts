import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ANNOTATION_CONTROLLER_OWNED, LABEL_ENVIRONMENT } from '../core/constants';

/** Props of `KubernetesManifests`. */
export interface KubernetesManifestsProps {
  /** The cdk8s charts whose objects go into this stack. */
  readonly charts: Chart[];
  /**
   * Opt out of `prevent_destroy` on objects of production environments.
   * @default false
   */
  readonly allowDestroyProduction?: boolean;
}

/**
 * Places cdk8s charts' objects into the Terraform stack as `kubernetes_manifest` resources, so one
 * `cdktf deploy` ships node groups, workloads and controllers. Fields the step controller owns (annotated
 * `model-rollout.dev/controller-owned-fields`: route rules, replica floors) are computed fields, so Terraform
 * accepts the controller's values instead of fighting them. Objects of production environments carry
 * `prevent_destroy` unless `allowDestroyProduction` is set. A kubernetes provider must be configured by the stack.
 * @see https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs/resources/manifest
 */
export class KubernetesManifests extends Construct {
  /** The manifests, by `<kind>/<namespace>/<name>`. */
  public readonly manifests: { [key: string]: Manifest } = {};

  constructor(scope: Construct, id: string, props: KubernetesManifestsProps) {
    super(scope, id);
    for (const chart of props.charts) {
      for (const obj of chart.toJson() as any[]) {
        const key = `${obj.kind}/${obj.metadata.namespace ?? '_'}/${obj.metadata.name}`;
        const owned = String(obj.metadata.annotations?.[ANNOTATION_CONTROLLER_OWNED] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const production = obj.metadata.labels?.[LABEL_ENVIRONMENT] === 'production';
        this.manifests[key] = new Manifest(this, key.replace(/[^A-Za-z0-9]+/g, '-'), {
          manifest: obj,
          computedFields: ['metadata.labels', 'metadata.annotations', ...owned],
          lifecycle: production && !props.allowDestroyProduction ? { preventDestroy: true } : undefined,
        });
      }
    }
  }
}
