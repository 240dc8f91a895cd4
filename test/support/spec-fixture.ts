/**
 * The rollout spec most engine and controller tests start from: stable v1, one canary v2 ramping to 100 %,
 * 10 equal steps over 10 minutes, 4 stable replicas with one GPU each. Tests override what they exercise.
 */
import { KubernetesTarget } from '../../src/core/contract/target';
import { equalSteps } from '../../src/core/schedule';
import { RolloutSpec } from '../../src/core/spec';

export function rolloutSpec(overrides: Partial<RolloutSpec> = {}): RolloutSpec {
  return {
    name: 'llama',
    path: 'App/Rollout',
    stable: 'v1',
    canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
    versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }],
    steps: equalSteps(10, 600),
    stableReplicas: 4,
    checks: [],
    checkFailureLimit: 1,
    progressDeadlineSeconds: 900,
    keepPreviousWarmSeconds: 0,
    // the scale-down mechanics after promotion are what most tests exercise; the default (keep the previous version
    // while the spec still names it) has its own tests in decide-ownership.test.ts
    keepPreviousUntilSpecChanges: false,
    ...overrides,
  };
}

/**
 * The Kubernetes target of the shared fixture: random routing, no pins, v1 (4 replicas) and v2 (0) by name, their
 * floors on KEDA ScaledObjects when `scaledObjects` (else on the Deployments' scale).
 */
export function kubernetesTarget(options: { readonly httpRoute?: string; readonly scaledObjects?: boolean } = {}): KubernetesTarget {
  const backend = (v: string, baseReplicas: number) => ({
    service: `llama-${v}`, port: 8080, deployment: `llama-${v}`, ...(options.scaledObjects ? { scaledObject: `llama-${v}` } : {}), baseReplicas,
  });
  return {
    kind: 'kubernetes',
    namespace: 'models',
    httpRoute: options.httpRoute ?? 'llama',
    routing: { kind: 'random' },
    pins: [],
    backends: { v1: backend('v1', 4), v2: backend('v2', 0) },
  };
}
