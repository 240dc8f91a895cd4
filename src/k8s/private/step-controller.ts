/**
 * The in-cluster step controller, shared by the rollouts of one app (chart) in a namespace:
 *
 * - per chart and namespace, once (`NamespaceController`): a ServiceAccount, the bundled controller in a ConfigMap
 *   named by the bundle's hash, the list of rollouts it owns (a ConfigMap), and one CronJob ticking every minute.
 *   Its objects are named after the chart (`model-rollout-controller-<chart id>`), so two apps (Argo CD
 *   Applications, Flux Kustomizations, kubectl directories) in one namespace each own their controller: neither
 *   overwrites the other's bundle, Prometheus credentials or CronJob, and deleting or pruning one app leaves the
 *   other's rollouts ticking. Different library versions coexist the same way (each app ships its own bundle).
 * - per rollout (`StepController`): the spec ConfigMap (owned by the manifests), the state ConfigMap (synthesized
 *   empty: only the controller writes its data), and a Role limited by `resourceNames` to this rollout's objects,
 *   bound to its app's ServiceAccount.
 *
 * Which rollouts a controller ticks: those its app lists (the owner ConfigMap, re-applied with every sync) and its
 * ServiceAccount may read (`SelfSubjectRulesReview`, allowed to every authenticated user by the default
 * `system:basic-user` role). A rollout removed from the code leaves the list at the next sync, so it stops being
 * ticked even when its Role was not pruned; least privilege holds (no `list` on ConfigMaps).
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
import { Chart, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { PrometheusConnectionMounts } from './prometheus-connection';
import { notificationPolicyRules, workloadPolicyRules } from './rbac';
import {
  ANNOTATION_BUNDLE_SHA256, ANNOTATION_SPEC_HASH, CONTROLLER_KEY_ROLLOUTS, ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_ROLLOUTS_CONFIGMAP,
  LABEL_MANAGED_BY, LABEL_ROLLOUT, MANAGED_BY,
  specConfigMapName, stateConfigMapName, STATE_KEY_SPEC, STATE_KEY_TARGET,
} from '../../core/constants';
import { LISTED_KINDS } from '../../core/contract/listed-kinds';
import { KubernetesTarget } from '../../core/contract/target';
import { hashString } from '../../core/hash';
import { NotifierConfig, STATE_KEY_NOTIFY } from '../../core/notifications';
import { specHash } from '../../core/plan/plan';
import { RolloutSpec } from '../../core/spec';
import { readBundle } from '../../private/bundles';
import * as errors from '../errors';

/**
 * Backstop for a hung run: the Job is ended this long after it started. The controller ends its own run about 55 s
 * after its process started (controller/k8s/main.ts, RUN_SECONDS), which is later than the Job's start by the
 * scheduling and image pull; a deadline under a minute would kill a late pod mid-pass. A run that outlasts the
 * minute only delays the next one (concurrencyPolicy Forbid, started late within startingDeadlineSeconds).
 */
const RUN_DEADLINE_SECONDS = 110;

/**
 * The controller's V8 old-space limit (MiB), within the container's 192Mi: 1,000 rollouts peaked at 157 MiB of
 * resident memory with this heap (bench/results/namespace.md), Node itself taking about 45 MiB.
 */
const HEAP_MIB = 64;

/** SIGTERM to SIGKILL: the controller stops starting rollouts at SIGTERM and exits once the ticks under way end. */
const TERMINATION_GRACE_SECONDS = 10;

/**
 * The rollouts one controller ticks (bench/results/namespace.md): at its 250m CPU a pass of about 500 rollouts in
 * progress fits a 10 s tick (about 4 ms of CPU each, most of it their 9 Prometheus queries); up to this many, with
 * fewer in progress at once, passes stay within the minute and ticks of the rest stretch fairly. Another chart shards.
 */
export const MAX_ROLLOUTS_PER_CONTROLLER = 1000;

/** Prefix of the controllers' names; the chart's id follows. */
const CONTROLLER_NAME_PREFIX = 'model-rollout-controller';

/** CronJob names are at most 52 characters (the Job controller appends an 11-character suffix). */
const CRONJOB_NAME_MAX = 52;

/**
 * The controller's name for the chart with id `chartId`: `model-rollout-controller-<id>` in DNS-label form; an id
 * too long for a CronJob name is cut and suffixed with its hash (still unique per chart id).
 */
export function controllerNameOf(chartId: string): string {
  const id = chartId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart';
  const room = CRONJOB_NAME_MAX - CONTROLLER_NAME_PREFIX.length - 1;
  if (id.length <= room) return `${CONTROLLER_NAME_PREFIX}-${id}`;
  const cut = id.slice(0, room - 9).replace(/-+$/, '');
  return `${CONTROLLER_NAME_PREFIX}-${cut}-${hashString(chartId).slice(0, 8)}`;
}
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
  /** Name of the ServiceAccount and CronJob of the controller that ticks this rollout (its chart's). */
  public readonly controllerName: string;
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
    const controller = NamespaceController.of(this, ns, props.image, props.prometheus);
    controller.own(name, this.node.path);
    this.bundleBytes = controller.bundleBytes;
    this.controllerName = controller.name;

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
      subjects: [{ kind: 'ServiceAccount', name: this.controllerName, namespace: ns }],
    });
  }
}

/** The controller of one namespace within one chart (one app): created by the first rollout of that namespace. */
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
  /** Name of its ServiceAccount, CronJob and owner list (`<name>-rollouts`). */
  public readonly name: string;
  private readonly owned = new Set<string>();

  private constructor(
    scope: Construct, id: string, namespace: string, public readonly image: string, public readonly prometheus?: PrometheusConnectionMounts,
  ) {
    super(scope, id);
    const bundle = readBundle('kubernetes', this.node.path);
    this.bundleBytes = bundle.bytes;
    this.name = controllerNameOf(Chart.of(this).node.id);
    const name = this.name;
    const labels = { ...COMPONENT, 'app.kubernetes.io/name': name };
    // named by content: a new library version ships a new ConfigMap (and a one-line change in the CronJob)
    const codeName = `${name}-${bundle.sha256.slice(0, 10)}`;
    new k8s.KubeConfigMap(this, 'Code', {
      metadata: { name: codeName, namespace, labels, annotations: { [ANNOTATION_BUNDLE_SHA256]: bundle.sha256 } },
      data: { 'controller.js': bundle.source },
    });
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { name, namespace, labels }, automountServiceAccountToken: true });
    this.renderOwnerList(namespace, labels);
    this.renderCronJob(namespace, labels, codeName);
  }

  /** Enrol rollout `rollout` (construct `path`) in this controller's owner list, within its stated capacity. */
  public own(rollout: string, path: string): void {
    this.owned.add(rollout);
    if (this.owned.size > MAX_ROLLOUTS_PER_CONTROLLER) {
      throw errors.tooManyRolloutsPerController(path, 'chart', this.owned.size, MAX_ROLLOUTS_PER_CONTROLLER, this.name);
    }
  }

  /** The owner list (rendered late: every rollout of the chart is in it) and the controller's grant to read it. */
  private renderOwnerList(namespace: string, labels: Record<string, string>): void {
    const list = `${this.name}-rollouts`;
    new k8s.KubeConfigMap(this, 'Rollouts', {
      metadata: { name: list, namespace, labels },
      data: { [CONTROLLER_KEY_ROLLOUTS]: Lazy.any({ produce: () => JSON.stringify([...this.owned].sort()) }) },
    });
    new k8s.KubeRole(this, 'Role', {
      metadata: { name: list, namespace, labels },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [list], verbs: ['get'] },
        // one list per kind per pass (controller/k8s/snapshot.ts): reads grow with the kinds, not the rollouts. A
        // list cannot be limited by name, so this reads every ConfigMap, Deployment, HTTPRoute, ScaledObject and HPA
        // of the namespace (Secrets stay granted by name only); the controller asks for the library's label only.
        ...LISTED_KINDS.map((k) => ({ apiGroups: [k.group], resources: [k.resource], verbs: ['list'] })),
      ],
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: { name: list, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: list },
      subjects: [{ kind: 'ServiceAccount', name: this.name, namespace }],
    });
  }

  private renderCronJob(namespace: string, labels: Record<string, string>, codeName: string): void {
    const { image, prometheus, name } = this;
    new k8s.KubeCronJob(this, 'Resource', {
      metadata: { name, namespace, labels },
      spec: {
        schedule: '* * * * *',
        // One run a minute, at most one at a time. Within a run the controller ticks every rollout once, then keeps
        // ticking the rollouts in progress every `tickInterval` (10 s by default) until 50 s past its process start
        // (controller/k8s/main.ts, runMinute): an idle namespace's pod exits after one tick, a rollout in progress
        // keeps one pod up about 55 s a minute. A run that could not start within 50 s is skipped (the next comes).
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 50,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            // a run bounds itself (its last tick starts by 50 s after its process started, and it ends by 55 s);
            // this deadline only ends a hung run, and a run killed here is repaired by the next
            activeDeadlineSeconds: RUN_DEADLINE_SECONDS,
            ttlSecondsAfterFinished: 600,
            template: {
              metadata: { labels },
              spec: {
                serviceAccountName: name,
                restartPolicy: 'Never',
                terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
                containers: [{
                  name: 'controller',
                  image,
                  // V8 sizes its heap from the node's memory, not the container's limit: bounded here, it collects
                  // garbage before the cgroup's OOM killer would end the pod.
                  // https://nodejs.org/api/cli.html#--max-old-space-sizesize-in-mib
                  command: ['node', `--max-old-space-size=${HEAP_MIB}`, '/controller/controller.js'],
                  env: [
                    { name: ENV_CONTROLLER_NAMESPACE, value: namespace },
                    { name: ENV_CONTROLLER_ROLLOUTS_CONFIGMAP, value: `${name}-rollouts` },
                    ...(prometheus?.env ?? []),
                  ],
                  resources: {
                    requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('64Mi') },
                    limits: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('192Mi') },
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
