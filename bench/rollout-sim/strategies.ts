/**
 * The strategies compared, each parameterized as its system documents it.
 */
import { Decision, Observation, Scenario, Strategy } from './sim';
import { decide } from '../../src/core/decide';
import { equalSteps } from '../../src/core/schedule';
import { RolloutSpec } from '../../src/core/spec';
import { ControllerState } from '../../src/core/state';

/**
 * Ours, at default settings: `Steps.equal()` (10 steps over 10 minutes), capacity gate with the default 5-minute
 * look-ahead, one continuous error-rate check (< 5 %) with a minimum-sample guard of 50 requests, the default
 * check failure limit (0). Driven by the real `decide()`.
 */
export function ours(scenario: Scenario): Strategy {
  const spec: RolloutSpec = {
    name: 'sim',
    path: 'bench/rollout-sim',
    stable: 'v1',
    canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
    versions: [{ name: 'v1', gpusPerReplica: scenario.gpusPerReplica }, { name: 'v2', gpusPerReplica: scenario.gpusPerReplica }],
    steps: equalSteps(10, 600),
    stableReplicas: scenario.stableReplicas,
    checks: [{ provider: 'prometheus', name: 'error-rate', query: '(simulated)', comparison: 'lt', threshold: 0.05, sampleQuery: '(simulated)', minSamples: 50 }],
    checkFailureLimit: 0,
    progressDeadlineSeconds: 900,
    keepPreviousWarmSeconds: 0,
  };
  let state: ControllerState | undefined;
  let floor = 0;
  return {
    name: 'ours (capacity + metric gates)',
    description: 'Steps.equal() default, capacity gate with 300 s look-ahead, error-rate check < 5 % with minSamples 50, failure limit 0',
    intervalSeconds: 60,
    decide(o: Observation): Decision {
      const weight = o.canaryWeight;
      const d = decide(spec, state, {
        readyReplicas: { v1: scenario.stableReplicas, v2: o.canaryReady },
        routerWeights: { v1: 100 - weight, v2: weight },
        metrics: { v2: { 'error-rate': o.canaryRequests60 > 0 ? { value: o.canaryErrors60 / o.canaryRequests60, samples: o.canaryRequests60 } : {} } },
      }, o.t * 1000);
      state = d.state;
      for (const a of d.actions) if (a.kind === 'setFloor' && a.version === 'v2') floor = a.replicas;
      const done = state.phase === 'aborted' ? 'aborted' : state.phase === 'promoted' ? 'promoted' : undefined;
      return { weight: state.weights.v2, canaryReplicas: done === 'aborted' ? 0 : Math.max(floor, done === 'promoted' ? scenario.stableReplicas : 0), done };
    },
  };
}

/**
 * Baseten-like: promotion ramps in 10 equal steps over the window (default 600 s); no automated analysis; a
 * person cancels (all traffic back at once) after a detection delay, default 5 minutes. Replicas follow load
 * through the autoscaler.
 */
export function basetenLike(detectionDelaySeconds = 300): Strategy {
  let failingSince: number | undefined;
  return {
    name: 'Baseten-like (10 steps / 10 min, manual cancel)',
    description: `10 equal steps over 600 s; cancel by a person ${detectionDelaySeconds} s after the canary starts failing`,
    intervalSeconds: 10,
    decide(o: Observation): Decision {
      if (o.canaryErrors60 > 0 && o.canaryErrors60 / Math.max(1, o.canaryRequests60) > 0.05 && failingSince === undefined) failingSince = o.t;
      // the person reverts even after the ramp finished (Baseten: promote the previous deployment back)
      if (failingSince !== undefined && o.t >= failingSince + detectionDelaySeconds) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
      return { weight: Math.min(100, 10 * Math.floor(o.t / 60)) };
    },
  };
}

/**
 * Flagger, as its podinfo canary example documents it: `interval: 1m`, `threshold: 5` (failed checks before
 * rollback), `maxWeight: 50`, `stepWeight: 10`, request-success-rate `min: 99`. It waits for the canary
 * Deployment to be ready (HPA minReplicas 1) before starting; after that the HPA follows load.
 * Promotion after a successful check at maxWeight routes everything to the new version.
 */
export function flagger(): Strategy {
  let weight = 0;
  let failed = 0;
  let started = false;
  return {
    name: 'Flagger (podinfo example)',
    description: 'interval 1m, stepWeight 10, maxWeight 50, threshold 5 failed checks, success rate >= 99 %',
    intervalSeconds: 60,
    decide(o: Observation): Decision {
      if (!started) {
        started = o.canaryReady >= 1;
        return { weight: 0, canaryMinReplicas: 1 };
      }
      const failing = o.canaryRequests60 > 0 && o.canaryErrors60 / o.canaryRequests60 > 0.01;
      if (weight > 0 && failing) {
        failed++;
        if (failed >= 5) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
        return { weight, canaryMinReplicas: 1 };
      }
      if (weight >= 50) return { weight: 100, canaryMinReplicas: 1, done: 'promoted' };
      weight += 10;
      return { weight, canaryMinReplicas: 1 };
    },
  };
}

/**
 * An Argo Rollouts canary as the background-analysis example of its docs: setWeight 20, 40, 60, 80 with a 10-minute
 * pause after each, a success-rate AnalysisTemplate measured every 5 minutes (>= 95 %) with `failureLimit: 3`.
 * With traffic routing, the canary ReplicaSet is scaled to the weight's share and the weight moves once it is available.
 */
export function argoRollouts(scenario: Scenario): Strategy {
  const weights = [20, 40, 60, 80, 100];
  let index = 0;
  let weight = 0;
  let since = 0;
  let failures = 0;
  let lastAnalysis = 0;
  return {
    name: 'Argo Rollouts (docs background analysis)',
    description: 'setWeight 20/40/60/80 with 10 m pauses; success rate >= 95 % every 5 m, failureLimit 3',
    intervalSeconds: 10,
    decide(o: Observation): Decision {
      if (o.t - lastAnalysis >= 300 && weight > 0) {
        lastAnalysis = o.t;
        if (o.canaryRequests60 > 0 && o.canaryErrors60 / o.canaryRequests60 > 0.05) failures++;
        if (failures > 3) return { weight: 0, canaryReplicas: 0, done: 'aborted' };
      }
      const next = weights[index];
      const replicas = Math.ceil((next * scenario.stableReplicas) / 100);
      const paused = index > 0 && o.t - since < 600;
      if (!paused && o.canaryReady >= replicas) {
        weight = next;
        since = o.t;
        index++;
        if (weight >= 100) return { weight, canaryReplicas: scenario.stableReplicas, done: 'promoted' };
      }
      const want = Math.ceil((weights[Math.min(index, weights.length - 1)] * scenario.stableReplicas) / 100);
      return { weight, canaryReplicas: Math.max(want, Math.ceil((weight * scenario.stableReplicas) / 100)) };
    },
  };
}

/** A naive ramp: 10 % more every minute, no capacity gate (replicas follow load through the autoscaler), no analysis. */
export function naiveRamp(): Strategy {
  return {
    name: 'naive ramp (no capacity gate)',
    description: '10 % per minute, autoscaler only, no analysis',
    intervalSeconds: 10,
    decide(o: Observation): Decision {
      const weight = Math.min(100, 10 * Math.floor(o.t / 60));
      return { weight, done: weight >= 100 ? 'promoted' : undefined };
    },
  };
}
