/**
 * The HTTPRoute rules of a rollout at given weights: rendered at synth time for the initial weights, and by
 * the controller at every weight change. One function, so what the tests check is what the cluster gets.
 *
 * Layout of the rules, in precedence order:
 * 1. pins: one rule per pinned version, one match per pin value, whatever the weights. Gateway API (and Istio)
 *    rank a match with more header matches first, then more query-param matches, and only then rule order
 *    (HTTPRouteRule.Matches). A bucket rule has one header match, so with sticky routing each pin also gets a
 *    match that adds "bucket header present": 2 headers (header pin) or 1 header + 1 query param (query pin),
 *    both above a bucket rule; the pin's plain match serves requests the filter did not tag;
 * 2. sticky routing (header/query hash): one rule per canary with weight > 0, matching the bucket header the
 *    gateway's bucket filter sets (`x-model-rollout-bucket`, 0..99) against the canary's bucket range. Each
 *    canary owns a fixed region of buckets starting at the sum of the earlier canaries' targets, and its range
 *    grows from the start of that region: a key that reached a canary stays on it as its weight grows. Tagged
 *    requests in no canary range go to stable (a rule for exactly those buckets, absent when stable has none);
 * 3. the default rule: weighted backendRefs at the current weights. With random routing that is the split; with
 *    sticky routing it only serves requests the filter did not tag (another listener or host), which then get
 *    the weights rather than a version that may be scaled to zero after promotion.
 * The mirror filters go on every rule, pin rules included, so a mirror's percent is a share of all the route's
 * requests; a pin rule leading to the mirrored version itself carries no copy of its own requests (a second copy
 * to the same backend would double its load and its counts). The pins-only route of a pin endpoint is not mirrored.
 * Limits (HTTPRoute CRD, standard channel): at most 16 rules, 64 matches per rule, fewer than 128 matches in all;
 * `routeLimits()` computes what a layout needs.
 */
import { BUCKET_COUNT, BUCKET_HEADER } from '../constants';
import { KubernetesTarget, PinSpec } from '../contract/target';
import { noBackendForVersion } from '../runtime-errors';
import { RolloutSpec } from '../spec';
import { ShadowRoute, UNKNOWN_BACKEND } from '../state';
import { Weights } from '../weights';

/** Gateway API HTTPRoute rule, as plain data (the subset this library renders). */
export interface HttpRouteRule {
  readonly matches: ReadonlyArray<{
    readonly path?: { readonly type: 'PathPrefix'; readonly value: string };
    readonly headers?: ReadonlyArray<{ readonly type: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }>;
    readonly queryParams?: ReadonlyArray<{ readonly type: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }>;
  }>;
  readonly backendRefs: ReadonlyArray<{ readonly name: string; readonly port: number; readonly weight: number }>;
  readonly filters?: ReadonlyArray<{
    readonly type: 'RequestMirror';
    readonly requestMirror: { readonly backendRef: { readonly name: string; readonly port: number }; readonly percent: number };
  }>;
}

/** Bucket range [from, to) of each canary at the given weights. */
export function bucketRanges(spec: Pick<RolloutSpec, 'canaries'>, weights: Weights): Array<{ version: string; from: number; to: number }> {
  let offset = 0;
  return spec.canaries.map((c) => {
    const from = offset;
    offset += c.targetWeight;
    return { version: c.version, from, to: from + Math.min(weights[c.version] ?? 0, c.targetWeight) };
  });
}

/** An RE2 regular expression matching exactly the decimal integers in [from, to). */
export function bucketRegex(from: number, to: number): string {
  const values: string[] = [];
  for (let b = from; b < Math.min(to, BUCKET_COUNT); b++) values.push(String(b));
  return `^(${values.join('|')})$`;
}

/** An RE2 regular expression matching exactly the buckets in no range (stable's buckets), or undefined if none. */
export function complementRegex(ranges: ReadonlyArray<{ from: number; to: number }>): string | undefined {
  const values: string[] = [];
  for (let b = 0; b < BUCKET_COUNT; b++) if (!ranges.some((r) => b >= r.from && b < r.to)) values.push(String(b));
  return values.length > 0 ? `^(${values.join('|')})$` : undefined;
}

/** Gateway API limits of one HTTPRoute's rules (standard channel CRD: spec.rules maxItems 16, matches 64, total < 128). */
export const HTTPROUTE_MAX_RULES = 16;
export const HTTPROUTE_MAX_MATCHES_PER_RULE = 64;
export const HTTPROUTE_MAX_TOTAL_MATCHES = 127;

/** Rules and matches the rollout's route needs at most (every canary and stable tagged at once). */
export function routeLimits(canaries: number, target: Pick<KubernetesTarget, 'pins' | 'routing'>): { rules: number; matches: number; maxMatchesPerRule: number } {
  const sticky = target.routing.kind !== 'random';
  const perPin = sticky ? 2 : 1;
  const pinVersions = new Map<string, number>();
  for (const p of target.pins) pinVersions.set(p.version, (pinVersions.get(p.version) ?? 0) + perPin);
  const pinMatches = [...pinVersions.values()];
  const bodyRules = sticky ? canaries + 2 : 1;
  return {
    rules: pinVersions.size + bodyRules,
    matches: pinMatches.reduce((a, b) => a + b, 0) + bodyRules,
    maxMatchesPerRule: Math.max(1, ...pinMatches),
  };
}

/** The rules of the rollout's HTTPRoute at `weights`. */
export function renderHttpRouteRules(spec: Pick<RolloutSpec, 'stable' | 'canaries' | 'mirror'>, target: KubernetesTarget, weights: Weights,
  shadow?: ShadowRoute): HttpRouteRule[] {
  const path = target.pathPrefix ? { path: { type: 'PathPrefix' as const, value: target.pathPrefix } } : {};
  const ref = (version: string, weight: number) => {
    const b = target.backends[version];
    if (!b) throw noBackendForVersion(version);
    return { name: b.service, port: b.port, weight };
  };
  const mirrorTo = (m: ShadowRoute) => ({ type: 'RequestMirror' as const, requestMirror: { backendRef: { name: ref(m.version, 0).name, port: ref(m.version, 0).port }, percent: m.percent } });
  // the rollout's shadow version, then a shadow step's canary: RequestMirror may repeat in a rule (the CRD's CEL rules
  // forbid repeating the header modifiers, redirect and rewrite, not the mirror; GEP-3171 made several mirrors standard).
  // Copies are fire-and-forget: the gateway does not wait for their answers, and Envoy-based gateways (Istio, Envoy
  // Gateway) suffix the copy's Host/authority with `-shadow` (Envoy's RequestMirrorPolicy); vLLM ignores the Host, and
  // its own counters (`vllm:request_success_total`) count the copies the shadow step's error test reads
  // (src/rollout/serving-engine.ts).
  const mirrors = [...(spec.mirror ? [mirrorTo(spec.mirror)] : []), ...(shadow ? [mirrorTo(shadow)] : [])];
  const filters = mirrors.length > 0 ? mirrors : undefined;
  const withFilters = (rule: HttpRouteRule): HttpRouteRule => (filters ? { ...rule, filters } : rule);

  const sticky = target.routing.kind !== 'random';
  const rules: HttpRouteRule[] = renderPinRules(target, sticky).map((rule) => {
    const own = mirrors.filter((m) => m.requestMirror.backendRef.name !== rule.backendRefs[0]?.name);
    return own.length > 0 ? { ...rule, filters: own } : rule;
  });

  const versions = [spec.stable, ...spec.canaries.map((c) => c.version)];
  const split = () => withFilters({ matches: [{ ...path }], backendRefs: versions.map((v) => ref(v, weights[v] ?? 0)) });
  if (!sticky) {
    rules.push(split());
    return rules;
  }
  const ranges = bucketRanges(spec, weights);
  for (const range of ranges) {
    if (range.to <= range.from) continue;
    rules.push(withFilters({
      matches: [{ ...path, headers: [{ type: 'RegularExpression', name: BUCKET_HEADER, value: bucketRegex(range.from, range.to) }] }],
      backendRefs: [ref(range.version, 1)],
    }));
  }
  const rest = complementRegex(ranges);
  if (rest) {
    rules.push(withFilters({
      matches: [{ ...path, headers: [{ type: 'RegularExpression', name: BUCKET_HEADER, value: rest }] }],
      backendRefs: [ref(spec.stable, 1)],
    }));
  }
  rules.push(split());
  return rules;
}

/**
 * Weights from HTTPRoute rules rendered by `renderHttpRouteRules` (random: backendRef weights; sticky: bucket
 * ranges). Every backend the route sends to is reported: the spec's versions (0 when absent), other versions of
 * the target by name, and backends outside the target as `UNKNOWN_BACKEND`, so a replaced or removed canary
 * still on the route is seen, never counted as the stable version. Undefined when no split rule is found.
 */
export function weightsFromRules(spec: RolloutSpec, target: KubernetesTarget, rules: readonly HttpRouteRule[]): Weights | undefined {
  const byService = new Map(Object.entries(target.backends).map(([v, b]) => [b.service, v]));
  const versionOf = (service: string | undefined) => (service !== undefined && byService.get(service)) || UNKNOWN_BACKEND;
  const weights: Weights = Object.fromEntries([spec.stable, ...spec.canaries.map((c) => c.version)].map((v) => [v, 0]));
  const add = (v: string, n: number) => { weights[v] = (weights[v] ?? 0) + n; };
  // a pin matches a header other than the bucket header (exact, a regular expression, a cookie) or a query parameter
  const isPin = (r: HttpRouteRule) => r.matches.some((m) => (m.headers ?? []).some((h) => h.name !== BUCKET_HEADER)
    || (m.queryParams ?? []).length > 0);
  const body = rules.filter((r) => !isPin(r));
  if (target.routing.kind === 'random') {
    const split = body.find((r) => r.backendRefs.length > 0);
    if (!split) return undefined;
    const total = split.backendRefs.reduce((sum, ref) => sum + (ref.weight ?? 1), 0);
    if (total <= 0) return undefined;
    // Gateway API weights are relative: read them as percent of their total
    for (const ref of split.backendRefs) add(versionOf(ref.name), Math.round(((ref.weight ?? 1) * 100) / total));
    return weights;
  }
  let bucketed = 0;
  let rest: string | undefined;
  for (const r of body) {
    const header = r.matches.flatMap((m) => m.headers ?? []).find((h) => h.name === BUCKET_HEADER);
    if (!header) {
      rest = rest ?? (r.backendRefs.length > 0 ? versionOf(r.backendRefs[0]?.name) : undefined);
      continue;
    }
    const buckets = /^\^\((.*)\)\$$/.exec(header.value)?.[1].split('|').filter((x) => x !== '').length ?? 0;
    add(versionOf(r.backendRefs[0]?.name), buckets);
    bucketed += buckets;
  }
  if (rest === undefined) return undefined;
  add(rest, 100 - bucketed);
  for (const v of Object.keys(weights)) if (weights[v] === 0 && v !== spec.stable && !spec.canaries.some((c) => c.version === v)) delete weights[v];
  return weights;
}


/**
 * The mirrors of the rules rendered by `renderHttpRouteRules`, as versions of the target (a backend outside it as
 * `UNKNOWN_BACKEND`), once each: every non-pin rule carries the same filters. `percent` absent reads as 100 (the
 * Gateway API default, and what a CRD before v1.3 leaves after pruning it).
 */
export function mirrorsFromRules(target: KubernetesTarget, rules: readonly HttpRouteRule[]): ShadowRoute[] {
  const byService = new Map(Object.entries(target.backends).map(([v, b]) => [b.service, v]));
  const out = new Map<string, number>();
  for (const r of rules) {
    for (const f of r.filters ?? []) {
      if (f.type !== 'RequestMirror' || !f.requestMirror?.backendRef) continue;
      const version = byService.get(f.requestMirror.backendRef.name) ?? UNKNOWN_BACKEND;
      out.set(version, Math.max(out.get(version) ?? 0, f.requestMirror.percent ?? 100));
    }
  }
  return [...out.entries()].map(([version, percent]) => ({ version, percent }));
}

/** `s` with every RE2/JavaScript metacharacter escaped. */
function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A pin's match. Regular expressions are anchored (`^(?:...)$`) so they mean the same under the full-match semantics
 * of Envoy-based implementations (Istio, Envoy Gateway: `safe_regex`) and a partial-match one: Gateway API leaves
 * `RegularExpression` implementation-specific (HTTPHeaderMatch, HTTPQueryParamMatch). A cookie pin matches the
 * `Cookie` header (Envoy joins HTTP/2 cookie crumbs with `; `), as Flagger's cookie match does.
 */
function pinMatch(pin: PinSpec): Pick<HttpRouteRule['matches'][number], 'headers' | 'queryParams'> {
  const anchored = (re: string) => `^(?:${re})$`;
  if (pin.cookie) {
    const value = `^(?:.*;\\s*)?${escapeRegex(pin.cookie.name)}=${escapeRegex(pin.cookie.value)}(?:;.*)?$`;
    return { headers: [{ type: 'RegularExpression', name: 'cookie', value }] };
  }
  if (pin.header) {
    const h = pin.header;
    return { headers: [h.regex ? { type: 'RegularExpression', name: h.name, value: anchored(h.value) } : { type: 'Exact', name: h.name, value: h.value }] };
  }
  const q = pin.query!;
  return { queryParams: [q.regex ? { type: 'RegularExpression', name: q.name, value: anchored(q.value) } : { type: 'Exact', name: q.name, value: q.value }] };
}

/**
 * The pins' rules: one rule per pinned version, one match per pin value. With `sticky`, each pin also gets a match
 * with "bucket header present", which outranks every bucket rule (see the top of this file). Alone (a rollout's
 * `pinEndpoint`), they form a pins-only route with no catch-all: a request without a pin gets 404 there.
 */
export function renderPinRules(target: KubernetesTarget, sticky = false): HttpRouteRule[] {
  const path = target.pathPrefix ? { path: { type: 'PathPrefix' as const, value: target.pathPrefix } } : {};
  const tagged = { type: 'RegularExpression' as const, name: BUCKET_HEADER, value: '^[0-9]+$' };
  const byVersion = new Map<string, Array<HttpRouteRule['matches'][number]>>();
  for (const pin of target.pins) {
    const exact = { ...path, ...pinMatch(pin) };
    const list = byVersion.get(pin.version) ?? [];
    // sticky: the tagged variant outranks every bucket rule (more header or query matches)
    if (sticky) list.push({ ...exact, headers: [...(exact.headers ?? []), tagged] });
    list.push(exact);
    byVersion.set(pin.version, list);
  }
  return [...byVersion.entries()].map(([version, matches]) => {
    const b = target.backends[version];
    if (!b) throw noBackendForVersion(version);
    return { matches, backendRefs: [{ name: b.service, port: b.port, weight: 1 }] };
  });
}
