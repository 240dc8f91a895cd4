import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { workloadPolicyRules } from './rbac';
import {
  ANNOTATION_SPEC_HASH, ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_PROMETHEUS_URL, ENV_CONTROLLER_SPEC_CONFIGMAP,
  ENV_CONTROLLER_STATE_CONFIGMAP, LABEL_ROLLOUT, specConfigMapName, stateConfigMapName, STATE_KEY_SPEC, STATE_KEY_TARGET,
} from '../../core/constants';
import { KubernetesTarget } from '../../core/contract/target';
import { specHash } from '../../core/plan/plan';
import { RolloutSpec } from '../../core/spec';
import { readBundle } from '../../private/bundles';

/** Props of a `StepController`. */
export interface StepControllerProps {
  /**
   * Stock Node.js image that runs the bundled controller (no custom image to build).
   * @default 'node:22-alpine'
   */
  readonly image?: string;
  /**
   * Prometheus the metric gates query.
   * @default - none: the spec must have no Prometheus metric
   */
  readonly prometheusUrl?: string;
  /**
   * Name of the ServiceAccount, Role, RoleBinding and CronJob (CronJob names are limited to 52 characters).
   * @default '<rollout>-rollout-controller'
   */
  readonly controllerName?: string;
}

/** What the controller works on (internal data of the rollout). */
interface ControllerTarget {
  /** The spec, read when the manifests render (checks may be added after construction). */
  readonly spec: () => RolloutSpec;
  readonly target: KubernetesTarget;
}

/**
 * The in-cluster step controller of one rollout: a CronJob ticking every minute that runs the controller bundled
 * with this package (shipped in a ConfigMap, run by a stock Node image), a ServiceAccount, a Role limited by
 * `resourceNames` to this rollout's objects with only the verbs the controller uses, the spec ConfigMap (owned by
 * the manifests) and the state ConfigMap (synthesized empty: only the controller writes its data, so re-applying
 * the manifests never resets a rollout).
 */
export class StepController extends Construct {
  /** Name of the spec ConfigMap. */
  public readonly specConfigMapName: string;
  /** Name of the state ConfigMap. */
  public readonly stateConfigMapName: string;
  /** Name of the ServiceAccount, Role, RoleBinding and CronJob. */
  public readonly controllerName: string;
  /** Size of the bundled controller in bytes. */
  public readonly bundleBytes: number;

  constructor(scope: Construct, id: string, props: StepControllerProps & { readonly rollout: ControllerTarget }) {
    super(scope, id);
    const { spec, target } = props.rollout;
    const ns = target.namespace;
    const name = spec().name;
    this.specConfigMapName = specConfigMapName(name);
    this.stateConfigMapName = stateConfigMapName(name);
    this.controllerName = props.controllerName ?? `${name}-rollout-controller`;
    const labels = { [LABEL_ROLLOUT]: name, 'app.kubernetes.io/managed-by': 'cdk-model-rollout', 'app.kubernetes.io/component': 'step-controller' };
    const metadata = (n: string) => ({ name: n, namespace: ns, labels });

    const bundle = readBundle('kubernetes', this.node.path);
    this.bundleBytes = bundle.bytes;

    new k8s.KubeConfigMap(this, 'Spec', {
      metadata: { ...metadata(this.specConfigMapName), annotations: { [ANNOTATION_SPEC_HASH]: Lazy.any({ produce: () => specHash(spec()) }) } },
      data: { [STATE_KEY_SPEC]: Lazy.any({ produce: () => JSON.stringify(spec()) }), [STATE_KEY_TARGET]: JSON.stringify(target) },
    });
    // no data on purpose: the controller writes state.json, the CLI command.json; apply never touches them
    new k8s.KubeConfigMap(this, 'State', { metadata: metadata(this.stateConfigMapName) });
    new k8s.KubeConfigMap(this, 'Code', {
      metadata: metadata(this.controllerName),
      data: { 'controller.js': bundle.source },
    });

    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: metadata(this.controllerName), automountServiceAccountToken: true });

    const rules: k8s.PolicyRule[] = [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [this.specConfigMapName], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [this.stateConfigMapName], verbs: ['get', 'patch'] },
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], resourceNames: [target.httpRoute], verbs: ['get', 'patch'] },
      ...workloadPolicyRules(Object.values(target.backends)),
    ];
    new k8s.KubeRole(this, 'Role', { metadata: metadata(this.controllerName), rules });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: metadata(this.controllerName),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.controllerName },
      subjects: [{ kind: 'ServiceAccount', name: this.controllerName, namespace: ns }],
    });

    const env = [
      { name: ENV_CONTROLLER_NAMESPACE, value: ns },
      { name: ENV_CONTROLLER_SPEC_CONFIGMAP, value: this.specConfigMapName },
      { name: ENV_CONTROLLER_STATE_CONFIGMAP, value: this.stateConfigMapName },
      ...(props.prometheusUrl ? [{ name: ENV_CONTROLLER_PROMETHEUS_URL, value: props.prometheusUrl }] : []),
    ];
    new k8s.KubeCronJob(this, 'Resource', {
      metadata: metadata(this.controllerName),
      spec: {
        schedule: '* * * * *',
        // one tick at a time; a tick that could not start within 50 s is skipped, the next one comes
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 50,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: 55,
            ttlSecondsAfterFinished: 600,
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: this.controllerName,
                restartPolicy: 'Never',
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
                containers: [{
                  name: 'controller',
                  image: props.image ?? 'node:22-alpine',
                  command: ['node', '/controller/controller.js'],
                  env,
                  resources: {
                    requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('64Mi') },
                    limits: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('128Mi') },
                  },
                  securityContext: {
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    runAsNonRoot: true,
                    capabilities: { drop: ['ALL'] },
                    seccompProfile: { type: 'RuntimeDefault' },
                  },
                  volumeMounts: [{ name: 'code', mountPath: '/controller', readOnly: true }],
                }],
                volumes: [{ name: 'code', configMap: { name: this.controllerName } }],
              },
            },
          },
        },
      },
    });
  }
}
