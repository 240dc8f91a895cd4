/**
 * A deterministic discrete-time simulation of one canary rollout (10 s steps): traffic, per-replica capacity,
 * GPU cold starts, an autoscaler with a lag, a canary that is healthy, faulty from the start or degrading later,
 * and a strategy that sets weights and replica counts. "Ours" is the real `decide()`; the others are written here
 * from their systems' documented behaviour (see strategies.ts).
 */

/** The world a strategy runs in. */
export interface Scenario {
  readonly name: string;
  /** Requests per second at time t (seconds). */
  readonly rps: (t: number) => number;
  /** Requests one replica answers per second. */
  readonly perReplicaRps: number;
  /** Seconds from a replica's creation to ready (GPU node, image pull, model load). */
  readonly coldStartSeconds: number;
  /** Seconds an autoscaler takes to react to load. */
  readonly autoscalerLagSeconds: number;
  /** Error rate of the canary at time t (0 healthy). */
  readonly canaryErrorRate: (t: number) => number;
  /** Replicas of the stable version (sized for the traffic). */
  readonly stableReplicas: number;
  /** GPUs per replica. */
  readonly gpusPerReplica: number;
  /** Simulated seconds. */
  readonly horizonSeconds: number;
}

/** What a strategy sees at a decision point. */
export interface Observation {
  readonly t: number;
  readonly canaryReady: number;
  readonly canaryReplicas: number;
  readonly canaryWeight: number;
  /** Canary requests and errors over the last 60 s. */
  readonly canaryRequests60: number;
  readonly canaryErrors60: number;
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
}

/** A strategy: called every `intervalSeconds`. */
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
  /** Requests answered by the canary while it was faulty. */
  readonly blastRadius: number;
  /** Seconds until the canary served 100 % (undefined if never). */
  readonly timeTo100?: number;
  /** Requests that found no ready capacity (canary or stable). */
  readonly overload: number;
  readonly gpuHours: number;
  readonly outcome: string;
  /** Per-step samples for charts. */
  readonly series: Array<{ t: number; weight: number; canaryReady: number; canaryReplicas: number; errors: number }>;
}

const DT = 10;

/** Run `strategy` in `scenario`. Deterministic: no randomness, fractional requests are kept as expectations. */
export function simulate(scenario: Scenario, strategy: Strategy): RunResult {
  let weight = 0;
  // canary replicas: creation times; stable: always ready
  const canary: number[] = [];
  let wanted = 0;
  let minWanted = 0;
  let autoscalerWant = 0;
  let blast = 0;
  let overload = 0;
  let gpuSeconds = 0;
  let timeTo100: number | undefined;
  let done: Decision['done'];
  const window: Array<{ t: number; req: number; err: number }> = [];
  const series: RunResult['series'] = [];
  let errorsThisMinute = 0;

  for (let t = 0; t <= scenario.horizonSeconds; t += DT) {
    const ready = canary.filter((c) => t - c >= scenario.coldStartSeconds).length;
    if (t % strategy.intervalSeconds === 0 && !done) {
      const recent = window.filter((w) => w.t > t - 60);
      const d = strategy.decide({
        t,
        canaryReady: ready,
        canaryReplicas: canary.length,
        canaryWeight: weight,
        canaryRequests60: recent.reduce((s, w) => s + w.req, 0),
        canaryErrors60: recent.reduce((s, w) => s + w.err, 0),
      });
      weight = d.weight;
      wanted = d.canaryReplicas ?? -1;
      minWanted = d.canaryMinReplicas ?? 0;
      if (d.done) done = d.done;
    }
    // replicas: explicit, or the autoscaler following the canary's load with a lag
    const rps = scenario.rps(t);
    const canaryRps = (rps * weight) / 100;
    if (Math.floor(t / scenario.autoscalerLagSeconds) !== Math.floor((t - DT) / scenario.autoscalerLagSeconds)) {
      autoscalerWant = Math.ceil(canaryRps / scenario.perReplicaRps);
    }
    const target = wanted >= 0 ? wanted : Math.max(minWanted, autoscalerWant);
    while (canary.length < target) canary.push(t);
    if (canary.length > target) canary.splice(target);

    const readyNow = canary.filter((c) => t - c >= scenario.coldStartSeconds).length;
    const canaryCap = readyNow * scenario.perReplicaRps;
    const served = Math.min(canaryRps, canaryCap);
    const stableRps = rps - canaryRps;
    const stableCap = scenario.stableReplicas * scenario.perReplicaRps;
    overload += (Math.max(0, canaryRps - canaryCap) + Math.max(0, stableRps - stableCap)) * DT;
    const errRate = scenario.canaryErrorRate(t);
    // faulty: clearly above a healthy model's error rate (the healthy canaries here err 0.1 % of the time)
    if (errRate > 0.01) blast += served * DT;
    window.push({ t, req: served * DT, err: served * errRate * DT });
    errorsThisMinute = served * errRate * DT;
    gpuSeconds += (canary.length + scenario.stableReplicas) * scenario.gpusPerReplica * DT;
    if (weight >= 100 && timeTo100 === undefined) timeTo100 = t;
    series.push({ t, weight, canaryReady: readyNow, canaryReplicas: canary.length, errors: errorsThisMinute });
  }
  return {
    strategy: strategy.name,
    scenario: scenario.name,
    blastRadius: Math.round(blast),
    timeTo100,
    overload: Math.round(overload),
    gpuHours: Math.round((gpuSeconds / 3600) * 100) / 100,
    outcome: done ?? (weight >= 100 ? 'promoted' : 'running'),
    series,
  };
}
