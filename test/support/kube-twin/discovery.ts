/**
 * Legacy (unaggregated) discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`.
 *
 * Follows https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api and the types of
 * k8s.io/apimachinery/pkg/apis/meta/v1/types.go (APIVersions, APIGroupList, APIResourceList, APIResource).
 * kubectl (client-go discovery) first asks for the aggregated form with an Accept header naming
 * `g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` and falls back to these documents when the server
 * answers plain `application/json` - so the aggregated form is not served.
 *
 * OpenAPI: kubectl cannot work without it. With `--validate=strict` (the default) it first checks whether the
 * server supports the `fieldValidation` query parameter by looking, in `/openapi/v3` (then `/openapi/v2`), for the
 * PATCH operation of the object's GVK (`x-kubernetes-group-version-kind`) listing a `fieldValidation` query
 * parameter (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go); when both 404 it fails with "failed to
 * download openapi" (tried with `kubectl -v=6`). So the twin serves the minimum OpenAPI v3: the root
 * (`{"paths": {"apis/apps/v1": {"serverRelativeURL": ...}}}`, https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-v3)
 * and, per group/version, one PATCH operation per resource with that parameter and NO request body. Without a
 * request body listing `application/strategic-merge-patch+json`, kubectl's client-side apply does not take patch
 * metadata from OpenAPI (pkg/cmd/apply/patcher.go gvkSupportsPatchOpenAPIV3) and falls back to its compiled-in
 * types: strategic merge patch for built-in kinds, JSON merge patch for custom resources. `/openapi/v2` is 404.
 */
import { groupVersion, RESOURCES, RESOURCE_VERBS, ResourceDef } from './resources';

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-twin',
    gitCommit: 'twin',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
}

/** Groups in table order; a group's preferred version is its first version in the table. */
export function apiGroupList(): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    const vs = groups.get(r.group) ?? [];
    if (!vs.includes(r.version)) vs.push(r.version);
    groups.set(r.group, vs);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()].map(([name, versions]) => ({
      name,
      versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

/** The APIResourceList of one group/version, or undefined when the twin does not serve it. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources: defs.flatMap(resourceEntries) };
}

function resourceEntries(r: ResourceDef): Record<string, unknown>[] {
  const main = {
    name: r.resource,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: RESOURCE_VERBS,
    shortNames: r.shortNames?.length ? r.shortNames : undefined,
  };
  const subs = (r.subresources ?? []).map((s) => s === 'scale'
    ? { name: `${r.resource}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }
    : { name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
  return [main, ...subs];
}

/** The OpenAPI v3 root: one entry per served group/version; `prefix` keeps the token path prefix (server.ts). */
export function openApiV3Root(prefix: string): Record<string, unknown> {
  const gvs = [...new Set(RESOURCES.map((r) => groupVersion(r)))];
  return {
    paths: Object.fromEntries(gvs.map((gv) => {
      const p = gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
      return [p, { serverRelativeURL: `${prefix}/openapi/v3/${p}?hash=twin` }];
    })),
  };
}

/** The OpenAPI v3 document of one group/version: PATCH operations that declare `fieldValidation`, nothing else. */
export function openApiV3Doc(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const p = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}/{name}` : `${base}/${r.resource}/{name}`;
    paths[p] = {
      patch: {
        'operationId': `patch${r.kind}`,
        'parameters': ['fieldValidation', 'fieldManager', 'force', 'dryRun'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } })),
        'responses': { 200: { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group, version, kind: r.kind },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (kube-twin)', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}
