/**
 * Capacity during a rollout: a daily traffic curve (trough to a peak at 3x the trough, the rollout starting at the
 * trough and crossing the peak), per-version autoscalers with a metric lag and a scale-down stabilization window,
 * GPU cold starts, and optionally a GPU quota that cannot hold two full versions (pods past it stay Pending).
 * Deterministic (no sampling: traffic is the curve). Reports requests, overload (requests that found no ready
 * replica of the version they were routed to), peak GPUs and GPU-hours for:
 *
 * - ours as before this change ("today"): the real `decide()` without live observations, so floors come from the
 *   synth-time `stableReplicas`;
 * - ours with live sizing (full mode): the real `decide()` given each version's desired replicas;
 * - ours in surge mode (`RolloutCapacity.surge`): the real `decide()`, budget `maxExtraGpus`;
 * - Argo Rollouts with `dynamicStableScale: true` and `setCanaryScale: { matchTrafficWeight: true }`
 *   (https://argoproj.github.io/argo-rollouts/features/canary/, "Dynamic Stable Scale (with Traffic Routing)" and
 *   "Mimicking Rolling Update within a Canary / setCanaryScale"): one HPA on the Rollout sizes the total; the canary
 *   ReplicaSet is scaled to the step's weight of it first, the weight moves once it is available, then the stable
 *   ReplicaSet is scaled down to the remaining share;
 * - Baseten's rolling promotion as documented (https://docs.baseten.co/deployment/rolling-promotions): autoscaling
 *   disabled for the whole promotion, `max_surge_percent` 10 (the configurator's default), `stabilization_time_seconds`
 *   0, `replica_overhead_percent` 0: scale the candidate up by the step, shift traffic to the replica ratio, scale
 *   the previous deployment down by the same step, repeat;
 * - Flagger at the values of its documentation (https://docs.flagger.app/usage/deployment-strategies, canary
 *   analysis: `interval: 1m`, `stepWeight: 10`, `maxWeight: 50`) with an HPA (`autoscalerRef`): canary and primary
 *   autoscaled separately; at promotion the primary is rolled (Kubernetes' default `maxUnavailable` 25 %) and then
 *   gets all the traffic, its replicas reset to the HPA's minimum (fluxcd/flagger#1600, "Thundering herd fails
 *   primary during finalising"), and the canary is scaled to zero.
 *
 * Run: node -r ./test/support/register-ts.js bench/rollout-sim/capacity.ts   (also from run.ts)
 */
import { decide } from '../../src/core/decide';
import { equalSteps } from '../../src/core/schedule';
import { RolloutSpec } from '../../src/core/spec';
import { Action, ControllerState } from '../../src/core/state';

/** The world of one capacity scenario. */
export interface CapacityScenario {
  readonly name: string;
  /** Requests/s at the trough (t = 0). */
  readonly troughRps: number;
  /** Peak over trough. */
  readonly peakFactor: number;
  /** Period of the (compressed) day: the peak comes at half of it. */
  readonly periodSeconds: number;
  /** Requests/s one replica answers. */
  readonly perReplicaRps: number;
  /** Requests/s per replica an autoscaler aims at (headroom below `perReplicaRps`). */
  readonly targetRps: number;
  readonly coldStartSeconds: number;
  /** The autoscaler's metric is this old. */
  readonly lagSeconds: number;
  /** The HPA's scale-down stabilization window (default 300 s). */
  readonly scaleDownWindowSeconds: number;
  /** Minimum replicas of the environment (the plan's `stableReplicas`). */
  readonly minReplicas: number;
  readonly gpusPerReplica: number;
  /** GPUs the cluster can give the model; undefined: unlimited. */
  readonly quotaGpus?: number;
  /** Length of our schedule (10 equal steps), and of Argo's and Flagger's step spacing. */
  readonly scheduleSeconds: number;
  readonly horizonSeconds: number;
}

const DT = 10;

/** Requests/s at `t`: the trough at 0, `peakFactor` x the trough at half the period. */
export function trafficAt(sc: CapacityScenario, t: number): number {
  return sc.troughRps * (1 + ((sc.peakFactor - 1) * (1 - Math.cos((2 * Math.PI * t) / sc.periodSeconds))) / 2);
}

interface Pod { readonly createdAt: number; scheduledAt?: number }

/** One version: its pods, and either an autoscaler (min/max, recommendations) or a pinned replica count. */
class Version {
  public pods: Pod[] = [];
  public min = 0;
  public max = 1000;
  /** Replicas set directly (no autoscaler); undefined: the autoscaler decides. */
  public pinned?: number;
  /** The autoscaler's current desired count (what an HPA writes to the Deployment). */
  public desired = 0;
  private recs: Array<{ at: number; n: number }> = [];
  constructor(public readonly name: string) {}

  public ready(t: number, cold: number): number {
    return this.pods.filter((p) => p.scheduledAt !== undefined && t - p.scheduledAt >= cold).length;
  }

  public scheduled(): number {
    return this.pods.filter((p) => p.scheduledAt !== undefined).length;
  }

  /**
   * HPA: the recommendation ceil(load / target); scale-downs take the highest recommendation of the stabilization
   * window; then clamped to min..max (a raised minimum applies at once, a lowered one once the window passed).
   */
  public autoscale(t: number, load: number, sc: CapacityScenario): void {
    const rec = Math.ceil(load / sc.targetRps - 1e-9);
    this.recs = this.recs.filter((r) => r.at > t - sc.scaleDownWindowSeconds);
    this.recs.push({ at: t, n: Math.max(rec, this.min) });
    const stabilized = Math.max(...this.recs.map((r) => r.n));
    this.desired = Math.min(this.max, Math.max(this.min, stabilized));
  }

  public resize(t: number, cold: number): void {
    const want = this.pinned ?? this.desired;
    while (this.pods.length < want) this.pods.push({ createdAt: t });
    if (this.pods.length > want) {
      // pending first, then the youngest (not ready) pods
      this.pods.sort((a, b) => (a.scheduledAt ?? Infinity) - (b.scheduledAt ?? Infinity) || a.createdAt - b.createdAt);
      const ready = this.pods.filter((p) => p.scheduledAt !== undefined && t - p.scheduledAt >= cold);
      const rest = this.pods.filter((p) => !(p.scheduledAt !== undefined && t - p.scheduledAt >= cold));
      rest.sort((a, b) => (a.scheduledAt === undefined ? 1 : 0) - (b.scheduledAt === undefined ? 1 : 0) || a.createdAt - b.createdAt);
      this.pods = [...ready, ...rest].slice(0, want);
    }
  }
}

/** What a strategy sees and changes. */
export interface World {
  readonly t: number;
  readonly sc: CapacityScenario;
  readonly stable: Version;
  readonly canary: Version;
  /** Canary share of traffic, 0..100. */
  weight: number;
  /** Share served by the version that was the canary, whatever it is called after promotion. */
  promotedAt?: number;
  abortedAt?: number;
  /** Fraction of the stable version's ready replicas out of service (a rolling update in progress). */
  stableUnavailable: number;
}

export interface CapacityStrategy {
  readonly name: string;
  readonly intervalSeconds: number;
  /** Called at t = 0 before anything else. */
  start(w: World): void;
  step(w: World): void;
}

export interface CapacityResult {
  readonly strategy: string;
  readonly scenario: string;
  readonly requests: number;
  /** Requests that found no ready replica of the version they were routed to. */
  readonly overload: number;
  readonly peakGpus: number;
  readonly gpuHours: number;
  /** When the new version served 100 % (s), if it did. */
  readonly promotedAt?: number;
  readonly abortedAt?: number;
  /** Longest time (s) any pod of the rollout waited Pending for GPUs. */
  readonly longestPendingSeconds: number;
}

/** Run one strategy through one scenario. */
export function simulateCapacity(sc: CapacityScenario, strategy: CapacityStrategy): CapacityResult {
  const stable = new Version('v1');
  const canary = new Version('v2');
  stable.min = sc.minReplicas;
  // the stable version starts sized for the trough, ready
  stable.autoscale(-DT, trafficAt(sc, 0), sc);
  stable.resize(-sc.coldStartSeconds, sc.coldStartSeconds);
  for (const p of stable.pods) p.scheduledAt = -sc.coldStartSeconds;
  const w: World = { t: 0, sc, stable, canary, weight: 0, stableUnavailable: 0 };
  strategy.start(w);
  let requests = 0;
  let overload = 0;
  let peakGpus = 0;
  let gpuSeconds = 0;
  let longestPending = 0;
  const loads: Array<{ t: number; s: number; c: number }> = [];
  for (let t = 0; t <= sc.horizonSeconds; t += DT) {
    (w as { t: number }).t = t;
    if (t % strategy.intervalSeconds === 0) strategy.step(w);
    const rps = trafficAt(sc, t);
    loads.push({ t, s: (rps * (100 - w.weight)) / 100, c: (rps * w.weight) / 100 });
    const lagged = loads.filter((l) => l.t <= t - sc.lagSeconds).pop() ?? loads[0];
    stable.autoscale(t, lagged.s, sc);
    canary.autoscale(t, lagged.c, sc);
    stable.resize(t, sc.coldStartSeconds);
    canary.resize(t, sc.coldStartSeconds);
    // schedule Pending pods, oldest first, while the quota allows
    const pending = [...stable.pods, ...canary.pods].filter((p) => p.scheduledAt === undefined).sort((a, b) => a.createdAt - b.createdAt);
    let used = (stable.scheduled() + canary.scheduled()) * sc.gpusPerReplica;
    for (const p of pending) {
      if (sc.quotaGpus !== undefined && used + sc.gpusPerReplica > sc.quotaGpus) break;
      p.scheduledAt = t;
      longestPending = Math.max(longestPending, t - p.createdAt);
      used += sc.gpusPerReplica;
    }
    for (const p of [...stable.pods, ...canary.pods]) if (p.scheduledAt === undefined) longestPending = Math.max(longestPending, t - p.createdAt);
    peakGpus = Math.max(peakGpus, used);
    gpuSeconds += used * DT;
    const readyS = Math.floor(stable.ready(t, sc.coldStartSeconds) * (1 - w.stableUnavailable));
    const readyC = canary.ready(t, sc.coldStartSeconds);
    const demandS = (rps * (100 - w.weight)) / 100;
    const demandC = (rps * w.weight) / 100;
    requests += rps * DT;
    overload += Math.max(0, demandS - readyS * sc.perReplicaRps) * DT + Math.max(0, demandC - readyC * sc.perReplicaRps) * DT;
  }
  return {
    strategy: strategy.name,
    scenario: sc.name,
    requests: Math.round(requests),
    overload: Math.round(overload),
    peakGpus,
    gpuHours: Math.round((gpuSeconds / 3600) * 10) / 10,
    promotedAt: w.promotedAt,
    abortedAt: w.abortedAt,
    longestPendingSeconds: longestPending,
  };
}

/** The rollout spec of our strategies: 10 equal steps over the scenario's schedule, no checks (capacity only). */
function ourSpec(sc: CapacityScenario, surgeExtraGpus?: number, reserveReplicas?: number): RolloutSpec {
  return {
    name: 'capacity',
    path: 'bench/rollout-sim/capacity',
    stable: 'v1',
    canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
    versions: [{ name: 'v1', gpusPerReplica: sc.gpusPerReplica }, { name: 'v2', gpusPerReplica: sc.gpusPerReplica }],
    steps: equalSteps(10, sc.scheduleSeconds),
    stableReplicas: sc.minReplicas,
    checks: [],
    checkFailureLimit: 0,
    // the library's default: the canary's load timeout plus 10 minutes of node provisioning, at least 15 minutes
    progressDeadlineSeconds: 1200,
    keepPreviousWarmSeconds: 0,
    keepPreviousUntilSpecChanges: false,
    autoscalerWindowSeconds: sc.scaleDownWindowSeconds,
    ...(surgeExtraGpus !== undefined ? { capacity: { mode: 'surge', maxExtraGpus: surgeExtraGpus, ...(reserveReplicas !== undefined ? { reserveReplicas } : {}) } } : {}),
  };
}

/**
 * Ours: the real `decide()` once a minute. `live` gives it each version's desired replicas (what the autoscaler
 * wrote to the Deployment, as the Kubernetes adapter reads it); without, it sizes from the plan (before this change).
 */
export interface OursOptions {
  readonly live: boolean;
  readonly surgeExtraGpus?: number;
  readonly reserveReplicas?: number;
  readonly label: string;
}

export function ours(sc: CapacityScenario, options: OursOptions): CapacityStrategy {
  const spec = ourSpec(sc, options.surgeExtraGpus, options.reserveReplicas);
  let state: ControllerState | undefined;
  return {
    name: options.label,
    intervalSeconds: 60,
    start: () => undefined,
    step(w: World) {
      const versions = { v1: w.stable, v2: w.canary };
      const d = decide(spec, state, {
        readyReplicas: { v1: w.stable.ready(w.t, sc.coldStartSeconds), v2: w.canary.ready(w.t, sc.coldStartSeconds) },
        ...(options.live ? { desiredReplicas: { v1: w.stable.desired, v2: w.canary.desired } } : {}),
        floors: { v1: w.stable.min, v2: w.canary.min },
        routerWeights: { v1: 100 - w.weight, v2: w.weight },
        metrics: {},
      }, w.t * 1000);
      state = d.state;
      if (process.env.CAPACITY_DEBUG) console.log(`${w.t / 60} min: des ${w.stable.desired}/${w.canary.desired} min ${w.stable.min}/${w.canary.min} w ${w.weight}: ${d.reason}`);
      for (const a of d.actions as Action[]) {
        if (a.kind === 'setWeights') {w.weight = a.weights.v2 ?? 0;} else {
          const v = versions[a.version as 'v1' | 'v2'];
          const n = a.kind === 'scaleDown' ? 0 : a.replicas;
          v.min = n;
          v.max = Math.max(v.max, n);
        }
      }
      if (state.phase === 'promoted' && w.promotedAt === undefined) w.promotedAt = w.t;
      if (state.phase === 'aborted' && w.abortedAt === undefined) w.abortedAt = w.t;
    },
  };
}

/**
 * Argo Rollouts, `dynamicStableScale: true`, `setCanaryScale: { matchTrafficWeight: true }`, steps `setWeight`
 * 10..100 with pauses matching our schedule; an HPA on the Rollout (one recommendation for all its pods, from the
 * total load). At each step the canary ReplicaSet is scaled to the step's weight of the total first; the weight
 * moves once it is available (all its pods ready); then the stable ReplicaSet goes down to the remaining share.
 * Under a quota the controller waits (`progressDeadlineAbort` is false by default: the Rollout is Degraded, not
 * aborted: https://argoproj.github.io/argo-rollouts/features/specification/).
 */
export function argo(sc: CapacityScenario): CapacityStrategy {
  const total = new Version('rollout');
  let stepIndex = 0;
  let stepReadyAt: number | undefined;
  const pause = sc.scheduleSeconds / 10;
  return {
    name: 'Argo Rollouts, dynamicStableScale + setCanaryScale(matchTrafficWeight)',
    intervalSeconds: DT,
    start(w) {
      total.min = sc.minReplicas;
      w.stable.pinned = w.stable.pods.length;
      w.canary.pinned = 0;
    },
    step(w) {
      const rps = trafficAt(sc, Math.max(0, w.t - sc.lagSeconds));
      total.autoscale(w.t, rps, sc);
      const n = total.desired;
      if (w.promotedAt !== undefined) {
        w.canary.pinned = n;
        w.stable.pinned = w.t >= w.promotedAt + 30 ? 0 : w.stable.pinned; // scaleDownDelaySeconds 30 (default)
        return;
      }
      const weight = Math.min(100, (stepIndex + 1) * 10);
      const wantCanary = Math.ceil((weight * n) / 100);
      w.canary.pinned = Math.max(w.canary.pinned ?? 0, wantCanary);
      // the stable ReplicaSet holds the current share of the (live) total
      w.stable.pinned = Math.max(Math.ceil(((100 - w.weight) * n) / 100), 0);
      if (stepReadyAt === undefined && w.canary.ready(w.t, sc.coldStartSeconds) >= wantCanary) {
        w.weight = weight;
        w.stable.pinned = Math.ceil(((100 - weight) * n) / 100);
        stepReadyAt = w.t;
      }
      if (stepReadyAt !== undefined && w.t >= stepReadyAt + pause) {
        if (weight >= 100) {
          w.promotedAt = w.t;
          return;
        }
        stepIndex++;
        stepReadyAt = undefined;
      }
    },
  };
}

/**
 * Baseten's rolling promotion: autoscaling off for the whole promotion (replica counts frozen at the start),
 * `max_surge_percent` 10: the candidate gains ceil(10 % of N) replicas, traffic shifts to the ready-replica ratio,
 * the previous deployment loses as many, repeat; at SUCCEEDED autoscaling resumes on the candidate.
 */
export function baseten(sc: CapacityScenario): CapacityStrategy {
  let n = 0;
  let stepSize = 1;
  let target = 0;
  return {
    name: 'Baseten rolling promotion (max_surge_percent 10, autoscaling off during it)',
    intervalSeconds: DT,
    start(w) {
      n = w.stable.pods.length;
      stepSize = Math.max(1, Math.ceil(n * 0.1));
      w.stable.pinned = n;
      w.canary.pinned = 0;
    },
    step(w) {
      if (w.promotedAt !== undefined) {
        w.canary.pinned = undefined;
        w.canary.min = sc.minReplicas;
        w.stable.pinned = 0;
        return;
      }
      const ready = w.canary.ready(w.t, sc.coldStartSeconds);
      if (ready >= target) {
        // the step landed: traffic to the replica ratio, previous down by the same step, next surge
        w.weight = Math.min(100, Math.round((ready * 100) / n));
        w.stable.pinned = Math.max(0, n - ready);
        if (ready >= n) {
          w.promotedAt = w.t;
          return;
        }
        target = Math.min(n, ready + stepSize);
        w.canary.pinned = target;
      }
    },
  };
}

/**
 * Flagger with `autoscalerRef` at its documented example values: canary and primary each autoscaled; every
 * minute the canary gains 10 % up to `maxWeight` 50 (once its pods are ready: Flagger waits for the canary
 * deployment's rollout); then the primary is updated (a rolling update: up to 25 % of its pods unavailable while
 * new pods start), all traffic goes to it with its replicas reset to the HPA minimum (flagger#1600), and the
 * canary is scaled to zero.
 */
export function flagger(sc: CapacityScenario): CapacityStrategy {
  let phase: 'analysis' | 'rolling' | 'done' = 'analysis';
  let rollUntil = 0;
  return {
    name: 'Flagger (interval 1m, stepWeight 10, maxWeight 50, HPA)',
    intervalSeconds: 60,
    start(w) {
      w.canary.min = sc.minReplicas;
    },
    step(w) {
      if (phase === 'analysis') {
        if (w.canary.ready(w.t, sc.coldStartSeconds) < 1) return;
        if (w.weight < 50) {
          w.weight += 10;
          return;
        }
        // promotion: the primary's pods are replaced (rolling update) while the weights hold at 50 %
        phase = 'rolling';
        rollUntil = w.t + 2 * sc.coldStartSeconds;
        w.stableUnavailable = 0.25;
        return;
      }
      if (phase === 'rolling' && w.t >= rollUntil) {
        // "Routing all traffic to primary": the primary (now the new version) at its HPA minimum, the canary to zero
        phase = 'done';
        w.stableUnavailable = 0;
        w.stable.pinned = sc.minReplicas;
        w.weight = 0;
        w.canary.min = 0;
        w.canary.pinned = 0;
        w.promotedAt = w.t;
        return;
      }
      if (phase === 'done') w.stable.pinned = undefined;
    },
  };
}

/** No rollout at all: the stable version and its autoscaler through the same curve (the floor of any overload). */
export function noRollout(): CapacityStrategy {
  return { name: 'no rollout (autoscaler alone)', intervalSeconds: 60, start: () => undefined, step: () => undefined };
}

/**
 * The two scenarios: a 2-hour compressed day (trough 16 requests/s, 4 replicas at 4 requests/s each; peak 3x at
 * 60 minutes, 12 replicas), 4-minute GPU cold start, 60 s metric lag, the HPA's default 300 s scale-down window,
 * one GPU per replica; our schedule is 10 steps over 60 minutes from the trough, so promotion lands at the peak.
 * The quota scenarios give the model 16 GPUs (the peak needs 12, two full versions 24), then 14 (not even what full
 * mode uses at the peak here, 16).
 */
export function capacityScenarios(): CapacityScenario[] {
  const base: CapacityScenario = {
    name: 'daily curve, 3x peak',
    troughRps: 16,
    peakFactor: 3,
    periodSeconds: 7200,
    perReplicaRps: 5,
    targetRps: 4,
    coldStartSeconds: 240,
    lagSeconds: 60,
    scaleDownWindowSeconds: 300,
    minReplicas: 4,
    gpusPerReplica: 1,
    scheduleSeconds: 3600,
    horizonSeconds: 5400,
  };
  return [
    base,
    { ...base, name: 'daily curve, 3x peak, 16-GPU quota', quotaGpus: 16 },
    { ...base, name: 'daily curve, 3x peak, 14-GPU quota', quotaGpus: 14 },
  ];
}

/** Every strategy, fresh, for a scenario. */
export function capacityStrategies(sc: CapacityScenario): CapacityStrategy[] {
  return [
    noRollout(),
    ours(sc, { live: false, label: 'ours before this change (plan-sized floors)' }),
    ours(sc, { live: true, label: 'ours, live sizing (RolloutCapacity.full())' }),
    ours(sc, { live: true, surgeExtraGpus: 3, label: 'ours, surge (RolloutCapacity.surge({ maxExtraGpus: 3 }))' }),
    ours(sc, { live: true, surgeExtraGpus: 2, reserveReplicas: 0, label: 'ours, surge (RolloutCapacity.surge({ maxExtraGpus: 2, reserveReplicas: 0 }))' }),
    argo(sc),
    baseten(sc),
    flagger(sc),
  ];
}

/** Run everything; Markdown table. */
export function runCapacity(): { results: CapacityResult[]; markdown: string } {
  const results: CapacityResult[] = [];
  for (const sc of capacityScenarios()) for (const s of capacityStrategies(sc)) results.push(simulateCapacity(sc, s));
  const fmt = (s?: number) => (s === undefined ? '-' : `${Math.round(s / 60)} min`);
  const lines: string[] = [];
  for (const sc of capacityScenarios()) {
    lines.push(`### ${sc.name}`, '');
    lines.push('| strategy | requests | overload (no ready replica) | overload % | peak GPUs | GPU-hours | new version at 100 % | aborted | longest Pending |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results.filter((x) => x.scenario === sc.name)) {
      lines.push(`| ${r.strategy.startsWith('ours, ') ? `**${r.strategy}**` : r.strategy} | ${r.requests} | ${r.overload} | ${((100 * r.overload) / r.requests).toFixed(2)} % | ${r.peakGpus} | ${r.gpuHours} | ${fmt(r.promotedAt)} | ${fmt(r.abortedAt)} | ${fmt(r.longestPendingSeconds)} |`);
    }
    lines.push('');
  }
  return { results, markdown: lines.join('\n') };
}

/** The whole report of bench/results/capacity.md. */
export function capacityReport(): string {
  const { markdown } = runCapacity();
  return [
    '# Capacity during a rollout',
    '',
    'A compressed day: 16 requests/s at the trough rising to 48 (3x) at 60 minutes and back; 5 requests/s per GPU',
    'replica, autoscalers aiming at 4 (KEDA/HPA: ceil(load / target), 60 s metric lag, the HPA\'s default 300 s',
    'scale-down stabilization), 4-minute GPU cold start, 4 replicas minimum, one GPU per replica. Every rollout starts at',
    'the trough; ours is 10 equal steps over 60 minutes, so it crosses the peak. The other tables give the model a',
    '16-GPU, then a 14-GPU quota: the peak needs 12 replicas, two full versions 24; pods past it stay Pending. Ours',
    'aborts (with zero overload: traffic goes back as the stable replicas return) when the progress deadline (20 min)',
    'passes without progress; Argo Rollouts waits (Degraded, `progressDeadlineAbort` false by default). Overload = requests',
    'routed to a version with no ready replica free for them. "Ours" is the real `decide()`, once a minute; every',
    'other strategy is parameterized as its documentation says, cited in bench/rollout-sim/capacity.ts:',
    'Argo Rollouts https://argoproj.github.io/argo-rollouts/features/canary/ (dynamicStableScale, setCanaryScale),',
    'Baseten https://docs.baseten.co/deployment/rolling-promotions, Flagger https://docs.flagger.app/usage/deployment-strategies',
    'and fluxcd/flagger#1600.',
    '',
    markdown,
    'Reproduce: `npm run bench` (or `node -r ./test/support/register-ts.js bench/rollout-sim/capacity.ts`).',
    '',
  ].join('\n');
}

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('fs') as typeof import('fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('path') as typeof import('path');
  const doc = capacityReport();
  fs.mkdirSync(path.join(__dirname, '..', 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '..', 'results', 'capacity.md'), doc);
  console.log(doc);
}
