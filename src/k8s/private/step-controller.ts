/**
 * The in-cluster step controller, shared by every rollout of a namespace (issue: one tick per namespace):
 *
 * - per namespace, once (`NamespaceController`): a ServiceAccount, the bundled controller in a ConfigMap named by
 *   the bundle's hash (reviewers see the hash, not 22 KB of minified code per rollout), and one CronJob ticking
 *   every minute that ticks every rollout it serves;
 * - per rollout (`StepController`): the spec ConfigMap (owned by the manifests), the state ConfigMap (synthesized
 *   empty: only the controller writes its data), and a Role limited by `resourceNames` to this rollout's objects,
 *   bound to the namespace's ServiceAccount.
 *
 * How the controller learns which rollouts it serves: it asks the API server what it may do
 * (`SelfSubjectRulesReview`, allowed to every authenticated user by the default `system:basic-user` role) and
 * takes the spec ConfigMaps its Roles name. Each rollout adds its own Role and RoleBinding, so two apps (or
 * teams) sharing a namespace never overwrite each other's list, least privilege holds (no `list` on ConfigMaps),
 * and removing a rollout's objects removes it from the controller.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
import { Chart, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { notificationPolicyRules, workloadPolicyRules } from './rbac';
import {
  ANNOTATION_BUNDLE_SHA256, ANNOTATION_SPEC_HASH, ENV_CONTROLLER_NAMESPACE, LABEL_MANAGED_BY, LABEL_ROLLOUT, MANAGED_BY,
  specConfigMapName, stateConfigMapName, STATE_KEY_SPEC, STATE_KEY_TARGET,
} from '../../core/constants';
import { KubernetesTarget } from '../../core/contract/target';
import { NotifierConfig, STATE_KEY_NOTIFY } from '../../core/notifications';
import { specHash } from '../../core/plan/plan';
import { RolloutSpec } from '../../core/spec';
import { readBundle } from '../../private/bundles';
import * as errors from '../errors';
import { PrometheusConnectionMounts } from './prometheus-connection';

/** The Job of one CronJob run ends this long after it started, before the next run (a minute later). */
const RUN_DEADLINE_SECONDS = 58;

/** Name of the namespace controller's ServiceAccount and CronJob. */
const NAMESPACE_CONTROLLER_NAME = 'model-rollout-controller';
const COMPONENT = { [LABEL_MANAGED_BY]: MANAGED_BY, 'app.kubernetes.io/component': 'step-controller' };

/** Props of a `StepController`. */
export interface StepControllerProps {
  /** Stock Node.js image that runs the bundled controller (no custom image to build). */
  readonly image: string;
  /** Prometheus' CA and credentials, mounted into the namespace's controller pod. */
  readonly prometheus?: PrometheusConnectionMounts;
}

/** What the controller works on (internal data of the rollout). */
interface ControllerTarget {
  /** The spec, read when the manifests render (checks may be added after construction). */
  readonly spec: () => RolloutSpec;
  readonly target: KubernetesTarget;
  /** Where phase changes are posted (webhook, Slack): written only when there are some. */
  readonly notifications?: readonly NotifierConfig[];
}

/** One rollout's part: its spec and state ConfigMaps, and its grant to the namespace's controller. */
export class StepController extends Construct {
  /** Name of the spec ConfigMap. */
  public readonly specConfigMapName: string;
  /** Name of the state ConfigMap. */
  public readonly stateConfigMapName: string;
  /** Name of the namespace's ServiceAccount and CronJob. */
  public readonly controllerName = NAMESPACE_CONTROLLER_NAME;
  /** Size of the bundled controller in bytes (shipped once per namespace). */
  public readonly bundleBytes: number;

  constructor(scope: Construct, id: string, props: StepControllerProps & { readonly rollout: ControllerTarget }) {
    super(scope, id);
    const { spec, target } = props.rollout;
    const notifications = props.rollout.notifications ?? [];
    const ns = target.namespace;
    const name = spec().name;
    this.specConfigMapName = specConfigMapName(name);
    this.stateConfigMapName = stateConfigMapName(name);
    const labels = { [LABEL_ROLLOUT]: name, ...COMPONENT };
    const metadata = (n: string) => ({ name: n, namespace: ns, labels });
    this.bundleBytes = NamespaceController.of(this, ns, props.image, props.prometheus).bundleBytes;

    new k8s.KubeConfigMap(this, 'Spec', {
      metadata: { ...metadata(this.specConfigMapName), annotations: { [ANNOTATION_SPEC_HASH]: Lazy.any({ produce: () => specHash(spec()) }) } },
      data: {
        [STATE_KEY_SPEC]: Lazy.any({ produce: () => JSON.stringify(spec()) }),
        [STATE_KEY_TARGET]: JSON.stringify(target),
        ...(notifications.length > 0 ? { [STATE_KEY_NOTIFY]: JSON.stringify(notifications) } : {}),
      },
    });
    // no data on purpose: the controller writes state.json, the CLI command.json; apply never touches them
    new k8s.KubeConfigMap(this, 'State', { metadata: metadata(this.stateConfigMapName) });

    const grant = `${name}-rollout`;
    const rules: k8s.PolicyRule[] = [
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [this.specConfigMapName], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [this.stateConfigMapName], verbs: ['get', 'patch'] },
      { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], resourceNames: [target.httpRoute], verbs: ['get', 'patch'] },
      ...workloadPolicyRules(Object.values(target.backends)),
      ...notificationPolicyRules(notifications.flatMap((n) => (n.urlSecret ? [n.urlSecret.name] : []))),
      // Kubernetes Events about the rollout's objects (phase changes), created by the controller
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ];
    new k8s.KubeRole(this, 'Role', { metadata: metadata(grant), rules });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: metadata(grant),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: grant },
      subjects: [{ kind: 'ServiceAccount', name: NAMESPACE_CONTROLLER_NAME, namespace: ns }],
    });
  }
}

/** The controller of one namespace within one chart: created by the first rollout of that namespace. */
class NamespaceController extends Construct {
  /** The namespace controller of `namespace` in the chart of `scope` (created with `image` on first use). */
  public static of(scope: Construct, namespace: string, image: string, prometheus?: PrometheusConnectionMounts): NamespaceController {
    const chart = Chart.of(scope);
    const id = `ModelRolloutController-${namespace}`;
    const existing = chart.node.tryFindChild(id) as NamespaceController | undefined;
    if (existing) {
      if (existing.image !== image) throw errors.controllerImageConflict(scope.node.path, 'controllerImage', image, existing.image, namespace);
      if ((existing.prometheus?.key ?? '') !== (prometheus?.key ?? '')) throw errors.prometheusConnectionConflict(scope.node.path, 'prometheusConnection', namespace);
      return existing;
    }
    return new NamespaceController(chart, id, namespace, image, prometheus);
  }

  public readonly bundleBytes: number;

  private constructor(
    scope: Construct, id: string, namespace: string, public readonly image: string, public readonly prometheus?: PrometheusConnectionMounts,
  ) {
    super(scope, id);
    const bundle = readBundle('kubernetes', this.node.path);
    this.bundleBytes = bundle.bytes;
    const labels = { ...COMPONENT, 'app.kubernetes.io/name': NAMESPACE_CONTROLLER_NAME };
    // named by content: a new library version ships a new ConfigMap (and a one-line change in the CronJob)
    const codeName = `${NAMESPACE_CONTROLLER_NAME}-${bundle.sha256.slice(0, 10)}`;
    new k8s.KubeConfigMap(this, 'Code', {
      metadata: { name: codeName, namespace, labels, annotations: { [ANNOTATION_BUNDLE_SHA256]: bundle.sha256 } },
      data: { 'controller.js': bundle.source },
    });
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { name: NAMESPACE_CONTROLLER_NAME, namespace, labels }, automountServiceAccountToken: true });
    new k8s.KubeCronJob(this, 'Resource', {
      metadata: { name: NAMESPACE_CONTROLLER_NAME, namespace, labels },
      spec: {
        schedule: '* * * * *',
        // One run a minute, at most one at a time. Within a run the controller ticks every rollout once, then keeps
        // ticking the rollouts in progress every `tickInterval` (10 s by default) until 50 s past its start
        // (controller/k8s/main.ts, runMinute): an idle namespace's pod exits after one tick, a rollout in progress
        // keeps one pod up about 55 s a minute. A run that could not start within 50 s is skipped (the next comes).
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 50,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            // a run is bounded: its last tick starts by 50 s after the pod started and the Job ends at 58 s, before
            // the next run at 60 s (Forbid never has to skip one); a stuck tick is ended, the next run repairs
            activeDeadlineSeconds: RUN_DEADLINE_SECONDS,
            ttlSecondsAfterFinished: 600,
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: NAMESPACE_CONTROLLER_NAME,
                restartPolicy: 'Never',
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
                containers: [{
                  name: 'controller',
                  image,
                  command: ['node', '/controller/controller.js'],
                  env: [{ name: ENV_CONTROLLER_NAMESPACE, value: namespace }, ...(prometheus?.env ?? [])],
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
                  volumeMounts: [{ name: 'code', mountPath: '/controller', readOnly: true }, ...(prometheus?.volumeMounts ?? [])],
                }],
                volumes: [{ name: 'code', configMap: { name: codeName } }, ...(prometheus?.volumes ?? [])],
              },
            },
          },
        },
      },
    });
  }
}
