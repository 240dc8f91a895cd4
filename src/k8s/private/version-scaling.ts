/**
 * Per-version autoscaling (BentoCloud's per-target scaling): a version's minimum, maximum, target and windows
 * replace its environment's, above or below them. Two rules of the environment win: a development environment runs
 * 0..1 replicas, and an environment that scales to zero keeps its 0 minimum (its HTTP add-on wakes the version).
 */
import { Duration } from 'cdk8s';
import { validateDuration } from './inputs';
import { VersionAutoscalingOptions } from '../autoscaling';
import { IModelVersion } from '../contracts';
import * as errors from '../errors';

/** What of an environment a version's autoscaling replaces, and the rules that decide whether it may. */
export interface ScalableEnvironment {
  readonly development: boolean;
  readonly scalesToZero: boolean;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly concurrencyTarget: number;
  readonly scaleUpWindow: Duration;
  readonly scaleDownDelay: Duration;
}

/** A version's options checked, with `maxReplicas` folded into `autoscaling`; undefined when it overrides nothing. */
export function versionAutoscaling(path: string, property: string,
  o: { readonly maxReplicas?: number; readonly autoscaling?: VersionAutoscalingOptions }): VersionAutoscalingOptions | undefined {
  const a = o.autoscaling ?? {};
  if (o.maxReplicas !== undefined && a.maxReplicas !== undefined && o.maxReplicas !== a.maxReplicas) {
    throw errors.versionMaxTwice(path, `${property}.maxReplicas`, o.maxReplicas, a.maxReplicas);
  }
  const merged: VersionAutoscalingOptions = { ...a, ...(o.maxReplicas !== undefined ? { maxReplicas: o.maxReplicas } : {}) };
  if (Object.values(merged).every((v) => v === undefined)) return undefined;
  const p = `${property}.autoscaling`;
  if (merged.minReplicas !== undefined && !(Number.isInteger(merged.minReplicas) && merged.minReplicas >= 0)) {
    throw errors.replicaCountInvalid(path, `${p}.minReplicas`, merged.minReplicas);
  }
  if (merged.maxReplicas !== undefined && !(Number.isInteger(merged.maxReplicas) && merged.maxReplicas >= 1)) {
    throw errors.versionMaxInvalid(path, `${p}.maxReplicas`, merged.maxReplicas);
  }
  if (merged.minReplicas !== undefined && merged.maxReplicas !== undefined && merged.minReplicas > merged.maxReplicas) {
    throw errors.minAboveMax(path, `${p}.minReplicas`, merged.minReplicas, merged.maxReplicas);
  }
  if (merged.concurrencyTarget !== undefined && !(merged.concurrencyTarget > 0)) {
    throw errors.concurrencyTargetInvalid(path, `${p}.concurrencyTarget`, merged.concurrencyTarget);
  }
  if (merged.scaleUpWindow) validateDuration(path, `${p}.scaleUpWindow`, merged.scaleUpWindow);
  if (merged.scaleDownDelay) validateDuration(path, `${p}.scaleDownDelay`, merged.scaleDownDelay);
  return merged;
}

/** The scaling of `version` in `env`: the version's values over the environment's, within the environment's rules. */
export function scalingOf<E extends ScalableEnvironment>(env: E, version: IModelVersion): E {
  const a = version.autoscaling;
  if (!a || env.development) return env;
  const min = env.scalesToZero ? 0 : a.minReplicas ?? env.minReplicas;
  const max = a.maxReplicas ?? env.maxReplicas;
  return {
    ...env,
    minReplicas: min,
    // a minimum above the environment's maximum raises the maximum with it
    maxReplicas: Math.max(max, min),
    concurrencyTarget: a.concurrencyTarget ?? env.concurrencyTarget,
    scaleUpWindow: a.scaleUpWindow ?? env.scaleUpWindow,
    scaleDownDelay: a.scaleDownDelay ?? env.scaleDownDelay,
  };
}

/** A version's own bounds as the rollout spec carries them (`VersionSpec`), absent when it has none. */
export function specScaling(version: IModelVersion): { minReplicas?: number; maxReplicas?: number } {
  const a = version.autoscaling;
  return {
    ...(a?.minReplicas !== undefined ? { minReplicas: a.minReplicas } : {}),
    ...(a?.maxReplicas !== undefined ? { maxReplicas: a.maxReplicas } : {}),
  };
}
