import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ANNOTATION_CONTROLLER_OWNED } from '../core/constants';
import { configError } from '../core/errors';
import { enclosingEnvironment } from '../k8s/private/hosts';

/** Props of `KubernetesManifests`. */
export interface KubernetesManifestsProps {
  /** The cdk8s charts whose objects go into this stack. */
  readonly charts: Chart[];
}

const BRIDGES = new WeakMap<Chart, string>();

/** The path of the bridge that rendered `chart`, if one did. */
export function bridgeOf(chart: Chart): string | undefined {
  return BRIDGES.get(chart);
}

/**
 * Places cdk8s charts' objects into the Terraform stack as `kubernetes_manifest` resources, so one
 * `cdktf deploy` ships node groups, workloads and controllers. Fields the step controller owns (annotated
 * `model-rollout.dev/controller-owned-fields`: route rules, replica floors) are computed fields: while their
 * value in the code does not change, the plan takes them from the cluster and the apply re-sends the
 * controller's live values. The provider writes with server-side apply as field manager "Terraform"; the
 * controller's writes own those fields, so a manifest that CHANGES one of them (the code moves the environment
 * to the promoted version, a new spec) would fail the deploy with a 409 conflict (terraform-provider-kubernetes
 * manifest/provider/apply.go: the apply sends the manifest's value for a changed computed field, with
 * `force_conflicts` false by default). The bridge therefore sets `field_manager { force_conflicts = true }`:
 * such a deploy writes the manifest's safe state, which the controller replaces within a tick (as
 * `kubectl apply` does). The price: forcing also takes fields the manifest carries from any other writer (an
 * autoscaler's `replicas` where the manifest sets them). Objects of an environment with `destroyProtection`
 * (production by default) carry `prevent_destroy`. A kubernetes provider must be configured by the stack.
 * Create the bridge after every model, environment and rollout of its charts: it renders them when created, and a
 * chart that changes afterwards fails validation.
 * @see https://registry.terraform.io/providers/hashicorp/kubernetes/latest/docs/resources/manifest
 */
export class KubernetesManifests extends Construct {
  /** The manifests, by `<kind>/<namespace>/<name>`. */
  public readonly manifests: { [key: string]: Manifest } = {};

  constructor(scope: Construct, id: string, props: KubernetesManifestsProps) {
    super(scope, id);
    for (const chart of props.charts) {
      BRIDGES.set(chart, this.node.path);
      // which objects an environment with destroy protection renders (told by construct, not by label or name)
      const protectedKeys = new Set<string>();
      for (const c of chart.node.findAll()) {
        if (!(c instanceof ApiObject) || !enclosingEnvironment(c)?.destroyProtection) continue;
        protectedKeys.add(`${c.kind}/${c.metadata.namespace ?? '_'}/${c.name}`);
      }
      const objects = chart.toJson() as any[];
      // objects (or controller-owned marks) added to the chart after this point would be missing from Terraform
      const rendered = JSON.stringify(objects);
      this.node.addValidation({
        validate: () => {
          const now = chart.toJson() as any[];
          if (JSON.stringify(now) === rendered) return [];
          const before = new Map(objects.map((o) => [objectKey(o), JSON.stringify(o)]));
          const changed = now.filter((o) => before.get(objectKey(o)) !== JSON.stringify(o)).map(objectKey);
          // cdktf prefixes validation messages with the construct path itself
          return [chartChangedAfterBridge(this.node.path, 'charts', chart.node.path, changed).withoutPath];
        },
      });
      for (const obj of objects) {
        const key = objectKey(obj);
        const owned = String(obj.metadata.annotations?.[ANNOTATION_CONTROLLER_OWNED] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const production = protectedKeys.has(key);
        this.manifests[key] = new Manifest(this, key.replace(/[^A-Za-z0-9]+/g, '-'), {
          manifest: obj,
          computedFields: ['metadata.labels', 'metadata.annotations', ...owned],
          // without force a deploy whose manifest changes a controller-owned field fails with a conflict (see above)
          fieldManager: { forceConflicts: true },
          lifecycle: production ? { preventDestroy: true } : undefined,
        });
      }
    }
  }
}

function objectKey(obj: any): string {
  return `${obj.kind}/${obj.metadata.namespace ?? '_'}/${obj.metadata.name}`;
}

/** The chart gained or changed objects after the bridge rendered it. */
function chartChangedAfterBridge(path: string, property: string, chart: string, changed: string[]) {
  return configError(path, property, chart, `the chart changed after this bridge rendered it into Terraform (${changed.slice(0, 5).join(', ') || 'object order'}`
    + `${changed.length > 5 ? ', ...' : ''}), so Terraform would deploy it without those objects or without the fields the step controller owns marked as computed`,
  'create the KubernetesManifests bridge after every model, environment and rollout of its charts');
}
