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
      for (const o of await kube.list(k.base(namespace), selector)) byPath.set(`${k.base(namespace)}/${o.metadata.name}`, slim(o));
    } catch (e) {
      unlisted.push(`${k.resource}: ${(e as Error).message}`);
    }
  }));
  return { byPath, at, unlisted };
}

/** The last-applied annotation kubectl's client-side apply writes: a copy of the whole object. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A listed object without what no tick reads (managed fields, kubectl's last-applied copy, a Deployment's pod
 * template): a pass holds every listed object until its rollout is ticked, and these are most of their bytes. The
 * ports read `data`, `spec.rules`, replica counts and `status`, and the metadata's name, uid and resourceVersion.
 */
function slim(o: KubeObject): KubeObject {
  const metadata: Record<string, unknown> = { ...o.metadata };
  delete metadata.managedFields;
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
    metadata.annotations = rest;
  }
  const spec = o.spec && typeof o.spec === 'object' && 'template' in o.spec ? (({ template: _t, ...rest }) => rest)(o.spec) : o.spec;
  return { ...o, metadata: metadata as KubeObject['metadata'], ...(spec !== undefined ? { spec } : {}) };
}
