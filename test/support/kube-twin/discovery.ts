/**
 * Legacy (unaggregated) discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`.
 *
 * Follows https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api and the types of
 * k8s.io/apimachinery/pkg/apis/meta/v1/types.go (APIVersions, APIGroupList, APIResourceList, APIResource).
 * kubectl (client-go discovery) first asks for the aggregated form with an Accept header naming
 * `g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` and falls back to these documents when the server
 * answers plain `application/json` - so the aggregated form is not served.
 * `/openapi/v2` and `/openapi/v3` answer 404: kubectl 1.32 then builds client-side-apply patches from its
 * compiled-in types (strategic merge for built-in kinds, JSON merge patch for custom resources; kubectl
 * pkg/cmd/apply/patcher.go) and skips the server-side field-validation support check.
 */
import { groupVersion, RESOURCES, RESOURCE_VERBS, ResourceDef } from './resources';

export function versionInfo(): Record<string, string> {
  return {
    major: '1', minor: '32', gitVersion: 'v1.32.0-twin', gitCommit: 'twin', gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64',
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
  const main = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: RESOURCE_VERBS, shortNames: r.shortNames?.length ? r.shortNames : undefined };
  const subs = (r.subresources ?? []).map((s) => s === 'scale'
    ? { name: `${r.resource}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }
    : { name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
  return [main, ...subs];
}
