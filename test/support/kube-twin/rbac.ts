/**
 * Authentication (bearer tokens) and RBAC authorization evaluated over the Role/RoleBinding/ClusterRole/
 * ClusterRoleBinding objects stored IN the twin, so tests exercise the RBAC the library ships.
 *
 * Follows https://kubernetes.io/docs/reference/access-authn-authz/rbac/ and
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb:
 * - request verbs: GET object `get`, GET collection `list` (`watch` with ?watch=true), POST `create`, PUT `update`,
 *   PATCH `patch`, DELETE object `delete`, DELETE collection `deletecollection`;
 * - a rule matches on apiGroups, resources (`deployments/scale` for a subresource; `*` and `*\/scale` wildcards as
 *   in plugin/pkg/auth/authorizer/rbac/rbac.go `ResourceMatches`), verbs (`*` wildcard) and resourceNames;
 * - "You cannot restrict `create` or `deletecollection` requests by their resource name" (RBAC docs, "Referring to
 *   resources"): the request carries no name, so a rule with resourceNames never matches them;
 * - RoleBindings grant in their own namespace (roleRef Role of that namespace, or a ClusterRole);
 *   ClusterRoleBindings grant everywhere;
 * - service accounts authenticate as `system:serviceaccount:<ns>:<name>` with groups `system:serviceaccounts`,
 *   `system:serviceaccounts:<ns>` and `system:authenticated`
 *   (https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/);
 * - a denial is 403 reason Forbidden with the message format of k8s.io/apiserver/pkg/endpoints/handlers/
 *   responsewriters/errors.go `forbiddenMessage` (`... is forbidden: User "u" cannot patch resource
 *   "deployments/scale" in API group "apps" in the namespace "ns"`).
 * The user `admin` (group system:masters) bypasses RBAC, as system:masters does.
 */
import { isObject, Json, JsonObject } from './patch';
import { findResource, ResourceDef } from './resources';
import { ApiError, qualified } from './status';
import { Store } from './store';

export interface UserInfo { readonly name: string; readonly groups: readonly string[] }

export interface RequestAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

export const ADMIN: UserInfo = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

const rbacDef = (resource: string): ResourceDef => findResource('rbac.authorization.k8s.io', 'v1', resource)!;

export function authorize(store: Store, user: UserInfo, attrs: RequestAttributes): boolean {
  if (user.groups.includes('system:masters')) return true;
  return rulesFor(store, user, attrs.namespace).some((r) => ruleAllows(r, attrs));
}

/**
 * A SelfSubjectRulesReview's answer: the rules that apply to `user` in `namespace` (cluster-wide ones included),
 * as the real authorizer lists them. Every authenticated user may ask (the default `system:basic-user` ClusterRole
 * grants `create` on selfsubjectrulesreviews).
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
export function selfSubjectRules(store: Store, user: UserInfo, namespace: string): JsonObject {
  const rules = user.groups.includes('system:masters')
    ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]
    : rulesFor(store, user, namespace).map((r) => ({
      verbs: r.verbs ?? [],
      apiGroups: r.apiGroups ?? [],
      resources: r.resources ?? [],
      ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
    }));
  return {
    resourceRules: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }, ...rules],
    nonResourceRules: [],
    incomplete: false,
  };
}

function rulesFor(store: Store, user: UserInfo, namespace: string | undefined): JsonObject[] {
  const rules: JsonObject[] = [];
  const add = (role: JsonObject | undefined): void => {
    if (role && Array.isArray(role.rules)) rules.push(...role.rules.filter(isObject));
  };
  for (const b of store.list(rbacDef('clusterrolebindings'))) {
    if (bindsUser(b, user, undefined) && refKind(b) === 'ClusterRole') add(store.get(rbacDef('clusterroles'), '', refName(b)));
  }
  if (namespace) {
    for (const b of store.list(rbacDef('rolebindings'), namespace)) {
      if (!bindsUser(b, user, namespace)) continue;
      if (refKind(b) === 'Role') add(store.get(rbacDef('roles'), namespace, refName(b)));
      else if (refKind(b) === 'ClusterRole') add(store.get(rbacDef('clusterroles'), '', refName(b)));
    }
  }
  return rules;
}

const refKind = (b: JsonObject): Json | undefined => (isObject(b.roleRef) ? b.roleRef.kind : undefined);
const refName = (b: JsonObject): string => String(isObject(b.roleRef) ? b.roleRef.name : '');

function bindsUser(binding: JsonObject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  const subjects = Array.isArray(binding.subjects) ? binding.subjects.filter(isObject) : [];
  return subjects.some((s) => {
    if (s.kind === 'User') return s.name === user.name;
    if (s.kind === 'Group') return user.groups.includes(String(s.name));
    if (s.kind === 'ServiceAccount') {
      const ns = s.namespace ?? bindingNamespace;
      return user.name === `system:serviceaccount:${ns}:${s.name}`;
    }
    return false;
  });
}

const has = (list: Json | undefined, value: string): boolean => Array.isArray(list) && list.some((x) => x === value || x === '*');

function ruleAllows(rule: JsonObject, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb) || !has(rule.apiGroups, a.group)) return false;
  if (!resourceMatches(rule.resources, a)) return false;
  const names = Array.isArray(rule.resourceNames) ? rule.resourceNames : [];
  if (names.length === 0) return true;
  // create/deletecollection carry no name: a name-restricted rule cannot match them.
  return a.name !== undefined && a.name !== '' && names.includes(a.name);
}

function resourceMatches(resources: Json | undefined, a: RequestAttributes): boolean {
  if (!Array.isArray(resources)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return resources.some((r) => r === '*' || r === combined || (a.subresource !== undefined && r === `*/${a.subresource}`));
}

export function forbidden(user: UserInfo, a: RequestAttributes): ApiError {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const subject = a.name ? `${qualified(a.resource, a.group)} "${a.name}"` : qualified(a.resource, a.group);
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new ApiError(403, 'Forbidden',
    `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`,
    { name: a.name, group: a.group, kind: a.resource });
}
