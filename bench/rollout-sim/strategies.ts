/**
 * The strategies compared, each parameterized as its system documents it, with the source of every figure.
 */
import { Decision, Observation, Scenario, Strategy } from './sim';
import { DEFAULT_SHADOW_MAX_SECONDS, DEFAULT_TICK_SECONDS } from '../../src/core/constants';
import { decide } from '../../src/core/decide';
import { DEFAULT_NO_DATA } from '../../src/core/gates';
import { equalSteps, resolveShadowSteps } from '../../src/core/schedule';
import { MetricSpec, RolloutSpec } from '../../src/core/spec';
import { ControllerState } from '../../src/core/state';
import { ServingEngine } from '../../src/rollout/serving-engine';

/** Options of `ours()` (the defaults are the library's as shipped; other values serve the sweep in `sweep.ts`). */
export interface OursOptions {
  /** Seconds between ticks (the `tickInterval` prop). Multiple of the simulation step (10 s). */
  readonly tickSeconds?: number;
  /** Another error check in place of the vLLM preset's default. */
  readonly errorCheck?: MetricSpec;
  readonly label?: string;
  /** false: without the default shadow step (`Steps.equal({ shadowFirst: false })`, and every ALB rollout). */
  readonly shadowFirst?: boolean;
}

/**
 * Ours, as shipped: `Steps.equal()` (10 steps over 10 minutes), a tick every `tickInterval` (10 s: the CronJob runs
 * once a minute and the controller ticks the rollout in progress every 10 s within the run; the few seconds
 * between a run's last tick and the next run's first are not modelled), the capacity gate with its 300 s
 * look-ahead, the vLLM preset's default checks (SPRT of canary vs stable errors over each tick's window: alpha 1 %,
 * H0 = 1.5 x stable, H1 = 10 x H0; latency vs stable), `checkFailureLimit` 0, the default no-data policy. All of it
 * through the real `decide()`.
 */
export function ours(scenario: Scenario, options: OursOptions = {}): Strategy {
  const engine = ServingEngine.VLLM;
  const tick = options.tickSeconds ?? DEFAULT_TICK_SECONDS;
  const errorCheck = options.errorCheck ? options.errorCheck : engine.errorCheck()._spec();
  const spec: RolloutSpec = {
    name: 'sim',
    path: 'bench/rollout-sim',
    stable: 'v1',
    canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
    versions: [{ name: 'v1', gpusPerReplica: scenario.gpusPerReplica }, { name: 'v2', gpusPerReplica: scenario.gpusPerReplica }],
    // `Steps.equal()` as the Gateway API target resolves it: the default shadow step sized from the first step's
    // replicas (100 % with one stable replica, 10 % with 10 or 100), then 10 steps over 10 minutes
    steps: resolveShadowSteps('bench', 'steps', [
      ...(options.shadowFirst ?? true ? [{ kind: 'shadow' as const, percent: 0, maxSeconds: DEFAULT_SHADOW_MAX_SECONDS, auto: true }] : []),
      ...equalSteps(10, 600),
    ], { canaries: [{ targetWeight: 100 }], stableReplicas: scenario.stableReplicas, canMirror: true, partialMirror: true }, {
      unsupported: () => new Error('unsupported'), partial: () => new Error('partial'),
    }),
    stableReplicas: scenario.stableReplicas,
    checks: [errorCheck, engine.latencyCheck()._spec()],
    checkFailureLimit: 0,
    progressDeadlineSeconds: 900,
    keepPreviousWarmSeconds: 0,
    noData: DEFAULT_NO_DATA,
    tickSeconds: tick,
  };
  let state: ControllerState | undefined;
  let floor = 0;
  let mirror = 0;
  return {
    name: options.label ?? 'ours (defaults as shipped)',
    description: `Steps.equal() default${options.shadowFirst === false ? ' without its shadow step' : ' (shadow step first)'}; a tick every ${tick} s; vLLM preset checks: SPRT canary vs stable (alpha 1 %, H1 = 10 x H0), latency vs stable; failure limit 0`,
    intervalSeconds: tick,
    decide(o: Observation): Decision {
      const weight = o.canaryWeight;
      // what the Prometheus adapter observes: the preset's raw totals of canary and stable at this tick (the last
      // scrape at or before it; the engine differences them), or a window's counts for a check on window queries,
      // and the latency check's p95 time to first token of both over its 5-minute range
      const canary = o.counts('canary', tick);
      const stable = o.counts('stable', tick);
      const observe = (m: MetricSpec) => {
        if (m.provider === 'prometheus' && m.sequential?.totals) {
          const c = o.totals('canary');
          const st = o.totals('stable');
          return {
            totals: {
              at: o.t * 1000,
              canary: { requests: { r: c.requests }, errors: { e: c.errors } },
              stable: { requests: { r: st.requests }, errors: { e: st.errors } },
            },
          };
        }
        if (m.provider === 'prometheus' && m.sequential) {
          return {
            value: canary.requests > 0 ? canary.errors / canary.requests : undefined,
            samples: canary.requests,
            ...(canary.requests > 0 || weight > 0 ? { counts: { canary, stable } } : {}),
          };
        }
        const c = o.ttft('canary', 300);
        const st = o.ttft('stable', 300);
        return { value: c.value, samples: c.samples, baseline: st.value, baselineSamples: st.samples };
      };
      const metrics = Object.fromEntries(spec.checks.filter((m) => m.provider === 'prometheus').map((m) => [m.name, observe(m)]));
      const d = decide(spec, state, {
        readyReplicas: { v1: scenario.stableReplicas, v2: o.canaryReady },
        routerWeights: { v1: 100 - weight, v2: weight },
        // the route's mirror as last sent (the simulated router applies a change within the tick)
        routerMirrors: mirror > 0 ? [{ version: 'v2', percent: mirror }] : [],
        metrics: { v2: metrics },
      }, o.t * 1000);
      state = d.state;
      for (const a of d.actions) if (a.kind === 'setFloor' && a.version === 'v2') floor = a.replicas;
      for (const a of d.actions) if (a.kind === 'setWeights') mirror = a.shadow?.percent ?? 0;
      const done = state.phase === 'aborted' ? 'aborted' : state.phase === 'promoted' ? 'promoted' : undefined;
      return { weight: state.weights.v2, canaryReplicas: done === 'aborted' ? 0 : Math.max(floor, done === 'promoted' ? scenario.stableReplicas : 0), done, mirrorPercent: mirror };
    },
  };
}

/** Options of `flagger()`. */
export interface FlaggerOptions {
  readonly label: string;
  /** `analysis.interval`; code default 60 s (fluxcd/flagger pkg/apis/flagger/v1beta1/canary.go, GetAnalysisInterval). */
  readonly intervalSeconds: number;
  /** `analysis.threshold`; code default 1 (same file, GetAnalysisThreshold: "default 1"). */
  readonly threshold: number;
  /**
   * `analysis.mirror: true` (Istio; `mirrorWeight` default 100): one interval of mirroring before the first weight,
   * "a pre-stage in a Canary" (docs/gitbook/usage/deployment-strategies.md, "Blue/Green with Traffic Mirroring";
   * pkg/controller/scheduler.go `runCanary`: at canary weight 0 the first advance only mirrors, the next one sets
   * the first step weight; the checks run while mirrored). Flagger's Gateway API router mirrors only for Blue/Green
   * (pkg/router/gateway_api.go: `mirrored && Iterations > 0`).
   */
  readonly mirror?: boolean;
}

/**
 * Flagger. Figures: `stepWeight: 10`, `maxWeight: 50` (docs/gitbook/how-it-works.md, podinfo canary; Flagger has no
 * code default for them), request-success-rate `min: 99` over the metric `interval: 1m` (docs/gitbook/usage/metrics.md,
 * builtin checks), `threshold` and `interval` as given (code defaults 1 and 60 s: pkg/apis/flagger/v1beta1/canary.go).
 * Behaviour: the canary Deployment scales through its HPA (minReplicas 1); while it is not ready Flagger halts (no
 * check, no step); a query with no values halts; a failed check does not advance; `failedChecks >= threshold` rolls
 * back; a passing check at maxWeight promotes: the primary gets the canary's spec and takes all traffic with its own
 * capacity (so promotion never overloads).
 */
export function flagger(o: FlaggerOptions): Strategy {
  let weight = 0;
  let failed = 0;
  let started = false;
  let mirrored = false;
  return {
    name: `Flagger ${o.label} (threshold ${o.threshold}, interval ${o.intervalSeconds} s${o.mirror ? ', mirror pre-stage' : ''})`,
    description: `interval ${o.intervalSeconds} s, threshold ${o.threshold}, stepWeight 10, maxWeight 50, success rate >= 99 % over 1m${o.mirror ? ', mirror: true (Istio, mirrorWeight 100)' : ''}`,
    intervalSeconds: o.intervalSeconds,
    decide(obs: Observation): Decision {
      const mirrorPercent = mirrored ? 100 : 0;
      const notReady = obs.canaryReady < Math.max(1, obs.canaryReplicas);
      if (!started) {
        started = !notReady;
        return { weight: 0, canaryMinReplicas: 1 };
      }
      if (notReady) return { weight, canaryMinReplicas: 1, mirrorPercent };
      if (weight > 0 || mirrored) {
        const c = obs.counts('canary', 60);
        if (c.requests === 0) return { weight, canaryMinReplicas: 1, mirrorPercent };
        if ((1 - c.errors / c.requests) * 100 < 99) {
          failed++;
          if (failed >= o.threshold) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
          return { weight, canaryMinReplicas: 1, mirrorPercent };
        }
      }
      if (weight >= 50) return { weight: 100, canaryMinReplicas: 1, done: 'promoted' };
      if (o.mirror && weight === 0 && !mirrored) {
        mirrored = true;
        return { weight: 0, canaryMinReplicas: 1, mirrorPercent: 100 };
      }
      mirrored = false;
      weight += 10;
      return { weight, canaryMinReplicas: 1 };
    },
  };
}

/**
 * Flagger Blue/Green with traffic mirroring (docs/gitbook/usage/deployment-strategies.md, "Blue/Green with Traffic
 * Mirroring": `analysis.iterations`, `mirror: true`, Istio): the canary, scaled like the primary, answers copies of
 * every request for `iterations` checks `intervalSeconds` apart (success rate >= 99 % over 1m), then takes all of
 * the traffic at once; `threshold` failed checks roll back.
 */
export function flaggerBlueGreen(
  scenario: Scenario, o: { readonly iterations: number; readonly intervalSeconds: number; readonly threshold: number },
): Strategy {
  let started: number | undefined;
  let passed = 0;
  let failed = 0;
  return {
    name: `Flagger Blue/Green (mirror, iterations ${o.iterations}, interval ${o.intervalSeconds} s, threshold ${o.threshold})`,
    description: `blue/green with mirroring, iterations ${o.iterations}, interval ${o.intervalSeconds} s, threshold ${o.threshold}, success rate >= 99 % over 1m`,
    intervalSeconds: o.intervalSeconds,
    decide(obs: Observation): Decision {
      const replicas = scenario.stableReplicas;
      if (started === undefined) {
        if (obs.canaryReady < replicas) return { weight: 0, canaryReplicas: replicas };
        started = obs.t;
        return { weight: 0, canaryReplicas: replicas, mirrorPercent: 100 };
      }
      const c = obs.counts('canary', 60);
      if (c.requests > 0) {
        if ((1 - c.errors / c.requests) * 100 < 99) {
          if (++failed >= o.threshold) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
        } else {
          passed++;
        }
      }
      if (passed >= o.iterations) return { weight: 100, canaryReplicas: replicas, done: 'promoted' };
      return { weight: 0, canaryReplicas: replicas, mirrorPercent: 100 };
    },
  };
}

/** Options of `argoRollouts()`. */
export interface ArgoOptions {
  readonly label: string;
  /** Weights of the `setWeight` steps, each followed by `pauseSeconds`. */
  readonly weights: number[];
  readonly pauseSeconds: number;
  /** Background analysis `interval`. */
  readonly intervalSeconds: number;
  /** `failureLimit` (default 0: docs/features/analysis.md; the docs example uses 3). */
  readonly failureLimit: number;
  /** `successCondition: result >= minSuccess` (docs example: 0.95). */
  readonly minSuccess: number;
  /**
   * A `setMirrorRoute` step (100 % of requests copied to the canary, docs/features/traffic-management/mirroring.md,
   * Gateway API plugin) held this many seconds before the first weight, with the background analysis measuring the
   * copies. @default 0 (none)
   */
  readonly mirrorSeconds?: number;
  /**
   * `consecutiveErrorLimit` (default 4, docs/features/analysis.md "Handling Metric Results"): measurements with no
   * value (0/0, an empty result) in a row beyond it end the AnalysisRun in Error, which aborts the rollout.
   * @default 4
   */
  readonly consecutiveErrorLimit?: number;
}

/**
 * Argo Rollouts with traffic routing and `setCanaryScale` (`matchTrafficWeight`): the canary ReplicaSet is scaled to
 * the weight's share of the stable replicas and the weight moves once those are available; a background
 * AnalysisRun measures the success rate every `interval` over the same window and aborts at `failures >
 * failureLimit` (argoproj/argo-rollouts docs/features/analysis.md, "Background Analysis"; docs/features/canary.md,
 * setCanaryScale). No values (0/0) is an error measurement, not a failure (consecutiveErrorLimit 4).
 */
export function argoRollouts(scenario: Scenario, o: ArgoOptions): Strategy {
  const weights = [...o.weights, 100];
  let index = 0;
  let weight = 0;
  let since = 0;
  let failures = 0;
  let errors = 0;
  let lastAnalysis = 0;
  let mirrorFrom: number | undefined;
  const mirrorSeconds = o.mirrorSeconds ?? 0;
  const replicasFor = (w: number) => Math.ceil((w * scenario.stableReplicas) / 100);
  const mirroring = (t: number) => mirrorSeconds > 0 && index === 0 && (mirrorFrom === undefined || t - mirrorFrom < mirrorSeconds);
  return {
    name: `Argo Rollouts ${o.label} (failureLimit ${o.failureLimit}, ${o.intervalSeconds} s${o.minSuccess !== 0.95 ? `, success >= ${o.minSuccess * 100} %` : ''}${mirrorSeconds > 0 ? `, setMirrorRoute ${mirrorSeconds} s` : ''})`,
    description: `setWeight ${o.weights.join('/')} with ${o.pauseSeconds} s pauses, setCanaryScale; success >= ${o.minSuccess * 100} % every ${o.intervalSeconds} s, failureLimit ${o.failureLimit}${mirrorSeconds > 0 ? `, setMirrorRoute 100 % for ${mirrorSeconds} s first` : ''}`,
    intervalSeconds: 10,
    decide(obs: Observation): Decision {
      // the mirror step: the canary at the first weight's scale answers copies of every request
      if (mirroring(obs.t)) {
        if (obs.canaryReady < replicasFor(weights[0]) && mirrorFrom === undefined) return { weight: 0, canaryReplicas: replicasFor(weights[0]) };
        mirrorFrom = mirrorFrom ?? obs.t;
        if (lastAnalysis === 0) lastAnalysis = obs.t;
      }
      const measuring = weight > 0 || (mirrorFrom !== undefined && index === 0);
      if (measuring && obs.t - lastAnalysis >= o.intervalSeconds) {
        lastAnalysis = obs.t;
        const c = obs.counts('canary', o.intervalSeconds);
        if (c.requests > 0) {
          errors = 0;
          if (1 - c.errors / c.requests < o.minSuccess) failures++;
        } else if (++errors > (o.consecutiveErrorLimit ?? 4)) {
          return { weight: 0, canaryReplicas: 0, done: 'aborted' };
        }
        if (failures > o.failureLimit) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
      }
      if (mirroring(obs.t)) return { weight: 0, canaryReplicas: replicasFor(weights[0]), mirrorPercent: 100 };
      const next = weights[index];
      const paused = index > 0 && obs.t - since < o.pauseSeconds;
      if (!paused && obs.canaryReady >= replicasFor(next)) {
        weight = next;
        since = obs.t;
        index++;
        if (weight === 0 || lastAnalysis === 0) lastAnalysis = obs.t;
        if (weight >= 100) return { weight, canaryReplicas: scenario.stableReplicas, done: 'promoted' };
      }
      return { weight, canaryReplicas: Math.max(replicasFor(weights[Math.min(index, weights.length - 1)]), replicasFor(weight)) };
    },
  };
}

/**
 * Baseten: a promotion first scales the new deployment to the environment's min replicas and only then shifts traffic
 * (https://docs.baseten.co/deployment/environments, "Promoting deployments to environments"); a rolling promotion
 * shifts in steps and can be cancelled at any point (https://docs.baseten.co/deployment/rolling-deployments). No
 * automated metric analysis: a person cancels `cancelAfterSeconds` after a faulty canary first gets traffic (modelled
 * as an oracle: the person always notices a faulty canary, never cancels a healthy one). Steps: 10 % a minute (an
 * assumption: the step size is configured per promotion).
 */
export function baseten(scenario: Scenario, cancelAfterSeconds: number): Strategy {
  let firstTraffic: number | undefined;
  let rampStart: number | undefined;
  const faulty = scenario.canaryErrorRate > scenario.stableErrorRate * 2;
  return {
    name: `Baseten (min-replica gate, human cancel after ${cancelAfterSeconds / 60} min)`,
    description: `scale to production's min replicas first, then 10 % a minute; a person cancels ${cancelAfterSeconds} s after a faulty canary gets traffic`,
    intervalSeconds: 10,
    decide(o: Observation): Decision {
      if (rampStart === undefined) {
        if (o.canaryReady >= scenario.stableReplicas) rampStart = o.t;
        else return { weight: 0, canaryReplicas: scenario.stableReplicas };
      }
      const weight = Math.min(100, 10 * (1 + Math.floor((o.t - rampStart) / 60)));
      if (firstTraffic === undefined) firstTraffic = o.t;
      if (faulty && o.t >= firstTraffic + cancelAfterSeconds) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
      return { weight, canaryReplicas: scenario.stableReplicas, done: weight >= 100 && !faulty ? 'promoted' : undefined };
    },
  };
}

/** Every strategy, fresh, for one scenario: ours, then each competitor at its defaults and at its best documented configuration. */
export function strategies(scenario: Scenario): Strategy[] {
  return [
    ours(scenario),
    // the same defaults where the router cannot mirror (an ALB): `Steps.equal()` leaves the shadow step out there
    ours(scenario, { shadowFirst: false, label: 'ours on an ALB (no mirroring: no shadow step)' }),
    flagger({ label: 'defaults', intervalSeconds: 60, threshold: 1 }),
    flagger({ label: 'best', intervalSeconds: 30, threshold: 1 }),
    flagger({ label: 'best', intervalSeconds: 30, threshold: 2 }),
    flagger({ label: 'best', intervalSeconds: 30, threshold: 1, mirror: true }),
    argoRollouts(scenario, { label: 'docs example', weights: [20, 40, 60, 80], pauseSeconds: 600, intervalSeconds: 300, failureLimit: 3, minSuccess: 0.95 }),
    argoRollouts(scenario, { label: 'best', weights: [10, 20, 30, 40, 50, 60, 70, 80, 90], pauseSeconds: 60, intervalSeconds: 60, failureLimit: 0, minSuccess: 0.95 }),
    argoRollouts(scenario, { label: 'best', weights: [10, 20, 30, 40, 50, 60, 70, 80, 90], pauseSeconds: 60, intervalSeconds: 60, failureLimit: 1, minSuccess: 0.95 }),
    baseten(scenario, 60),
    baseten(scenario, 120),
    baseten(scenario, 300),
  ];
}
