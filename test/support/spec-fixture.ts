/**
 * The rollout spec most engine and controller tests start from: stable v1, one canary v2 ramping to 100 %,
 * 10 equal steps over 10 minutes, 4 stable replicas with one GPU each. Tests override what they exercise.
 */
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
    ...overrides,
  };
}
