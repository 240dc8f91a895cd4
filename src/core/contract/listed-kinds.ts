/**
 * What the Kubernetes controller lists once per pass (controller/k8s/snapshot.ts) and what its Role grants `list`
 * on (k8s/private/step-controller.ts): shared so the grant and the requests cannot drift apart.
 */
/** The label every object the constructs render carries (k8s/environment.ts, private/step-controller.ts). */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=cdk-model-rollout';

/**
 * What the controller lists, with the path prefix of one object (`<prefix>/<name>`), as kube-client's `paths`, and
 * the selector beyond MANAGED_SELECTOR: of the ConfigMaps only a rollout's spec and state (label
 * `model-rollout.dev/rollout`), not the controller's code (about 70 KB).
 */
export const LISTED_KINDS: ReadonlyArray<{
  readonly group: string; readonly resource: string; readonly base: (ns: string) => string; readonly selector?: string;
}> = [
  { group: '', resource: 'configmaps', base: (ns) => `/api/v1/namespaces/${ns}/configmaps`, selector: 'model-rollout.dev/rollout' },
  { group: 'apps', resource: 'deployments', base: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments` },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', base: (ns) => `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes` },
  { group: 'keda.sh', resource: 'scaledobjects', base: (ns) => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects` },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', base: (ns) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers` },
];

