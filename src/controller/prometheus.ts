/**
 * Prometheus HTTP API client (instant queries) and the metrics port built on it.
 * Every failure (connection refused, timeout, bad status, no series, several series) becomes an observation with
 * `error` or without `value`: the engine treats it as inconclusive, so Prometheus being down never rolls back.
 */
import * as errors from './errors';
import { request } from './http-request';
import { Metrics } from './ports';
import { TICK_SECONDS } from '../core/constants';
import { seriesKey } from '../core/counters';
import { fillPlaceholders, placeholdersIn, RuntimePlaceholderValues, runtimeValues } from '../core/placeholders';
import { MetricSpec, RolloutSpec } from '../core/spec';
import { MetricObservation } from '../core/state';

/** One instant query's result. */
export interface QueryResult {
  /** The single sample's value; undefined when the query returned no series. */
  readonly value?: number;
}

/** How the controller reaches Prometheus: auth headers and the CA that signed its certificate. */
export interface PrometheusConnection {
  /** Headers sent with every query (`Authorization: Bearer ...` or `Basic ...`). */
  readonly headers?: Record<string, string>;
  /** PEM bundle of the CA(s) that signed Prometheus' certificate (https): replaces the system's trust store. */
  readonly ca?: string | Buffer;
}

/** Options of one instant query. */
export interface InstantQueryOptions extends PrometheusConnection {
  readonly timeoutMs?: number;
  /** Evaluation time (s since epoch; Prometheus' `time` parameter). Absent: the server's now. */
  readonly time?: number;
}

/**
 * Run an instant query; rejects on transport or API errors and on more than one series. A TLS failure (a CA that
 * did not sign the server's certificate) and a 401/403 reject with a message that says what to fix.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
 */
export async function instantQuery(baseUrl: string, query: string, timeoutOrOptions: number | InstantQueryOptions = 5000): Promise<QueryResult> {
  const o: InstantQueryOptions = typeof timeoutOrOptions === 'number' ? { timeoutMs: timeoutOrOptions } : timeoutOrOptions;
  const time = o.time !== undefined ? `&time=${encodeURIComponent(String(o.time))}` : '';
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}${time}`;
  let text: string;
  try {
    text = await request(url, { timeoutMs: o.timeoutMs ?? 5000, headers: o.headers, ca: o.ca });
  } catch (e) {
    throw errors.prometheusUnreachable(baseUrl, e as Error & { status?: number });
  }
  const body = JSON.parse(text) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  };
  if (body.status !== 'success' || !body.data) throw errors.queryFailed(body.error ?? body.status);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return { value: Number((result as [number, string])[1]) };
  if (resultType === 'vector') {
    const series = result as Array<{ value: [number, string] }>;
    if (series.length === 0) return {};
    if (series.length > 1) throw errors.queryNotOneSeries(series.length);
    return { value: Number(series[0].value[1]) };
  }
  throw errors.queryNotScalar(resultType);
}

/**
 * Run an instant query and return every series' value by series key (`core/counters.ts` `seriesKey`): the raw
 * counter totals of a sequential test on `totals`. A scalar is one series with no labels.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
 */
export async function instantVector(baseUrl: string, query: string, o: InstantQueryOptions = {}): Promise<Record<string, number>> {
  const time = o.time !== undefined ? `&time=${encodeURIComponent(String(o.time))}` : '';
  const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}${time}`;
  let text: string;
  try {
    text = await request(url, { timeoutMs: o.timeoutMs ?? 5000, headers: o.headers, ca: o.ca });
  } catch (e) {
    throw errors.prometheusUnreachable(baseUrl, e as Error & { status?: number });
  }
  const body = JSON.parse(text) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
  if (body.status !== 'success' || !body.data) throw errors.queryFailed(body.error ?? body.status);
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return { [seriesKey({})]: Number((result as [number, string])[1]) };
  if (resultType !== 'vector') throw errors.queryNotVector(resultType);
  const out: Record<string, number> = {};
  for (const series of result as Array<{ metric: Record<string, string>; value: [number, string] }>) {
    out[seriesKey(series.metric)] = Number(series.value[1]);
  }
  return out;
}

/** Every metric the spec may measure: continuous checks and every analysis gate's. */
function metricsOf(spec: RolloutSpec): MetricSpec[] {
  const all = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))];
  const seen = new Set<string>();
  return all.filter((m) => (seen.has(m.name) ? false : (seen.add(m.name), true)));
}

/** Options of `PrometheusMetrics` beyond the address. */
export interface PrometheusMetricsOptions extends PrometheusConnection {
  readonly timeoutMs?: number;
  /**
   * Seconds of one tick (default `spec.tickSeconds`): `{{window}}` becomes `<n>s` and the queries are evaluated at
   * the end of the current slot of a grid of ticks (`time` = now rounded down to a multiple of the window), so
   * consecutive ticks read adjacent windows and two ticks within one slot read the same one (taken once by the
   * engine: `counts.windowEnd`). Never a window counted twice, whatever the pod's start latency. Neither set: a
   * `60s` window at Prometheus' now (one tick a minute).
   */
  readonly windowSeconds?: number;
  /** Clock (ms). @default Date.now */
  readonly now?: () => number;
}

/** The metrics port over Prometheus. CloudWatch alarm metrics are left to the AWS port. */
export class PrometheusMetrics implements Metrics {
  constructor(private readonly baseUrl: string, private readonly options: PrometheusMetricsOptions = {}) {}

  public async measure(spec: RolloutSpec, versions: readonly string[]): Promise<Record<string, Record<string, MetricObservation>>> {
    const metrics = metricsOf(spec).filter((m): m is Extract<MetricSpec, { provider: 'prometheus' }> => m.provider === 'prometheus');
    const out: Record<string, Record<string, MetricObservation>> = {};
    const grid = this.options.windowSeconds ?? spec.tickSeconds;
    const window = grid ?? TICK_SECONDS;
    const now = (this.options.now ?? Date.now)();
    // the end of the current slot of the tick grid: adjacent windows tick after tick, the same one within a slot.
    // A spec without `tickSeconds` (one tick a minute) is measured at Prometheus' now.
    const time = grid !== undefined ? Math.floor(now / 1000 / grid) * grid : undefined;
    const connection = { headers: this.options.headers, ca: this.options.ca, timeoutMs: this.options.timeoutMs ?? 5000, time };
    await Promise.all(versions.map(async (version) => {
      const vars = runtimeValues(spec, version, window);
      // the stable version over the same window, for comparisons and the sequential test
      const stableVars = runtimeValues(spec, spec.stable, window);
      out[version] = {};
      await Promise.all(metrics.map(async (m) => {
        const q = (property: string, query: string, v: RuntimePlaceholderValues) => {
          const filled = fillPlaceholders(query, v);
          const left = placeholdersIn(filled);
          if (left.length > 0) return Promise.reject(errors.placeholdersLeft(m.name, property, filled, left));
          return instantQuery(this.baseUrl, filled, connection);
        };
        try {
          if (m.sequential?.totals) {
            // raw counter totals: the engine takes the differences (core/counters.ts); the ceiling is judged on them
            const v = (property: string, query: string, values: RuntimePlaceholderValues) => {
              const filled = fillPlaceholders(query, values);
              const left = placeholdersIn(filled);
              if (left.length > 0) return Promise.reject(errors.placeholdersLeft(m.name, property, filled, left));
              return instantVector(this.baseUrl, filled, connection);
            };
            const [cr, ce, sr, se] = await Promise.all([
              v('requestsQuery', m.sequential.requestsQuery, vars), v('errorsQuery', m.sequential.errorsQuery, vars),
              v('requestsQuery', m.sequential.requestsQuery, stableVars), v('errorsQuery', m.sequential.errorsQuery, stableVars),
            ]);
            // stable serves the environment: no series for it is a query that selects nothing (a metric the engine
            // does not export, a label it lacks), never "no traffic"; a measurement error holds the weights
            if (Object.keys(sr).length === 0) {
              throw errors.noStableSeries(m.name, spec.stable, fillPlaceholders(m.sequential.requestsQuery, stableVars));
            }
            out[version][m.name] = {
              totals: { canary: { requests: cr, errors: ce }, stable: { requests: sr, errors: se }, at: (time ?? now / 1000) * 1000 },
            };
            return;
          }
          const [main, samples, baseline, baselineSamples, counts] = await Promise.all([
            q('query', m.query, vars),
            m.sampleQuery ? q('sampleQuery', m.sampleQuery, vars) : Promise.resolve(undefined),
            m.baseline ? q('baseline query', m.baseline.query ?? m.query, stableVars) : Promise.resolve(undefined),
            m.baseline && m.sampleQuery ? q('sampleQuery', m.sampleQuery, stableVars) : Promise.resolve(undefined),
            m.sequential ? this.counts(q, m.sequential.errorsQuery, m.sequential.requestsQuery, vars, stableVars) : Promise.resolve(undefined),
          ]);
          out[version][m.name] = {
            value: main.value,
            samples: samples?.value,
            ...(baseline ? { baseline: baseline.value } : {}),
            ...(baselineSamples ? { baselineSamples: baselineSamples.value } : {}),
            ...(counts ? { counts: time !== undefined ? { ...counts, windowEnd: time * 1000 } : counts } : {}),
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
  private async counts(
    q: (property: string, query: string, v: RuntimePlaceholderValues) => Promise<QueryResult>,
    errorsQuery: string, requestsQuery: string, canary: RuntimePlaceholderValues, stable: RuntimePlaceholderValues,
  ) {
    const [ce, cr, se, sr] = await Promise.all([
      q('errorsQuery', errorsQuery, canary), q('requestsQuery', requestsQuery, canary),
      q('errorsQuery', errorsQuery, stable), q('requestsQuery', requestsQuery, stable),
    ]);
    if (cr.value === undefined) return undefined;
    return {
      canary: { requests: cr.value, errors: ce.value ?? 0 },
      stable: { requests: sr.value ?? 0, errors: se.value ?? 0 },
    };
  }
}
