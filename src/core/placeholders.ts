/**
 * The `{{name}}` placeholders a check's PromQL may carry, and who fills each: the one list both the constructs and
 * the controller read, so a query can never name a placeholder that nobody fills.
 *
 * - Synth-time placeholders name where the rollout runs; the target fills them when it builds the spec, so the
 *   document the controller reads (and the plan a reviewer approves) holds the values, not the names.
 * - Run-time placeholders change per query: the controller fills them (`controller/prometheus.ts`).
 *
 * A query that still holds `{{` after both is a configuration error, reported with the check's name and never sent:
 * it would match no series, and an empty answer reads as "no data", which holds and then aborts the rollout.
 */
import { MetricSpec, RolloutSpec, StepSpec } from './spec';

/** Filled at synth time by the target: the model's name, the environment's name, the Kubernetes namespace. */
export const SYNTH_PLACEHOLDERS = ['model', 'environment', 'namespace'] as const;
/** Filled by the controller per query: the measured version, the stable version, the rollout, one tick (`10s`). */
export const RUNTIME_PLACEHOLDERS = ['version', 'stable', 'rollout', 'window'] as const;

export type SynthPlaceholder = typeof SYNTH_PLACEHOLDERS[number];
export type RuntimePlaceholder = typeof RUNTIME_PLACEHOLDERS[number];

/** Values of the synth-time placeholders. */
export type SynthPlaceholderValues = Readonly<Record<SynthPlaceholder, string>>;
/** Values of the run-time placeholders. */
export type RuntimePlaceholderValues = Readonly<Record<RuntimePlaceholder, string>>;

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;
const KNOWN: ReadonlySet<string> = new Set<string>([...SYNTH_PLACEHOLDERS, ...RUNTIME_PLACEHOLDERS]);

/** Replace the placeholders `values` names; others stay as written. */
export function fillPlaceholders(query: string, values: Readonly<Partial<Record<string, string>>>): string {
  return query.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** Names of the placeholders still in `query`, each once, in order; `{{` without a name counts as `{{`. */
export function placeholdersIn(query: string): string[] {
  const names = [...query.matchAll(PLACEHOLDER)].map((m) => m[1]);
  if (query.replace(PLACEHOLDER, '').includes('{{')) names.push('{{');
  return names.filter((n, i) => names.indexOf(n) === i);
}

/** Placeholders no one fills (neither the target nor the controller). */
export function unknownPlaceholders(query: string): string[] {
  return placeholdersIn(query).filter((n) => !KNOWN.has(n));
}

/** Placeholders in `query` that the controller does not fill: after synth-time filling, these are errors. */
export function notFilledAtRunTime(query: string): string[] {
  return placeholdersIn(query).filter((n) => !(RUNTIME_PLACEHOLDERS as readonly string[]).includes(n));
}

/** Every PromQL query of a metric, with the property that holds it (for messages). */
export function queriesOf(metric: MetricSpec): Array<{ readonly property: string; readonly query: string }> {
  if (metric.provider !== 'prometheus') return [];
  return [
    { property: 'query', query: metric.query },
    ...(metric.sampleQuery !== undefined ? [{ property: 'sampleQuery', query: metric.sampleQuery }] : []),
    ...(metric.baseline?.query !== undefined ? [{ property: 'baseline.query', query: metric.baseline.query }] : []),
    ...(metric.sequential ? [
      { property: 'errorsQuery', query: metric.sequential.errorsQuery },
      { property: 'requestsQuery', query: metric.sequential.requestsQuery },
    ] : []),
  ];
}

/** The metric with every query passed through `fill`. */
export function mapQueries(metric: MetricSpec, fill: (query: string) => string): MetricSpec {
  if (metric.provider !== 'prometheus') return metric;
  return {
    ...metric,
    query: fill(metric.query),
    ...(metric.sampleQuery !== undefined ? { sampleQuery: fill(metric.sampleQuery) } : {}),
    ...(metric.baseline?.query !== undefined ? { baseline: { ...metric.baseline, query: fill(metric.baseline.query) } } : {}),
    ...(metric.sequential ? {
      sequential: { ...metric.sequential, errorsQuery: fill(metric.sequential.errorsQuery), requestsQuery: fill(metric.sequential.requestsQuery) },
    } : {}),
  };
}

/** The spec's continuous checks and analysis gates with the synth-time placeholders filled. */
export function fillSynthPlaceholders<S extends Pick<RolloutSpec, 'checks' | 'steps'>>(spec: S, values: Partial<SynthPlaceholderValues>): S {
  const fill = (q: string) => fillPlaceholders(q, values);
  const steps = spec.steps.map((s): StepSpec => (s.kind === 'analysis'
    ? { ...s, gate: { ...s.gate, metrics: s.gate.metrics.map((m) => mapQueries(m, fill)) } }
    : s));
  return { ...spec, checks: spec.checks.map((m) => mapQueries(m, fill)), steps };
}

/** The run-time values for a query of `version` in a rollout, one tick of `windowSeconds` long. */
export function runtimeValues(spec: Pick<RolloutSpec, 'name' | 'stable'>, version: string, windowSeconds: number): RuntimePlaceholderValues {
  return { version, stable: spec.stable, rollout: spec.name, window: `${windowSeconds}s` };
}

/**
 * The queries of a metric that do not select the environment (no `{{environment}}`): a model served in staging and
 * production exports the same series names in both, so such a query sums both environments' requests and errors
 * (staging's failures fail production's rollout, or production's volume hides the canary's). A warning, not an
 * error: a metric can name its environment by a label of its own.
 */
export function queriesWithoutEnvironment(metric: MetricSpec): Array<{ readonly property: string; readonly query: string }> {
  return queriesOf(metric).filter((q) => !placeholdersIn(q.query).includes('environment'));
}

/** The warning for a query without `{{environment}}`: path, property, query and fix. */
export function environmentNotSelected(path: string, property: string, metric: string, query: string): string {
  return `[${path}] ${property}: the ${metric} query does not select {{environment}} (received ${query.length > 160 ? `${query.slice(0, 157)}...` : query}), `
    + 'so it counts every environment of the model together. Fix: add environment="{{environment}}" to its selectors '
    + '(the PodMonitor puts the label on every series), or select the environment by a label of your own';
}
