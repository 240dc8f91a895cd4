/**
 * A seeded discrete-time simulation of one canary rollout (10 s steps): traffic with per-request sampling noise
 * (Poisson arrivals, binomial errors, for the canary AND the stable version), per-replica capacity, GPU cold starts,
 * an autoscaler with a lag, and a strategy that sets weights and replica counts. Deterministic for a given seed.
 */

/** The world a strategy runs in. */
export interface Scenario {
  readonly name: string;
  /** Requests per second (all versions). */
  readonly rps: number;
  /** Requests one replica answers per second. */
  readonly perReplicaRps: number;
  /** Seconds from a replica's creation to ready (GPU node, image pull, model load). */
  readonly coldStartSeconds: number;
  /** Seconds an autoscaler takes to react to load. */
  readonly autoscalerLagSeconds: number;
  /** Error rate of the stable version. */
  readonly stableErrorRate: number;
  /** Error rate of the canary. */
  readonly canaryErrorRate: number;
  /** Replicas of the stable version (sized for the traffic). */
  readonly stableReplicas: number;
  /** GPUs per replica. */
  readonly gpusPerReplica: number;
  /** Simulated seconds. */
  readonly horizonSeconds: number;
  /**
   * The metric pipeline as a real cluster has it; absent: exact counts per 10 s step, read the instant they happen.
   */
  readonly pipeline?: Pipeline;
  /**
   * Errors arrive in clusters of this many (a client and its retries: the OpenAI SDK makes 3 attempts by default,
   * `max_retries` 2, openai/openai-python `DEFAULT_MAX_RETRIES`), for both versions, at the same mean rate. @default 1
   */
  readonly errorClusterSize?: number;
  /** p95 time to first token of stable, in seconds. @default 0.2 */
  readonly stableTtftSeconds?: number;
  /** The canary's p95 time to first token over stable's (a latency regression). @default 1 */
  readonly canaryTtftRatio?: number;
}

/**
 * What stands between requests and a strategy's numbers: Prometheus scrapes each counter every `scrapeSeconds` (at a
 * per-target offset, prometheus/prometheus scrape/scrape.go `offset`: a hash of the target spread over the interval)
 * and a query reads the last sample at or before its evaluation time; `increase()` extrapolates as Prometheus does
 * (promql/functions.go `extrapolatedRate`); a query evaluates `evalLagSeconds` behind the decision (a recording rule's
 * evaluation interval, or the adapter's grid).
 */
export interface Pipeline {
  readonly scrapeSeconds: number;
  readonly evalLagSeconds?: number;
}

/** Requests and errors of one version. */
export interface Counts {
  readonly requests: number;
  readonly errors: number;
}

/** What a strategy sees at a decision point. */
export interface Observation {
  readonly t: number;
  readonly canaryReady: number;
  readonly canaryReplicas: number;
  readonly canaryWeight: number;
  /**
   * Requests and errors over the last `seconds`: a Prometheus `increase()` over that range (extrapolated from the
   * scraped samples with a `pipeline`; exact without).
   */
  counts(version: 'canary' | 'stable', seconds: number): Counts;
  /** Raw counter totals as a query at this instant reads them (the last scrape at or before it, with a `pipeline`). */
  totals(version: 'canary' | 'stable'): Counts;
  /** p95 time to first token of the version over the last `seconds`, as `histogram_quantile` estimates it; with the sample count. */
  ttft(version: 'canary' | 'stable', seconds: number): { value?: number; samples: number };
}

/** What a strategy decides. */
export interface Decision {
  /** Canary weight 0..100. */
  readonly weight: number;
  /** Canary replicas wanted now (undefined: the autoscaler decides, with its lag). */
  readonly canaryReplicas?: number;
  /** With the autoscaler: its minimum (an HPA's minReplicas). */
  readonly canaryMinReplicas?: number;
  /** The strategy ended (promoted or rolled back). */
  readonly done?: 'promoted' | 'aborted';
  /**
   * Percent of all requests mirrored to the canary (Gateway API `RequestMirror`, Istio `mirror`): the canary answers
   * the copies and its metrics count them, the answers are discarded. Copies are not exposure: no user gets one.
   */
  readonly mirrorPercent?: number;
}

/** A strategy: called every `intervalSeconds`. A fresh instance per run. */
export interface Strategy {
  readonly name: string;
  /** How the strategy is parameterized, with its source. */
  readonly description: string;
  readonly intervalSeconds: number;
  decide(o: Observation): Decision;
}

/** Outcome of one run. */
export interface RunResult {
  readonly strategy: string;
  readonly scenario: string;
  readonly seed: number;
  /** Requests routed to the canary until it was rolled back (or until the end: then `outcome` is not aborted). */
  readonly exposed: number;
  /** Errors the canary returned. */
  readonly canaryErrors: number;
  /** Seconds until the canary served 100 % (undefined if never). */
  readonly timeTo100?: number;
  /** Requests that found no ready capacity (canary or stable). */
  readonly overload: number;
  readonly gpuHours: number;
  readonly outcome: 'promoted' | 'aborted' | 'running';
  /** When the rollout ended (s). */
  readonly endedAt?: number;
  /** Per-step samples for charts. */
  readonly series: Array<{ t: number; weight: number; canaryReady: number; canaryReplicas: number; errors: number }>;
}

export const DT = 10;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
/* eslint-disable no-bitwise */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Poisson sample (Knuth below 30, normal approximation above). */
export function poisson(u: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= u();
    } while (p > l);
    return k - 1;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(u)));
}

/** Binomial sample: exact below 60 trials, Poisson for rare events, normal otherwise. */
export function binomial(u: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (n < 60) {
    let k = 0;
    for (let i = 0; i < n; i++) if (u() < p) k++;
    return k;
  }
  if (n * p < 30) return Math.min(n, poisson(u, n * p));
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.min(n, Math.max(0, Math.round(n * p + sd * normal(u))));
}

/** Run `strategy` in `scenario` with `seed`. */
export function simulate(scenario: Scenario, strategy: Strategy, seed: number): RunResult {
  const u = rng(seed);
  let weight = 0;
  let mirror = 0;
  const canary: number[] = [];
  let wanted = -1;
  let minWanted = 0;
  let autoscalerWant = 0;
  let exposed = 0;
  let canaryErrors = 0;
  let overload = 0;
  let gpuSeconds = 0;
  let timeTo100: number | undefined;
  let done: Decision['done'];
  let endedAt: number | undefined;
  const log: Array<{ t: number; cr: number; ce: number; sr: number; se: number }> = [];
  const series: RunResult['series'] = [];
  const pipe = scenario.pipeline;
  const cluster = Math.max(1, scenario.errorClusterSize ?? 1);
  // cumulative totals per second (entry i: the totals at second i), for the scraped pipeline
  const cum: Array<{ cr: number; ce: number; sr: number; se: number }> = [{ cr: 0, ce: 0, sr: 0, se: 0 }];
  const offset = pipe ? Math.floor(u() * pipe.scrapeSeconds) : 0;
  const lag = pipe?.evalLagSeconds ?? 0;
  /** The totals of the last scrape at or before `at` (s), and its time. */
  const scraped = (at: number): { t: number; c: { cr: number; ce: number; sr: number; se: number } } | undefined => {
    if (!pipe) return { t: at, c: cum[Math.min(cum.length - 1, Math.max(0, Math.floor(at)))] };
    const k = Math.floor((at - offset) / pipe.scrapeSeconds);
    const ts = offset + k * pipe.scrapeSeconds;
    if (ts < 0 || ts >= cum.length) return undefined;
    return { t: ts, c: cum[ts] };
  };
  const pick = (c: { cr: number; ce: number; sr: number; se: number }, version: 'canary' | 'stable') =>
    (version === 'canary' ? { requests: c.cr, errors: c.ce } : { requests: c.sr, errors: c.se });
  const counts = (t: number) => (version: 'canary' | 'stable', seconds: number): Counts => {
    if (!pipe) {
      let requests = 0;
      let errors = 0;
      // entry `t` holds the requests of (t - DT, t]: the window (t - seconds, t] holds seconds / DT entries, no more
      for (let i = log.length - 1; i >= 0 && log[i].t > t - seconds; i--) {
        requests += version === 'canary' ? log[i].cr : log[i].sr;
        errors += version === 'canary' ? log[i].ce : log[i].se;
      }
      return { requests, errors };
    }
    // Prometheus' increase(x[seconds]) at t - lag: the samples in (end - seconds, end], extrapolated
    const end = t - lag;
    const start = end - seconds;
    const samples: Array<{ t: number; v: Counts }> = [];
    for (let k = Math.ceil((start - offset) / pipe.scrapeSeconds); offset + k * pipe.scrapeSeconds <= end; k++) {
      const ts = offset + k * pipe.scrapeSeconds;
      if (ts > start && ts >= 0 && ts < cum.length) samples.push({ t: ts, v: pick(cum[ts], version) });
    }
    if (samples.length < 2) return { requests: 0, errors: 0 };
    const f = samples[0];
    const l = samples[samples.length - 1];
    const extrapolate = (first: number, last: number) => {
      const result = last - first;
      const sampled = l.t - f.t;
      let toStart = f.t - start;
      const toEnd = end - l.t;
      const avg = sampled / (samples.length - 1);
      if (result > 0 && first >= 0) {
        const toZero = sampled * (first / result);
        if (toZero < toStart) toStart = toZero;
      }
      const threshold = avg * 1.1;
      let interval = sampled;
      interval += toStart < threshold ? toStart : avg / 2;
      interval += toEnd < threshold ? toEnd : avg / 2;
      return result * (interval / sampled);
    };
    return { requests: extrapolate(f.v.requests, l.v.requests), errors: extrapolate(f.v.errors, l.v.errors) };
  };
  const totals = (t: number) => (version: 'canary' | 'stable'): Counts => {
    const s0 = scraped(t - lag);
    return s0 ? pick(s0.c, version) : { requests: 0, errors: 0 };
  };
  const baseTtft = scenario.stableTtftSeconds ?? 0.2;
  // the estimate's noise per version: a sliding window of `seconds` shares all but one step of its requests with the
  // previous tick's, so the noise is an AR(1) walk with correlation 1 - DT / seconds, not a fresh draw per tick
  const noise = { canary: { t: -1, z: normal(u) }, stable: { t: -1, z: normal(u) } };
  const ttft = (t: number) => (version: 'canary' | 'stable', seconds: number) => {
    // the requests behind the quantile: the scraped increase over the range; the estimate's noise is a sample p95's
    // (sd = sqrt(0.95 * 0.05 / n) / density: 2.12 q sigma / sqrt(n) for a lognormal of sigma 0.5)
    const n = Math.round(counts(t)(version, seconds).requests);
    const z = noise[version];
    if (z.t !== t) {
      const rho = Math.max(0, 1 - DT / seconds);
      for (let k = z.t < 0 ? 1 : Math.round((t - z.t) / DT); k > 0; k--) z.z = rho * z.z + Math.sqrt(1 - rho * rho) * normal(u);
      z.t = t;
    }
    if (n <= 0) return { samples: 0 };
    const q = baseTtft * (version === 'canary' ? scenario.canaryTtftRatio ?? 1 : 1);
    return { value: Math.max(0.001, q + (2.12 * q * 0.5 / Math.sqrt(n)) * z.z), samples: n };
  };
  // errors: clusters of `cluster` at a cluster rate of rate / cluster, never more than the requests
  const errorsOf = (n: number, rate: number) => Math.min(n, cluster * binomial(u, n, rate / cluster));

  for (let t = 0; t <= scenario.horizonSeconds; t += DT) {
    const ready = canary.filter((c) => t - c >= scenario.coldStartSeconds).length;
    if (t % strategy.intervalSeconds === 0 && !done) {
      const d = strategy.decide({
        t, canaryReady: ready, canaryReplicas: canary.length, canaryWeight: weight, counts: counts(t), totals: totals(t), ttft: ttft(t),
      });
      weight = d.weight;
      mirror = d.mirrorPercent ?? 0;
      wanted = d.canaryReplicas ?? -1;
      minWanted = d.canaryMinReplicas ?? 0;
      if (d.done) {
        done = d.done;
        endedAt = t;
      }
    }
    const rps = scenario.rps;
    const canaryRps = (rps * Math.min(100, weight + (done ? 0 : mirror))) / 100;
    if (Math.floor(t / scenario.autoscalerLagSeconds) !== Math.floor((t - DT) / scenario.autoscalerLagSeconds)) {
      autoscalerWant = Math.ceil(canaryRps / scenario.perReplicaRps);
    }
    const target = wanted >= 0 ? wanted : Math.max(minWanted, autoscalerWant);
    while (canary.length < target) canary.push(t);
    if (canary.length > target) canary.splice(target);

    const readyNow = canary.filter((c) => t - c >= scenario.coldStartSeconds).length;
    // requests arriving in this step (the interval after t), split by weight
    const total = poisson(u, rps * DT);
    // after promotion the new version serves everything (Flagger: as the primary), so a missed canary keeps exposing
    const cr = done === 'promoted' ? total : binomial(u, total, weight / 100);
    const sr = total - cr;
    const ce = errorsOf(cr, scenario.canaryErrorRate);
    const se = errorsOf(sr, scenario.stableErrorRate);
    // mirrored copies of the requests stable answered: the canary's metrics count them (answers discarded)
    const mr = done || mirror <= 0 ? 0 : binomial(u, sr, mirror / 100);
    const me = errorsOf(mr, scenario.canaryErrorRate);
    log.push({ t: t + DT, cr: cr + mr, ce: ce + me, sr, se });
    // the step's events spread over its seconds (uniform arrivals), as the per-second totals a scrape reads
    let left = { cr: cr + mr, ce: ce + me, sr, se };
    for (let i = 0; i < DT; i++) {
      const share = 1 / (DT - i);
      const take = {
        cr: i === DT - 1 ? left.cr : binomial(u, left.cr, share),
        ce: 0,
        sr: i === DT - 1 ? left.sr : binomial(u, left.sr, share),
        se: 0,
      };
      take.ce = i === DT - 1 ? left.ce : binomial(u, left.ce, share);
      take.se = i === DT - 1 ? left.se : binomial(u, left.se, share);
      left = { cr: left.cr - take.cr, ce: left.ce - take.ce, sr: left.sr - take.sr, se: left.se - take.se };
      const last = cum[cum.length - 1];
      cum.push({ cr: last.cr + take.cr, ce: last.ce + take.ce, sr: last.sr + take.sr, se: last.se + take.se });
    }
    exposed += cr;
    canaryErrors += ce;
    const canaryCap = readyNow * scenario.perReplicaRps * DT;
    const stableCap = scenario.stableReplicas * scenario.perReplicaRps * DT;
    if (done !== 'promoted') overload += Math.max(0, cr - canaryCap) + Math.max(0, sr - stableCap);
    gpuSeconds += (canary.length + scenario.stableReplicas) * scenario.gpusPerReplica * DT;
    if (weight >= 100 && timeTo100 === undefined) timeTo100 = t;
    series.push({ t, weight, canaryReady: readyNow, canaryReplicas: canary.length, errors: ce });
  }
  return {
    strategy: strategy.name,
    scenario: scenario.name,
    seed,
    exposed,
    canaryErrors,
    timeTo100,
    overload: Math.round(overload),
    gpuHours: Math.round((gpuSeconds / 3600) * 100) / 100,
    outcome: done ?? (weight >= 100 ? 'promoted' : 'running'),
    endedAt,
    series,
  };
}
