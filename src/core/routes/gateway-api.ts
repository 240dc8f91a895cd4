/**
 * The HTTPRoute rules of a rollout at given weights: rendered at synth time for the initial weights, and by
 * the controller at every weight change. One function, so what the tests check is what the cluster gets.
 *
 * Layout of the rules, in precedence order:
 * 1. pins: one rule per pin (header or query match) to its version, whatever the weights;
 * 2. sticky routing (header/query hash): one rule per canary with weight > 0, matching the bucket header the
 *    gateway's bucket filter sets (`x-model-rollout-bucket`, 0..99) against the canary's bucket range. Each
 *    canary owns a fixed region of buckets starting at the sum of the earlier canaries' targets, and its range
 *    grows from the start of that region: a key that reached a canary stays on it as its weight grows;
 * 3. the default rule: random routing splits by weighted backendRefs; sticky routing sends the rest to stable.
 * The mirror filter goes on every non-pin rule, so its percent is a share of all requests.
 */
import { BUCKET_COUNT, BUCKET_HEADER } from '../constants';
import { KubernetesTarget } from '../contract/target';
import { RolloutSpec } from '../spec';
import { Weights } from '../weights';

/** Gateway API HTTPRoute rule, as plain data (the subset this library renders). */
export interface HttpRouteRule {
  readonly matches: ReadonlyArray<{
    readonly path?: { readonly type: 'PathPrefix'; readonly value: string };
    readonly headers?: ReadonlyArray<{ readonly type: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }>;
    readonly queryParams?: ReadonlyArray<{ readonly type: 'Exact'; readonly name: string; readonly value: string }>;
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

/** The rules of the rollout's HTTPRoute at `weights`. */
export function renderHttpRouteRules(spec: Pick<RolloutSpec, 'stable' | 'canaries' | 'mirror'>, target: KubernetesTarget, weights: Weights): HttpRouteRule[] {
  const path = target.pathPrefix ? { path: { type: 'PathPrefix' as const, value: target.pathPrefix } } : {};
  const ref = (version: string, weight: number) => {
    const b = target.backends[version];
    if (!b) throw new Error(`no backend for version "${version}" in the rollout target`);
    return { name: b.service, port: b.port, weight };
  };
  const filters = spec.mirror
    ? [{ type: 'RequestMirror' as const, requestMirror: { backendRef: { name: ref(spec.mirror.version, 0).name, port: ref(spec.mirror.version, 0).port }, percent: spec.mirror.percent } }]
    : undefined;
  const withFilters = (rule: HttpRouteRule): HttpRouteRule => (filters ? { ...rule, filters } : rule);

  const rules: HttpRouteRule[] = target.pins.map((pin) => ({
    matches: [{
      ...path,
      ...(pin.header ? { headers: [{ type: 'Exact' as const, name: pin.header.name, value: pin.header.value }] } : {}),
      ...(pin.query ? { queryParams: [{ type: 'Exact' as const, name: pin.query.name, value: pin.query.value }] } : {}),
    }],
    backendRefs: [ref(pin.version, 1)],
  }));

  const versions = [spec.stable, ...spec.canaries.map((c) => c.version)];
  if (target.routing.kind === 'random') {
    rules.push(withFilters({ matches: [{ ...path }], backendRefs: versions.map((v) => ref(v, weights[v] ?? 0)) }));
    return rules;
  }
  for (const range of bucketRanges(spec, weights)) {
    if (range.to <= range.from) continue;
    rules.push(withFilters({
      matches: [{ ...path, headers: [{ type: 'RegularExpression', name: BUCKET_HEADER, value: bucketRegex(range.from, range.to) }] }],
      backendRefs: [ref(range.version, 1)],
    }));
  }
  rules.push(withFilters({ matches: [{ ...path }], backendRefs: [ref(spec.stable, 1)] }));
  return rules;
}
