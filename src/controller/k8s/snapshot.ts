/**
 * One list per kind per pass: the objects of the namespace this library manages (label
 * `app.kubernetes.io/managed-by=cdk-model-rollout`, on every ConfigMap, Deployment, HTTPRoute, ScaledObject and HPA
 * it renders), so a pass's reads grow with the kinds, not with the rollouts. Each rollout's tick then reads its
 * objects from these lists once (KubeClient.viewing) and from the API server after that.
 *
 * A kind that cannot be listed (a Role without `list` from an older synth, a CRD not installed: 403 or 404) is read
 * object by object as before, and the pass goes on.
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
 */
import { KubeClient, KubeObject, ListedObjects } from './kube-client';
import { LISTED_KINDS, MANAGED_SELECTOR } from '../../core/contract/listed-kinds';

/** List every kind of `namespace` once; the kinds that could not be listed are named in `unlisted`. */
export async function listNamespace(
  kube: KubeClient, namespace: string, clock: () => number = Date.now,
): Promise<ListedObjects & { readonly unlisted: string[] }> {
  const at = clock();
  const byPath = new Map<string, KubeObject>();
  const unlisted: string[] = [];
  await Promise.all(LISTED_KINDS.map(async (k) => {
    try {
      const selector = k.selector ? `${MANAGED_SELECTOR},${k.selector}` : MANAGED_SELECTOR;
      for (const o of await kube.list(k.base(namespace), selector)) byPath.set(`${k.base(namespace)}/${o.metadata.name}`, o);
    } catch (e) {
      unlisted.push(`${k.resource}: ${(e as Error).message}`);
    }
  }));
  return { byPath, at, unlisted };
}
