/**
 * KubeTwin: a loopback Kubernetes API server (plain HTTP on 127.0.0.1, random port) for tests, good enough for
 * the real kubectl (`apply` client- and server-side, `get`, `patch`, `delete`, `scale`).
 *
 * Follows:
 * - request routing, verbs and status codes: https://kubernetes.io/docs/reference/using-api/api-concepts/
 *   (POST create 201 / 409 AlreadyExists, PUT replace with `metadata.resourceVersion` as optimistic-concurrency
 *   precondition -> 409 Conflict "the object has been modified; please apply your changes to the latest version
 *   and try again", PATCH by Content-Type, DELETE, `dryRun=All`);
 * - a namespaced path for a cluster-scoped resource has no route in the real server -> 404;
 * - the NamespaceLifecycle admission plugin: objects cannot be created in a namespace that does not exist
 *   (404 `namespaces "x" not found`, https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle);
 * - the status and scale subresources (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/
 *   "replace scale of the specified Deployment"): writes to the main resource keep the stored status, `/status`
 *   writes change only status, `/scale` reads and writes `spec.replicas` through an autoscaling/v1 Scale;
 * - `fieldValidation=Strict|Warn|Ignore` is accepted (kubectl sends Strict by default, --validate=strict);
 *   the twin has no schemas, so it does not reject unknown fields;
 * - server-side apply requires `fieldManager` (422 `PatchOptions.meta.k8s.io "" is invalid: fieldManager:
 *   Required value: is required for apply patch`), see apply.ts;
 * - a JSON patch that cannot be applied, a failed `test` op included, is 422 (see patch.ts);
 * - an `immutable: true` ConfigMap refuses any change to `data` or `binaryData` (422 `ConfigMap "x" is invalid:
 *   data: Forbidden: field is immutable when `immutable` is set`,
 *   https://kubernetes.io/docs/concepts/configuration/configmap/#configmap-immutable).
 * Scripted faults (`inject`): the next requests to a path answer a status (429 and 503 with `Retry-After`, as the
 * API server's priority and fairness and an overloaded apiserver answer them,
 * https://kubernetes.io/docs/concepts/cluster-administration/flow-control/), come late (`delayMs`), or trickle a
 * body one byte at a time so that only a client deadline ends them (`trickleMs`). `prune` stands in for a CRD's
 * structural schema pruning unknown fields on write
 * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning).
 * Credentials over plain HTTP: kubectl drops a kubeconfig's token when the server URL is not TLS (client-go
 * tools/clientcmd/client_config.go: "only try to read the auth information if we are secure"), so the
 * kubeconfigs written by `writeKubeconfig` carry the token in a server-URL path prefix, `/token/<token>`, which
 * client-go keeps in front of every request path. Plain HTTP clients may send `Authorization: Bearer <token>`.
 * Not served: watch (405 MethodNotAllowed), aggregated discovery, OpenAPI (see discovery.ts), protobuf.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { URL } from 'url';
import YAML from 'yaml';
import { serverSideApply, trackUpdate } from './apply';
import { apiGroupList, apiResourceList, coreVersions, openApiV3Doc, openApiV3Root, versionInfo } from './discovery';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, clone, isObject, Json, JsonObject, jsonEqual } from './patch';
import { ADMIN, authorize, forbidden, RequestAttributes, selfSubjectRules, serviceAccountUser, UserInfo } from './rbac';
import { findKind, findResource, groupVersion, listTypeAt, ResourceDef, RESOURCES } from './resources';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound, unsupportedMediaType } from './status';
import { KubeObject, Store } from './store';

export interface TwinRequestLog {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType?: string;
  /** The decoded request body (JSON or YAML), when there was one and the request got that far. */
  readonly body?: unknown;
  readonly user?: string;
  readonly verb?: string;
  readonly status: number;
}

/** Fault injection: the next `times` (default 1) requests matching method+path are delayed, failed or trickled. */
export interface Fault {
  readonly method?: string;
  readonly path: string | RegExp;
  /** Answer this status (a `Status` body) instead of serving the request. */
  readonly status?: number;
  /** With `status`: the `Retry-After` header, in seconds. */
  readonly retryAfter?: string;
  readonly delayMs?: number;
  /** Answer 200 headers, then one space every `trickleMs` and never the end: a client's deadline must end it. */
  readonly trickleMs?: number;
  times?: number;
}

/** An RBAC PolicyRule (https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/role-v1/). */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface WriteEvent { readonly verb: string; readonly def: ResourceDef; readonly namespace: string; readonly name: string }

interface Target { def: ResourceDef; namespace: string; name?: string; subresource?: string }

interface Call {
  readonly method: string;
  readonly url: URL;
  readonly target: Target;
  readonly contentType: string;
  readonly body: Json | undefined;
  readonly manager: string;
  readonly dryRun: boolean;
}

const NS_DEF = findResource('', 'v1', 'namespaces')!;
const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class KubeTwin {
  /** Starts a twin on 127.0.0.1 at a random port. */
  public static async start(): Promise<KubeTwin> {
    const twin = new KubeTwin();
    const server = http.createServer((req, res) => void twin.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    twin.server = server;
    twin.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return twin;
  }

  public readonly store = new Store();
  public readonly requests: TwinRequestLog[] = [];
  /** Called before every write is computed: change the store here to simulate a concurrent writer. */
  public beforeWrite?: (e: WriteEvent) => void;
  /**
   * Awaited once a request is authenticated and before it is served: a test can hold one client's request here
   * while another client's requests run to completion (an operator's command landing inside a controller tick).
   */
  public beforeRequest?: (r: { readonly method: string; readonly path: string; readonly user: string }) => Promise<void> | void;
  /** Called with a patched or replaced object before it is stored: remove what an older CRD's schema would prune. */
  public prune?: (e: WriteEvent, obj: KubeObject) => void;
  public readonly adminToken = 'twin-admin-token';
  public url = '';
  private readonly faults: Fault[] = [];
  private readonly tokens = new Map<string, UserInfo>();
  private server?: http.Server;

  private constructor() {
    this.tokens.set(this.adminToken, ADMIN);
    for (const ns of ['default', 'kube-system', 'kube-public']) this.store.create(NS_DEF, '', { metadata: { name: ns } });
  }

  public async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** A bearer token that authenticates as the service account `namespace/name`. */
  public serviceAccountToken(namespace: string, name: string): string {
    const token = `sa-${namespace}-${name}-${this.tokens.size}`;
    this.tokens.set(token, serviceAccountUser(namespace, name));
    return token;
  }

  public inject(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** Writes a kubeconfig for `token` into `dir` and returns its path. */
  public writeKubeconfig(dir: string, token = this.adminToken, namespace = 'default'): string {
    const file = path.join(dir, `kubeconfig-${token}.yaml`);
    fs.writeFileSync(file, YAML.stringify({
      'apiVersion': 'v1',
      'kind': 'Config',
      'clusters': [{ name: 'twin', cluster: { server: `${this.url}/token/${encodeURIComponent(token)}` } }],
      'users': [{ name: 'twin-user', user: { token } }],
      'contexts': [{ name: 'twin', context: { cluster: 'twin', user: 'twin-user', namespace } }],
      'current-context': 'twin',
    }));
    return file;
  }

  /** Reads an object directly (no HTTP, no RBAC). */
  public object(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(kindDef(apiVersion, kind), namespace, name);
  }

  /** Seed the namespaces a test's objects live in (the NamespaceLifecycle plugin refuses objects in missing ones). */
  public seedNamespaces(...names: string[]): void {
    for (const name of names) this.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  /** Creates or replaces an object directly (no HTTP, no RBAC), tracked as an Update by `manager`. */
  public seed(input: Record<string, unknown>, manager = 'twin-seed'): KubeObject {
    const obj = clone(input) as JsonObject;
    const def = kindDef(String(obj.apiVersion), String(obj.kind));
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    const ns = def.namespaced ? String(meta.namespace ?? 'default') : '';
    const current = this.store.get(def, ns, String(meta.name));
    const next = clone(obj) as KubeObject;
    if (current) next.metadata.managedFields = current.metadata.managedFields ?? null;
    if (current && next.metadata.managedFields === null) delete next.metadata.managedFields;
    trackUpdate({ def, manager, now: this.store.now() }, current, next);
    return current ? this.store.update(def, ns, next) : this.store.create(def, ns, next);
  }

  /** Read-modify-write of a stored object (used by the world): `mutate` edits a copy in place. */
  public modify(
    apiVersion: string, kind: string, namespace: string, name: string,
    mutate: (o: KubeObject) => void, manager: string, subresource?: string,
  ): KubeObject {
    const def = kindDef(apiVersion, kind);
    const current = this.store.get(def, namespace, name);
    if (!current) throw notFound(def.resource, def.group, name);
    const next = clone(current);
    mutate(next);
    trackUpdate({ def, manager, subresource, now: this.store.now() }, current, next);
    return this.store.update(def, namespace, next);
  }

  // ------------------------------------------------- direct access by API path (no HTTP, no RBAC)

  /** The object at an API path (`/api/v1/namespaces/ns/configmaps/x`, as the controller's `paths` build them). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  public at(apiPath: string): any {
    const t = objectTarget(apiPath);
    return this.store.get(t.def, t.namespace, t.name);
  }

  /** Creates or replaces the object at an API path: apiVersion, kind, namespace and name come from the path. */
  public seedAt(apiPath: string, obj: Record<string, unknown>): KubeObject {
    const t = objectTarget(apiPath);
    const given = isObject(obj.metadata as Json) ? obj.metadata as JsonObject : {};
    const metadata = { ...given, name: t.name, ...(t.def.namespaced ? { namespace: t.namespace } : {}) };
    if (t.def.namespaced && !this.store.get(NS_DEF, '', t.namespace)) this.seedNamespaces(t.namespace);
    return this.seed({ ...obj, apiVersion: groupVersion(t.def), kind: t.def.kind, metadata });
  }

  /**
   * Read-modify-write of the object at an API path by another writer: `mutate` edits a copy; even no change bumps
   * resourceVersion.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  public modifyAt(apiPath: string, mutate: (o: any) => void = () => undefined, manager = 'other-writer'): KubeObject {
    const t = objectTarget(apiPath);
    return this.modify(groupVersion(t.def), t.def.kind, t.namespace, t.name, mutate, manager);
  }

  public deleteAt(apiPath: string): void {
    const t = objectTarget(apiPath);
    this.store.delete(t.def, t.namespace, t.name);
  }

  /**
   * A bearer token of the service account `namespace/name` bound to a Role with `rules` (RBAC PolicyRules); calling
   * it again for the same account replaces the rules.
   */
  public tokenWithRole(namespace: string, name: string, rules: readonly PolicyRule[]): string {
    this.seedNamespaces(namespace);
    this.seed({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules: JSON.parse(JSON.stringify(rules)) });
    this.seed({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
    const existing = [...this.tokens].find(([, u]) => u.name === serviceAccountUser(namespace, name).name);
    return existing ? existing[0] : this.serviceAccountToken(namespace, name);
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const prefixed = /^\/token\/([^/]+)(\/.*)?$/.exec(req.url ?? '/');
    const url = new URL(prefixed ? prefixed[2] ?? '/' : req.url ?? '/', 'http://twin');
    const method = req.method ?? 'GET';
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const raw = await readBody(req);
    type Mutable = { -readonly [K in keyof TwinRequestLog]: TwinRequestLog[K] };
    const log = { method, path: url.pathname, query: url.search, contentType: contentType || undefined } as Mutable;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      log.status = status;
      this.requests.push(log);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
      res.end(text);
    };
    try {
      const fault = this.takeFault(method, url.pathname);
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.trickleMs) return this.trickle(res, log, fault.trickleMs);
      if (fault?.status) {
        const err = new ApiError(fault.status, 'InternalError', `injected fault: ${method} ${url.pathname} answers ${fault.status}`);
        return send(fault.status, err.toStatus(), fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter });
      }
      const user = this.authenticate(req, prefixed?.[1]);
      log.user = user.name;
      await this.beforeRequest?.({ method, path: url.pathname, user: user.name });
      const discovery = this.discovery(url.pathname, prefixed ? `/token/${prefixed[1]}` : '');
      if (discovery !== undefined) return send(200, discovery);
      if (method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews') {
        const review = JSON.parse(raw || '{}');
        const namespace = String(review?.spec?.namespace ?? '');
        return send(201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace }, status: selfSubjectRules(this.store, user, namespace) });
      }
      const target = parseTarget(url.pathname);
      const attrs = attributesOf(method, url, target);
      log.verb = attrs.verb;
      if (!authorize(this.store, user, attrs)) throw forbidden(user, attrs);
      const body = raw.length === 0 ? undefined : parseBody(raw, contentType);
      log.body = body;
      const call: Call = {
        method,
        url,
        target,
        contentType,
        body,
        manager: url.searchParams.get('fieldManager') ?? prefixFromUserAgent(String(req.headers['user-agent'] ?? '')),
        dryRun: url.searchParams.getAll('dryRun').includes('All'),
      };
      const [status, out] = this.dispatch(attrs.verb, call);
      send(status, out);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', String((e as Error).stack ?? e));
      send(err.code, err.toStatus());
    }
  }

  /** Headers now, then one byte per interval until the client goes away: an idle timeout never fires. */
  private trickle(res: http.ServerResponse, log: { status: number }, everyMs: number): void {
    log.status = 200;
    this.requests.push(log as TwinRequestLog);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const timer = setInterval(() => { if (!res.writableEnded) res.write(' '); }, everyMs);
    res.on('close', () => clearInterval(timer));
  }

  private takeFault(method: string, p: string): Fault | undefined {
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) && (typeof f.path === 'string' ? f.path === p : f.path.test(p)));
    if (i < 0) return undefined;
    const f = this.faults[i];
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  private authenticate(req: http.IncomingMessage, pathToken: string | undefined): UserInfo {
    const m = /^Bearer\s+(.+)$/.exec(String(req.headers.authorization ?? ''));
    const token = m ? m[1].trim() : pathToken && decodeURIComponent(pathToken);
    const user = token ? this.tokens.get(token) : undefined;
    if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    return user;
  }

  private discovery(p: string, prefix: string): unknown {
    if (p === '/version') return versionInfo();
    if (p === '/openapi/v3') return openApiV3Root(prefix);
    const oa = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (oa) return (oa[1] ? openApiV3Doc('', oa[1]) : openApiV3Doc(oa[2], oa[3])) ?? notFoundPath();
    if (p.startsWith('/openapi/')) return notFoundPath();
    if (p === '/api') return coreVersions();
    if (p === '/apis') return apiGroupList();
    if (p === '/healthz' || p === '/readyz' || p === '/livez') return 'ok';
    const core = /^\/api\/(v1)\/?$/.exec(p);
    if (core) return apiResourceList('', core[1]);
    const grp = /^\/apis\/([^/]+)\/([^/]+)\/?$/.exec(p);
    if (grp) return apiResourceList(grp[1], grp[2]) ?? notFoundPath();
    return undefined;
  }

  private dispatch(verb: string, call: Call): [number, unknown] {
    const { target } = call;
    switch (verb) {
      case 'get': return [200, this.read(target)];
      case 'list': return [200, this.list(target, call.url)];
      case 'create': return [201, this.create(call)];
      case 'update': return [200, this.replace(call)];
      case 'patch': return this.patch(call);
      case 'delete': return [200, this.remove(call)];
      case 'deletecollection': return [200, this.removeAll(call)];
      default: throw new ApiError(405, 'MethodNotAllowed', `the twin does not serve ${verb}`);
    }
  }

  private read(t: Target): unknown {
    const obj = this.mustGet(t);
    return t.subresource === 'scale' ? scaleOf(obj) : obj;
  }

  private list(t: Target, url: URL): unknown {
    const labels = parseSelector(url.searchParams.get('labelSelector') ?? '');
    const fields = parseSelector(url.searchParams.get('fieldSelector') ?? '');
    const items = this.store.list(t.def, t.def.namespaced && t.namespace ? t.namespace : undefined)
      .filter((o) => labels(labelsOf(o)) && fields({ 'metadata.name': String(o.metadata.name), 'metadata.namespace': String(o.metadata.namespace ?? '') }));
    return { kind: `${t.def.kind}List`, apiVersion: groupVersion(t.def), metadata: { resourceVersion: this.store.latestResourceVersion }, items };
  }

  private create(call: Call): unknown {
    const { def, namespace } = call.target;
    if (call.target.subresource) throw new ApiError(405, 'MethodNotAllowed', 'create is not supported on subresources');
    const obj = asObject(call.body, def);
    const meta = obj.metadata;
    if (!meta.name && typeof meta.generateName === 'string') meta.name = `${meta.generateName}${Math.random().toString(36).slice(2, 7)}`;
    const name = String(meta.name ?? '');
    validateName(def, name);
    if (def.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    this.requireNamespace(def, namespace);
    this.beforeWrite?.({ verb: 'create', def, namespace, name });
    if (this.store.get(def, namespace, name)) throw alreadyExists(def.resource, def.group, name);
    delete meta.resourceVersion;
    delete meta.managedFields;
    if (def.subresources?.includes('status')) delete obj.status;
    trackUpdate({ def, manager: call.manager, now: this.store.now() }, undefined, obj);
    return call.dryRun ? obj : this.store.create(def, namespace, obj);
  }

  private replace(call: Call): unknown {
    const t = call.target;
    const name = t.name!;
    this.beforeWrite?.({ verb: 'update', def: t.def, namespace: t.namespace, name });
    const current = this.mustGet(t);
    const body = isObject(call.body) ? clone(call.body) : {};
    if (t.subresource === 'scale') return scaleOf(this.writeScale(call, current, body));
    const obj = asObject(body, t.def);
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) {
      throw conflict(t.def.resource, t.def.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.commit(call, current, mergeSubresource(t, current, obj));
  }

  private patch(call: Call): [number, unknown] {
    const t = call.target;
    const name = t.name!;
    this.beforeWrite?.({ verb: 'patch', def: t.def, namespace: t.namespace, name });
    const current = this.store.get(t.def, t.namespace, name);
    if (call.contentType === 'application/apply-patch+yaml') return this.apply(call, current);
    if (!current) throw notFound(t.def.resource, t.def.group, name);
    const base: Json = t.subresource === 'scale' ? scaleOf(current) : current;
    const patched = this.runPatch(call, base);
    if (!isObject(patched)) throw badRequest('the patch did not produce an object');
    if (t.subresource === 'scale') return [200, scaleOf(this.writeScale(call, current, patched))];
    const obj = asObject(patched, t.def);
    if (obj.metadata.name !== name) throw invalid(t.def.kind, t.def.group, name, [{ field: 'metadata.name', message: 'field is immutable' }]);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) {
      throw conflict(t.def.resource, t.def.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return [200, this.commit(call, current, mergeSubresource(t, current, obj))];
  }

  private runPatch(call: Call, base: Json): Json {
    const { def, subresource } = call.target;
    switch (call.contentType) {
      case 'application/json-patch+json': return applyJsonPatch(base, call.body ?? null);
      case 'application/merge-patch+json': return applyMergePatch(base, call.body ?? {});
      case 'application/strategic-merge-patch+json':
        if (!def.builtin && subresource !== 'scale') throw unsupportedMediaType(call.contentType);
        return applyStrategicMergePatch(base, call.body ?? {}, (names) => listTypeAt(def, names));
      default: throw unsupportedMediaType(call.contentType);
    }
  }

  private apply(call: Call, current: KubeObject | undefined): [number, unknown] {
    const t = call.target;
    const name = t.name!;
    if (!call.url.searchParams.get('fieldManager')) {
      throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ type: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
    }
    const applied = asObject(call.body, t.def);
    if (applied.metadata.name !== name) throw badRequest(`the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`);
    if (!current) {
      this.requireNamespace(t.def, t.namespace);
      validateName(t.def, name);
    }
    const force = call.url.searchParams.get('force') === 'true';
    const result = serverSideApply({ def: t.def, manager: call.manager, now: this.store.now() }, current, applied, force);
    if (current) result.metadata.resourceVersion = current.metadata.resourceVersion;
    if (call.dryRun) return [current ? 200 : 201, result];
    if (!current) return [201, this.store.create(t.def, t.namespace, result)];
    refuseImmutableChange(t.def, current, result);
    return [200, this.store.update(t.def, t.namespace, mergeSubresource(t, current, result))];
  }

  /** Writes `spec.replicas` from a Scale object into its Deployment (managed fields recorded with subresource scale). */
  private writeScale(call: Call, current: KubeObject, scale: JsonObject): KubeObject {
    const spec = isObject(scale.spec) ? scale.spec : {};
    const replicas = spec.replicas;
    if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) {
      throw invalid('Scale', 'autoscaling', String(current.metadata.name), [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    const next = clone(current);
    next.spec = { ...(isObject(next.spec) ? next.spec : {}), replicas };
    trackUpdate({ def: call.target.def, manager: call.manager, subresource: 'scale', now: this.store.now() }, current, next);
    return call.dryRun ? next : this.store.update(call.target.def, call.target.namespace, next);
  }

  private commit(call: Call, current: KubeObject, next: KubeObject): KubeObject {
    const t = call.target;
    refuseImmutableChange(t.def, current, next);
    this.prune?.({ verb: call.method === 'PUT' ? 'update' : 'patch', def: t.def, namespace: t.namespace, name: t.name! }, next);
    trackUpdate({ def: t.def, manager: call.manager, subresource: t.subresource, now: this.store.now() }, current, next);
    return call.dryRun ? next : this.store.update(t.def, t.namespace, next);
  }

  private remove(call: Call): unknown {
    const t = call.target;
    this.beforeWrite?.({ verb: 'delete', def: t.def, namespace: t.namespace, name: t.name! });
    const obj = this.mustGet(t);
    if (call.dryRun) return obj;
    this.store.delete(t.def, t.namespace, t.name!);
    if (t.def === NS_DEF) this.purgeNamespace(t.name!);
    return obj;
  }

  private removeAll(call: Call): unknown {
    const listed = this.list(call.target, call.url) as { items: KubeObject[] };
    if (!call.dryRun) for (const o of listed.items) this.store.delete(call.target.def, call.target.namespace, String(o.metadata.name));
    return listed;
  }

  /** Namespace deletion: the twin skips the Terminating phase and removes the contents at once. */
  private purgeNamespace(ns: string): void {
    for (const def of RESOURCES_NAMESPACED()) for (const o of this.store.list(def, ns)) this.store.delete(def, ns, String(o.metadata.name));
  }

  private requireNamespace(def: ResourceDef, ns: string): void {
    if (def.namespaced && !this.store.get(NS_DEF, '', ns)) throw notFound('namespaces', '', ns);
  }

  private mustGet(t: Target): KubeObject {
    const obj = this.store.get(t.def, t.namespace, t.name!);
    if (!obj) throw notFound(t.def.resource, t.def.group, t.name!);
    return obj;
  }
}

// ---------------------------------------------------------------- helpers

const RESOURCES_NAMESPACED = (): ResourceDef[] => RESOURCES.filter((r) => r.namespaced);

/** A path that names one object (no subresource): the direct-access helpers' argument. */
function objectTarget(apiPath: string): Target & { name: string } {
  const t = parseTarget(apiPath);
  if (t.name === undefined || t.subresource !== undefined) throw new Error(`kube-twin: ${apiPath} does not name an object`);
  return t as Target & { name: string };
}

function refuseImmutableChange(def: ResourceDef, current: KubeObject, next: KubeObject): void {
  if (def.kind !== 'ConfigMap' || current.immutable !== true) return;
  for (const field of ['data', 'binaryData']) {
    if (!jsonEqual(current[field] ?? null, next[field] ?? null)) {
      throw invalid('ConfigMap', '', String(current.metadata.name), [{ field, message: 'Forbidden: field is immutable when `immutable` is set' }]);
    }
  }
}

function kindDef(apiVersion: string, kind: string): ResourceDef {
  const def = findKind(apiVersion, kind);
  if (!def) throw new Error(`kube-twin does not serve ${apiVersion} ${kind}`);
  return def;
}

const notFoundPath = (): never => {
  throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
};

/** `/api/v1/namespaces/ns/configmaps/x`, `/apis/apps/v1/namespaces/ns/deployments/x/scale`, `/apis/karpenter.sh/v1/nodepools/x`. */
function parseTarget(p: string): Target {
  const parts = p.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    rest = parts.slice(3);
  } else {
    return notFoundPath();
  }
  const version = parts[0] === 'api' ? parts[1] : parts[2];
  let namespace = '';
  let namespacedPath = false;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespacedPath = true;
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const def = findResource(group, version, rest[0]);
  if (!def || rest.length > 3) return notFoundPath();
  // A namespaced URL for a cluster-scoped kind has no route in the real server.
  if (namespacedPath && !def.namespaced) return notFoundPath();
  const subresource = rest[2];
  if (subresource !== undefined && !(def.subresources ?? []).includes(subresource as 'scale')) return notFoundPath();
  return { def, namespace, name: rest[1], subresource };
}

function attributesOf(method: string, url: URL, t: Target): RequestAttributes {
  const collection = t.name === undefined;
  let verb: string;
  switch (method) {
    case 'GET': verb = collection ? (url.searchParams.get('watch') === 'true' ? 'watch' : 'list') : 'get'; break;
    case 'POST': verb = 'create'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = collection ? 'deletecollection' : 'delete'; break;
    default: throw new ApiError(405, 'MethodNotAllowed', `method ${method} is not allowed`);
  }
  if (collection && !['list', 'watch', 'create', 'deletecollection'].includes(verb)) notFoundPath();
  if (!collection && verb === 'create') throw new ApiError(405, 'MethodNotAllowed', 'POST to an object URL is not allowed');
  if (!t.def.namespaced && t.namespace) notFoundPath();
  if (t.def.namespaced && !t.namespace && verb !== 'list' && verb !== 'watch') notFoundPath();
  const namespace = t.def.namespaced ? t.namespace || undefined : undefined;
  return { verb, group: t.def.group, resource: t.def.resource, subresource: t.subresource, namespace, name: t.name };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string, contentType: string): Json {
  try {
    return contentType === 'application/apply-patch+yaml' ? (YAML.parse(raw) as Json) : (JSON.parse(raw) as Json);
  } catch (e) {
    throw badRequest(`error decoding request body: ${(e as Error).message}`);
  }
}

function asObject(body: Json | undefined, def: ResourceDef): KubeObject {
  if (!isObject(body)) throw badRequest('the request body must be an object');
  const obj = clone(body) as KubeObject;
  if (!isObject(obj.metadata)) obj.metadata = {};
  const gv = groupVersion(def);
  if ((obj.apiVersion !== undefined && obj.apiVersion !== gv) || (obj.kind !== undefined && obj.kind !== def.kind)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv}) or kind (${def.kind})`);
  }
  return obj;
}

function validateName(def: ResourceDef, name: string): void {
  if (!name) throw invalid(def.kind, def.group, name, [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  if (name.length > 253 || !NAME_RE.test(name)) {
    throw invalid(def.kind, def.group, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` }]);
  }
}

/** Main-resource writes keep the stored status; `/status` writes keep everything but status. */
function mergeSubresource(t: Target, current: KubeObject, next: KubeObject): KubeObject {
  if (!t.def.subresources?.includes('status')) return next;
  if (t.subresource === 'status') return { ...clone(current), status: next.status ?? {} } as KubeObject;
  const out = clone(next);
  if (current.status !== undefined) out.status = clone(current.status);
  else delete out.status;
  return out;
}

function scaleOf(obj: KubeObject): JsonObject {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const status = isObject(obj.status) ? obj.status : {};
  const sel = isObject(spec.selector) && isObject(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, selector: Object.entries(sel).map(([k, v]) => `${k}=${String(v)}`).join(',') },
  };
}

function labelsOf(o: KubeObject): Record<string, string> {
  return isObject(o.metadata.labels) ? Object.fromEntries(Object.entries(o.metadata.labels).map(([k, v]) => [k, String(v)])) : {};
}

/** Equality-based selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/. */
function parseSelector(s: string): (labels: Record<string, string>) => boolean {
  const terms = s.split(',').map((x) => x.trim()).filter(Boolean).map((term) => {
    const ne = /^([^!=]+)!=(.*)$/.exec(term);
    if (ne) return (l: Record<string, string>) => l[ne[1].trim()] !== ne[2].trim();
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq) return (l: Record<string, string>) => l[eq[1].trim()] === eq[2].trim();
    if (term.startsWith('!')) return (l: Record<string, string>) => !(term.slice(1) in l);
    return (l: Record<string, string>) => term in l;
  });
  return (labels) => terms.every((t) => t(labels));
}

/** The default field manager: the User-Agent up to the first "/" (handlers/rest.go prefixFromUserAgent). */
export function prefixFromUserAgent(ua: string): string {
  return [...ua.split('/')[0]].filter((c) => c >= ' ' && c !== '\u007f').join('').slice(0, 128);
}
