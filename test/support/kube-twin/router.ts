/**
 * A Gateway API HTTPRoute router over the objects stored in the twin.
 *
 * Follows the HTTPRoute spec (sigs.k8s.io/gateway-api apis/v1/httproute_types.go, rendered at
 * https://gateway-api.sigs.k8s.io/reference/spec/#httprouterule):
 * - hostnames: exact, or `*.example.com` wildcards matching one or more leading labels; a route without hostnames
 *   matches every host; precedence first to the route with the longest matching non-wildcard hostname, then the
 *   longest matching hostname (HTTPRouteSpec.Hostnames);
 * - a rule without matches has the default match PathPrefix "/"; PathPrefix matches whole path elements
 *   ("/foo" matches "/foo" and "/foo/bar", not "/foobar"); header names are case-insensitive; all conditions of a
 *   match are ANDed, the matches of a rule are ORed;
 * - match precedence, continuing on ties (HTTPRouteRule.Matches): "Exact" path match; "Prefix" path match with
 *   largest number of characters; method match; largest number of header matches; largest number of query param
 *   matches; then the oldest Route by creation timestamp; then "{namespace}/{name}" alphabetical; then the FIRST
 *   matching rule in list order;
 * - backendRefs: weight defaults to 1, weight 0 never receives traffic, a rule whose backends all have weight 0
 *   (or that has none) answers 500 (HTTPRouteRule.BackendRefs); a backend in another namespace needs a
 *   ReferenceGrant in that namespace (https://gateway-api.sigs.k8s.io/api-types/referencegrant/), else 500;
 * - the `RequestMirror` filter sends a copy of the request to its backendRef (counted, response ignored).
 * A Service backend is resolved to the Deployments whose pod template labels match the Service selector; a
 * request reaching a backend with 0 ready replicas fails with 503 (Envoy's "no healthy upstream").
 */
import { isObject, Json, JsonObject } from './patch';
import { findResource } from './resources';
import { KubeObject, Store } from './store';

export interface GatewayRequest {
  readonly host: string;
  readonly path: string; // may carry ?query
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Backend { readonly namespace: string; readonly service: string; readonly deployments: readonly string[] }

export interface RouteOutcome {
  readonly status: number;
  readonly route?: string; // namespace/name
  readonly ruleIndex?: number;
  readonly backend?: Backend;
  readonly mirrors: readonly Backend[];
}

interface Candidate { route: KubeObject; ruleIndex: number; matchIndex: number; rank: number[] }

/** A request's matched rule: its route, its resolved mirrors and the backendRefs to pick from. */
interface Matched {
  readonly ns: string;
  readonly routeName: string;
  readonly ruleIndex: number;
  readonly mirrors: readonly Backend[];
  readonly refs: JsonObject[];
}

const def = (group: string, version: string, resource: string) => findResource(group, version, resource)!;
const HTTPROUTES = def('gateway.networking.k8s.io', 'v1', 'httproutes');
const GRANTS = def('gateway.networking.k8s.io', 'v1beta1', 'referencegrants');
const SERVICES = def('', 'v1', 'services');
const DEPLOYMENTS = def('apps', 'v1', 'deployments');

/**
 * Deterministic PRNG (Park-Miller "minimal standard" LCG, multiplier 48271 mod 2^31 - 1) so weighted choices
 * repeat for a seed; every product stays below 2^53, so plain doubles are exact.
 */
export function prng(seed: number): () => number {
  const m = 2147483647;
  let a = (Math.abs(Math.floor(seed)) % (m - 1)) + 1;
  return () => {
    a = (a * 48271) % m;
    return (a - 1) / (m - 1);
  };
}

export class GatewayRouter {
  /**
   * Answers kept while the store's resourceVersion is `syncedAt` (see `sync`): routes, matches and a backendRef's
   * Deployments change only with a write, and the world routes every simulated request between writes.
   */
  private readonly resolved = new Map<string, Backend | undefined>();
  private readonly matched = new Map<string, Matched | undefined>();
  private routeTable?: ReadonlyArray<{ route: KubeObject; rules: JsonObject[][] }>;
  private syncedAt = '';

  constructor(private readonly store: Store, private readonly random: () => number) {}

  public route(req: GatewayRequest): RouteOutcome {
    const matched = this.match(req);
    if (!matched) return { status: 404, mirrors: [] };
    const { ns, routeName, ruleIndex, mirrors, refs } = matched;
    // the weighted pick stays per request (the PRNG's sequence is the same as without the cache)
    const ref = this.pick(refs);
    const backend = ref && this.resolve(ns, ref);
    if (!backend) return { status: 500, route: routeName, ruleIndex, mirrors };
    const ready = backend.deployments.reduce((n, d) => n + readyReplicas(this.store.view(DEPLOYMENTS, backend.namespace, d)), 0);
    return { status: ready > 0 ? 200 : 503, route: routeName, ruleIndex, backend, mirrors };
  }

  /**
   * The rule a request matches, with its mirrors resolved and its backendRefs, kept per request shape (host, path,
   * method, headers) until the next write: the world sends the same few request shapes every simulated second.
   */
  private match(req: GatewayRequest): Matched | undefined {
    this.sync();
    const key = `${req.host}\0${req.path}\0${req.method ?? ''}\0${req.headers ? JSON.stringify(req.headers) : ''}`;
    if (this.matched.has(key)) return this.matched.get(key);
    const best = this.select(req);
    let matched: Matched | undefined;
    if (best) {
      const rule = rulesOf(best.route)[best.ruleIndex];
      const ns = String(best.route.metadata.namespace);
      const mirrors = filtersOf(rule)
        .filter((f) => f.type === 'RequestMirror' && isObject(f.requestMirror) && isObject(f.requestMirror.backendRef))
        .map((f) => this.resolve(ns, (f.requestMirror as JsonObject).backendRef as JsonObject))
        .filter((b): b is Backend => b !== undefined);
      const refs = Array.isArray(rule.backendRefs) ? rule.backendRefs.filter(isObject) : [];
      matched = { ns, routeName: `${ns}/${String(best.route.metadata.name)}`, ruleIndex: best.ruleIndex, mirrors, refs };
    }
    // bounded: the sticky scenarios send a few hundred distinct users
    if (this.matched.size < 10_000) this.matched.set(key, matched);
    return matched;
  }

  /** Drops every cached answer when the store has been written since they were computed. */
  private sync(): void {
    const revision = this.store.latestResourceVersion;
    if (revision === this.syncedAt) return;
    this.syncedAt = revision;
    this.resolved.clear();
    this.matched.clear();
    this.routeTable = undefined;
  }

  private select(req: GatewayRequest): Candidate | undefined {
    const [pathOnly, query] = splitQuery(req.path);
    const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const host = req.host.toLowerCase().replace(/:\d+$/, '');
    const candidates: Candidate[] = [];
    for (const { route, rules } of this.routes()) {
      const hostRank = hostnameRank(route, host);
      if (!hostRank) continue;
      rules.forEach((matches, ruleIndex) => {
        matches.forEach((m, matchIndex) => {
          const rank = matchRank(m, pathOnly, query, headers, (req.method ?? 'GET').toUpperCase());
          if (rank) candidates.push({ route, ruleIndex, matchIndex, rank: [...hostRank, ...rank] });
        });
      });
    }
    candidates.sort(compareCandidates);
    return candidates[0];
  }

  /** The HTTPRoutes with each rule's matches, read again only after a write (as `resolve`). */
  private routes(): ReadonlyArray<{ route: KubeObject; rules: JsonObject[][] }> {
    this.sync();
    this.routeTable ??= this.store.listView(HTTPROUTES).map((route) => ({ route, rules: rulesOf(route).map(matchesOf) }));
    return this.routeTable;
  }

  private pick(refs: JsonObject[]): JsonObject | undefined {
    const weights = refs.map((r) => (typeof r.weight === 'number' ? r.weight : 1));
    const total = weights.reduce((a, b) => a + b, 0);
    if (total <= 0) return undefined;
    let x = this.random() * total;
    for (let i = 0; i < refs.length; i++) {
      x -= weights[i];
      if (x < 0 && weights[i] > 0) return refs[i];
    }
    return refs[weights.map((w) => w > 0).lastIndexOf(true)];
  }

  /** The Deployments behind a Service (undefined: no such Service). */
  public resolveService(namespace: string, name: string): Backend | undefined {
    return this.resolve(namespace, { name, namespace });
  }

  /** backendRef -> Service -> Deployments selected by the Service (undefined: not a resolvable reference). */
  private resolve(routeNs: string, ref: JsonObject): Backend | undefined {
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') return undefined;
    this.sync();
    const cacheKey = `${routeNs}\0${String(ref.namespace ?? routeNs)}\0${String(ref.name)}`;
    if (this.resolved.has(cacheKey)) return this.resolved.get(cacheKey);
    const backend = this.resolveNow(routeNs, ref);
    this.resolved.set(cacheKey, backend);
    return backend;
  }

  private resolveNow(routeNs: string, ref: JsonObject): Backend | undefined {
    const ns = String(ref.namespace ?? routeNs);
    const name = String(ref.name);
    if (ns !== routeNs && !this.granted(routeNs, ns, name)) return undefined;
    const svc = this.store.view(SERVICES, ns, name);
    if (!svc) return undefined;
    const selector = isObject(svc.spec) && isObject(svc.spec.selector) ? svc.spec.selector : {};
    if (Object.keys(selector).length === 0) return { namespace: ns, service: name, deployments: [] };
    const deployments = this.store.listView(DEPLOYMENTS, ns)
      .filter((d) => labelsMatch(podLabels(d), selector))
      .map((d) => String(d.metadata.name));
    return { namespace: ns, service: name, deployments };
  }

  private granted(fromNs: string, toNs: string, service: string): boolean {
    return this.store.listView(GRANTS, toNs).some((g) => {
      const spec = isObject(g.spec) ? g.spec : {};
      const from = Array.isArray(spec.from) ? spec.from.filter(isObject) : [];
      const to = Array.isArray(spec.to) ? spec.to.filter(isObject) : [];
      return from.some((f) => f.group === 'gateway.networking.k8s.io' && f.kind === 'HTTPRoute' && f.namespace === fromNs)
        && to.some((t) => (t.group ?? '') === '' && t.kind === 'Service' && (t.name === undefined || t.name === service));
    });
  }
}

function rulesOf(route: KubeObject): JsonObject[] {
  const spec = isObject(route.spec) ? route.spec : {};
  return Array.isArray(spec.rules) ? spec.rules.filter(isObject) : [];
}

function matchesOf(rule: JsonObject): JsonObject[] {
  const ms = Array.isArray(rule.matches) ? rule.matches.filter(isObject) : [];
  return ms.length > 0 ? ms : [{ path: { type: 'PathPrefix', value: '/' } }];
}

function filtersOf(rule: JsonObject): JsonObject[] {
  return Array.isArray(rule.filters) ? rule.filters.filter(isObject) : [];
}

/** [non-wildcard hostname length, hostname length], or undefined when the route does not serve `host`. */
function hostnameRank(route: KubeObject, host: string): number[] | undefined {
  const spec = isObject(route.spec) ? route.spec : {};
  const names = Array.isArray(spec.hostnames) ? spec.hostnames.map((h) => String(h).toLowerCase()) : [];
  if (names.length === 0) return [0, 0];
  let best: number[] | undefined;
  for (const n of names) {
    const ok = n.startsWith('*.') ? host.endsWith(n.slice(1)) && host.length > n.length - 1 : host === n;
    if (!ok) continue;
    const rank = [n.startsWith('*.') ? 0 : n.length, n.length];
    if (!best || rank[0] > best[0] || (rank[0] === best[0] && rank[1] > best[1])) best = rank;
  }
  return best;
}

/** Precedence key of a matching HTTPRouteMatch (higher wins), or undefined when it does not match. */
function matchRank(m: JsonObject, path: string, query: Map<string, string>, headers: Record<string, string>, method: string): number[] | undefined {
  const p = isObject(m.path) ? m.path : { type: 'PathPrefix', value: '/' };
  const type = String(p.type ?? 'PathPrefix');
  const value = String(p.value ?? '/');
  if (type === 'Exact' && path !== value) return undefined;
  if (type === 'PathPrefix' && !prefixMatches(value, path)) return undefined;
  if (type === 'RegularExpression' && !new RegExp(`^(?:${value})$`).test(path)) return undefined;
  if (typeof m.method === 'string' && m.method.toUpperCase() !== method) return undefined;
  const hs = Array.isArray(m.headers) ? m.headers.filter(isObject) : [];
  if (!hs.every((h) => valueMatches(h, headers[String(h.name).toLowerCase()]))) return undefined;
  const qs = Array.isArray(m.queryParams) ? m.queryParams.filter(isObject) : [];
  if (!qs.every((q) => valueMatches(q, query.get(String(q.name))))) return undefined;
  return [type === 'Exact' ? 1 : 0, type === 'PathPrefix' ? value.replace(/\/$/, '').length : 0, typeof m.method === 'string' ? 1 : 0, hs.length, qs.length];
}

function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 ? prefix.replace(/\/$/, '') : prefix;
  if (p === '/') return true;
  return path === p || path.startsWith(p + '/');
}

function valueMatches(cond: JsonObject, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (cond.type === 'RegularExpression') return new RegExp(String(cond.value)).test(actual);
  return actual === String(cond.value);
}

function compareCandidates(a: Candidate, b: Candidate): number {
  for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return b.rank[i] - a.rank[i];
  const ta = String(a.route.metadata.creationTimestamp);
  const tb = String(b.route.metadata.creationTimestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = `${String(a.route.metadata.namespace)}/${String(a.route.metadata.name)}`;
  const nb = `${String(b.route.metadata.namespace)}/${String(b.route.metadata.name)}`;
  if (na !== nb) return na < nb ? -1 : 1;
  return a.ruleIndex - b.ruleIndex || a.matchIndex - b.matchIndex;
}

function splitQuery(p: string): [string, Map<string, string>] {
  const i = p.indexOf('?');
  if (i < 0) return [p, new Map()];
  const params = new URLSearchParams(p.slice(i + 1));
  const out = new Map<string, string>();
  for (const [k, v] of params) if (!out.has(k)) out.set(k, v);
  return [p.slice(0, i), out];
}

function podLabels(d: KubeObject): JsonObject {
  const spec = isObject(d.spec) ? d.spec : {};
  const tpl = isObject(spec.template) ? spec.template : {};
  const meta = isObject(tpl.metadata) ? tpl.metadata : {};
  return isObject(meta.labels) ? meta.labels : {};
}

function labelsMatch(labels: JsonObject, selector: JsonObject): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function readyReplicas(d: KubeObject | undefined): number {
  const status: Json | undefined = d?.status;
  return isObject(status) && typeof status.readyReplicas === 'number' ? status.readyReplicas : 0;
}
