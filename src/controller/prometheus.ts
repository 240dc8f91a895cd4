/**
 * Prometheus HTTP API client (instant queries) and the metrics port built on it.
 * Every failure (connection refused, timeout, bad status, no series, several series) becomes an observation with
 * `error` or without `value`: the engine treats it as inconclusive, so Prometheus being down never rolls back.
 */
import { request } from './http-request';
import { Metrics } from './ports';
import { MetricSpec, RolloutSpec } from '../core/spec';
import { MetricObservation } from '../core/state';

/** One instant query's result. */
export interface QueryResult {
  /** The single sample's value; undefined when the query returned no series. */
  readonly value?: number;
}

/** Run an instant query; rejects on transport or API errors and on more than one series. */
export async function instantQuery(baseUrl: string, query: string, timeoutMs = 5000): Promise<QueryResult> {
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const body = JSON.parse(await request(url, { timeoutMs })) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (body.status !== 'success' || !body.data) throw new Error(`query failed: ${body.error ?? body.status}`);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return { value: Number((result as [number, string])[1]) };
  if (resultType === 'vector') {
    const series = result as Array<{ value: [number, string] }>;
    if (series.length === 0) return {};
    if (series.length > 1) throw new Error(`query returned ${series.length} series; a gate needs one (aggregate it with sum() or similar)`);
    return { value: Number(series[0].value[1]) };
  }
  throw new Error(`query returned a ${resultType}; a gate needs a scalar or a one-element vector`);
}

/** Replace `{{name}}` placeholders. */
export function substitute(query: string, vars: Record<string, string>): string {
  return query.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** Every metric the spec may measure: continuous checks and every analysis gate's. */
export function metricsOf(spec: RolloutSpec): MetricSpec[] {
  const all = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))];
  const seen = new Set<string>();
  return all.filter((m) => (seen.has(m.name) ? false : (seen.add(m.name), true)));
}

/** The metrics port over Prometheus. CloudWatch alarm metrics are left to the AWS port. */
export class PrometheusMetrics implements Metrics {
  constructor(private readonly baseUrl: string, private readonly vars: Record<string, string> = {}, private readonly timeoutMs = 5000) {}

  public async measure(spec: RolloutSpec, versions: readonly string[]): Promise<Record<string, Record<string, MetricObservation>>> {
    const metrics = metricsOf(spec).filter((m): m is Extract<MetricSpec, { provider: 'prometheus' }> => m.provider === 'prometheus');
    const out: Record<string, Record<string, MetricObservation>> = {};
    await Promise.all(versions.map(async (version) => {
      const vars = { ...this.vars, version, rollout: spec.name, stable: spec.stable };
      // the stable version over the same window, for comparisons and the sequential test
      const stableVars = { ...vars, version: spec.stable };
      const q = (query: string, v: Record<string, string>) => instantQuery(this.baseUrl, substitute(query, v), this.timeoutMs);
      out[version] = {};
      await Promise.all(metrics.map(async (m) => {
        try {
          const [main, samples, baseline, counts] = await Promise.all([
            q(m.query, vars),
            m.sampleQuery ? q(m.sampleQuery, vars) : Promise.resolve(undefined),
            m.baseline ? q(m.baseline.query ?? m.query, stableVars) : Promise.resolve(undefined),
            m.sequential ? this.counts(m.sequential.errorsQuery, m.sequential.requestsQuery, vars, stableVars) : Promise.resolve(undefined),
          ]);
          out[version][m.name] = {
            value: main.value,
            samples: samples?.value,
            ...(baseline ? { baseline: baseline.value } : {}),
            ...(counts ? { counts } : {}),
          };
        } catch (e) {
          out[version][m.name] = { error: (e as Error).message };
        }
      }));
    }));
    return out;
  }

  /**
   * Errors and requests of the canary and of the stable version in one window, for the sequential test. A canary
   * without requests has no counts (no data), not zero of each.
   */
  private async counts(errorsQuery: string, requestsQuery: string, canary: Record<string, string>, stable: Record<string, string>) {
    const q = (query: string, v: Record<string, string>) => instantQuery(this.baseUrl, substitute(query, v), this.timeoutMs);
    const [ce, cr, se, sr] = await Promise.all([q(errorsQuery, canary), q(requestsQuery, canary), q(errorsQuery, stable), q(requestsQuery, stable)]);
    if (cr.value === undefined) return undefined;
    return {
      canary: { requests: cr.value, errors: ce.value ?? 0 },
      stable: { requests: sr.value ?? 0, errors: se.value ?? 0 },
    };
  }
}
