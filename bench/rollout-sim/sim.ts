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
  /** Requests and errors over the last `seconds` (a Prometheus `increase()` over that range). */
  counts(version: 'canary' | 'stable', seconds: number): Counts;
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
  const counts = (t: number) => (version: 'canary' | 'stable', seconds: number): Counts => {
    let requests = 0;
    let errors = 0;
    // entry `t` holds the requests of (t - DT, t]: the window (t - seconds, t] holds seconds / DT entries, no more
    for (let i = log.length - 1; i >= 0 && log[i].t > t - seconds; i--) {
      requests += version === 'canary' ? log[i].cr : log[i].sr;
      errors += version === 'canary' ? log[i].ce : log[i].se;
    }
    return { requests, errors };
  };

  for (let t = 0; t <= scenario.horizonSeconds; t += DT) {
    const ready = canary.filter((c) => t - c >= scenario.coldStartSeconds).length;
    if (t % strategy.intervalSeconds === 0 && !done) {
      const d = strategy.decide({ t, canaryReady: ready, canaryReplicas: canary.length, canaryWeight: weight, counts: counts(t) });
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
    const ce = binomial(u, cr, scenario.canaryErrorRate);
    const se = binomial(u, sr, scenario.stableErrorRate);
    // mirrored copies of the requests stable answered: the canary's metrics count them (answers discarded)
    const mr = done || mirror <= 0 ? 0 : binomial(u, sr, mirror / 100);
    const me = binomial(u, mr, scenario.canaryErrorRate);
    log.push({ t: t + DT, cr: cr + mr, ce: ce + me, sr, se });
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
