/**
 * The resource table of the twin: which group/version/resource (GVR) it serves, with kind, scope and verbs,
 * plus the list semantics that patches and server-side apply need for the built-in kinds.
 *
 * Follows:
 * - API URL layout (`/api/v1/namespaces/{ns}/{resource}/{name}`, `/apis/{group}/{version}/...`) and
 *   namespaced vs cluster-scoped resources: https://kubernetes.io/docs/reference/using-api/api-concepts/
 * - Built-in list merge keys: the `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api (core/v1/types.go:
 *   PodSpec.Containers `name`, Container.Ports `containerPort`, Container.Env `name`, Container.VolumeMounts
 *   `mountPath`, ServiceSpec.Ports `port`, ObjectMeta.Finalizers merge-of-primitives, ...), which the OpenAPI
 *   publishes as `x-kubernetes-list-type: map` + `x-kubernetes-list-map-keys` for server-side apply.
 * - Custom resources: lists without `x-kubernetes-list-type` are `atomic` for server-side apply
 *   (https://kubernetes.io/docs/reference/using-api/server-side-apply/#merge-strategy), and strategic merge
 *   patch is not supported for them ("Strategic merge patch is not supported for custom resources",
 *   https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/).
 *   Gateway API HTTPRoute `spec.rules` and `matches` carry `+listType=atomic` (sigs.k8s.io/gateway-api
 *   apis/v1/httproute_types.go), so they are owned whole.
 *
 * Simplification: a map-list has ONE key here (the patchMergeKey); the real Container.Ports SSA key is
 * (containerPort, protocol) with protocol defaulted to TCP by the server, which the twin does not default.
 */

export interface ResourceDef {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly resource: string; // plural, as in the URL
  readonly kind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  /** Built into kube-apiserver (true) or served from a CRD (false): decides strategic-merge support. */
  readonly builtin: boolean;
  readonly shortNames?: readonly string[];
  /** Subresources served (only `scale` and `status` are implemented). */
  readonly subresources?: readonly ('scale' | 'status')[];
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** One line per served resource: [group, version, plural, Kind, namespaced, builtin, shortNames?, subresources?]. */
type Row = [string, string, string, string, boolean, boolean, string[]?, ('scale' | 'status')[]?];

const ROWS: Row[] = [
  ['', 'v1', 'namespaces', 'Namespace', false, true, ['ns'], ['status']],
  ['', 'v1', 'configmaps', 'ConfigMap', true, true, ['cm']],
  ['', 'v1', 'services', 'Service', true, true, ['svc'], ['status']],
  ['', 'v1', 'serviceaccounts', 'ServiceAccount', true, true, ['sa']],
  ['', 'v1', 'events', 'Event', true, true, ['ev']],
  ['', 'v1', 'secrets', 'Secret', true, true],
  ['apps', 'v1', 'deployments', 'Deployment', true, true, ['deploy'], ['scale', 'status']],
  ['policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, true, ['pdb'], ['status']],
  ['autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, true, ['hpa'], ['status']],
  ['batch', 'v1', 'cronjobs', 'CronJob', true, true, ['cj'], ['status']],
  ['batch', 'v1', 'jobs', 'Job', true, true, [], ['status']],
  ['rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true, true],
  ['rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, true],
  ['rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, true],
  ['rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false, true],
  ['gateway.networking.k8s.io', 'v1', 'httproutes', 'HTTPRoute', true, false, [], ['status']],
  ['gateway.networking.k8s.io', 'v1beta1', 'referencegrants', 'ReferenceGrant', true, false, ['refgrant']],
  ['keda.sh', 'v1alpha1', 'scaledobjects', 'ScaledObject', true, false, ['so'], ['status']],
  ['http.keda.sh', 'v1alpha1', 'httpscaledobjects', 'HTTPScaledObject', true, false, ['httpso'], ['status']],
  ['networking.istio.io', 'v1alpha3', 'envoyfilters', 'EnvoyFilter', true, false],
  ['gateway.envoyproxy.io', 'v1alpha1', 'envoyextensionpolicies', 'EnvoyExtensionPolicy', true, false, ['eep'], ['status']],
  ['karpenter.sh', 'v1', 'nodepools', 'NodePool', false, false, [], ['status']],
  ['karpenter.k8s.aws', 'v1', 'ec2nodeclasses', 'EC2NodeClass', false, false, ['ec2nc'], ['status']],
  ['monitoring.coreos.com', 'v1', 'podmonitors', 'PodMonitor', true, false, ['pmon']],
  ['monitoring.coreos.com', 'v1', 'servicemonitors', 'ServiceMonitor', true, false, ['smon']],
  ['elbv2.k8s.aws', 'v1beta1', 'targetgroupbindings', 'TargetGroupBinding', true, false, [], ['status']],
];

export const RESOURCES: readonly ResourceDef[] = ROWS.map(([group, version, resource, kind, namespaced, builtin, shortNames, subresources]) => ({
  group, version, resource, kind, namespaced, builtin, shortNames, subresources, singular: kind.toLowerCase(),
}));

export const RESOURCE_VERBS = VERBS;

export function groupVersion(def: { group: string; version: string }): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function findKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/** How a list field merges: by key (map-list), as a set of scalars, or whole (atomic). */
export type ListType = { readonly type: 'map'; readonly key: string } | { readonly type: 'set' } | { readonly type: 'atomic' };

/**
 * Merge-list rules of built-in kinds, matched on the suffix of the field-name path (list indexes skipped).
 * `kinds` limits a rule to some kinds (Service `spec.ports` merges by `port`, container ports by `containerPort`).
 */
const BUILTIN_LISTS: readonly { suffix: readonly string[]; list: ListType; kinds?: readonly string[] }[] = [
  { suffix: ['metadata', 'finalizers'], list: { type: 'set' } },
  { suffix: ['metadata', 'ownerReferences'], list: { type: 'map', key: 'uid' } },
  { suffix: ['containers'], list: { type: 'map', key: 'name' } },
  { suffix: ['initContainers'], list: { type: 'map', key: 'name' } },
  { suffix: ['ephemeralContainers'], list: { type: 'map', key: 'name' } },
  { suffix: ['volumes'], list: { type: 'map', key: 'name' } },
  { suffix: ['imagePullSecrets'], list: { type: 'map', key: 'name' } },
  { suffix: ['hostAliases'], list: { type: 'map', key: 'ip' } },
  { suffix: ['topologySpreadConstraints'], list: { type: 'map', key: 'topologyKey' } },
  { suffix: ['containers', 'env'], list: { type: 'map', key: 'name' } },
  { suffix: ['initContainers', 'env'], list: { type: 'map', key: 'name' } },
  { suffix: ['containers', 'ports'], list: { type: 'map', key: 'containerPort' } },
  { suffix: ['initContainers', 'ports'], list: { type: 'map', key: 'containerPort' } },
  { suffix: ['containers', 'volumeMounts'], list: { type: 'map', key: 'mountPath' } },
  { suffix: ['initContainers', 'volumeMounts'], list: { type: 'map', key: 'mountPath' } },
  { suffix: ['status', 'conditions'], list: { type: 'map', key: 'type' } },
  { suffix: ['spec', 'ports'], list: { type: 'map', key: 'port' }, kinds: ['Service'] },
];

/** List semantics of the list at `path` (field names only) in an object of `def`'s kind. */
export function listTypeAt(def: ResourceDef, path: readonly string[]): ListType {
  if (!def.builtin) return { type: 'atomic' };
  for (const rule of BUILTIN_LISTS) {
    if (rule.kinds && !rule.kinds.includes(def.kind)) continue;
    if (path.length < rule.suffix.length) continue;
    const tail = path.slice(path.length - rule.suffix.length);
    if (tail.every((p, i) => p === rule.suffix[i])) return rule.list;
  }
  return { type: 'atomic' };
}
