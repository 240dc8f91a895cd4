/**
 * How a rollout uses GPUs: `RolloutCapacity.full()` (the default: the stable version keeps every replica until
 * promotion, the canary gets its own on top) or `RolloutCapacity.surge({ maxExtraGpus })` (the stable version
 * shrinks as the canary grows, within a GPU budget). Its messages are in `private/capacity-rules.ts`.
 */
import { maxExtraGpusInvalid, reserveInvalid } from '../core/errors';
import { CapacitySpec } from '../core/spec';

/** Options of `RolloutCapacity.surge()`. */
export interface SurgeCapacityOptions {
  /**
   * GPUs the rollout may use above what the stable version uses now. At least one canary replica's GPUs plus the
   * reserve's: synth refuses a budget that cannot fit them.
   */
  readonly maxExtraGpus: number;
  /**
   * Replicas the stable version keeps above what its remaining share of traffic needs. An abort moves the traffic
   * they carry back at once; the rest waits for the stable version's replicas to cold-start again (the canary,
   * being rolled back, keeps serving it meanwhile). 0 saves GPUs and makes every abort wait a full cold start
   * for its first move.
   * @default 1
   */
  readonly reserveReplicas?: number;
}

/**
 * The GPUs a rollout may use.
 *
 * `full()` needs up to twice the stable version's GPUs (both versions at full size just before promotion) and
 * rolls back at once. `surge()` never uses more than `maxExtraGpus` above the stable version's current GPUs:
 * the stable version shrinks as the canary grows, always keeping ready replicas for the traffic it still serves
 * plus `reserveReplicas`; an abort moves traffic back as fast as the stable version's replicas come back
 * (cold starts) while the canary releases its own. Argo Rollouts calls this `dynamicStableScale`, Baseten a
 * rolling promotion, SageMaker a rolling deployment "for accelerated instances in high demand".
 * @see https://argoproj.github.io/argo-rollouts/features/canary/#dynamic-stable-scale-with-traffic-routing
 */
export class RolloutCapacity {
  /** Both versions at full size: fastest abort, up to twice the GPUs. */
  public static full(): RolloutCapacity {
    return new RolloutCapacity('full', undefined, undefined);
  }

  /** Within a GPU budget above the stable version's current use: the stable version shrinks as the canary grows. */
  public static surge(options: SurgeCapacityOptions): RolloutCapacity {
    return new RolloutCapacity('surge', options.maxExtraGpus, options.reserveReplicas);
  }

  private constructor(
    /** `full` or `surge`. */
    public readonly mode: string,
    /** Surge: GPUs above the stable version's current use. */
    public readonly maxExtraGpus?: number,
    /** Surge: replicas the stable version keeps above its share. */
    public readonly reserveReplicas?: number,
  ) {}

  /**
   * The spec data, validated. Absent for `full` (so specs without the option keep their hash).
   * @internal
   */
  public _spec(path: string, property: string): CapacitySpec | undefined {
    if (this.mode !== 'surge') return undefined;
    const extra = this.maxExtraGpus!;
    if (!Number.isInteger(extra) || extra < 1) throw maxExtraGpusInvalid(path, `${property}.maxExtraGpus`, extra);
    const reserve = this.reserveReplicas;
    if (reserve !== undefined && (!Number.isInteger(reserve) || reserve < 0)) throw reserveInvalid(path, `${property}.reserveReplicas`, reserve);
    return { mode: 'surge', maxExtraGpus: extra, ...(reserve !== undefined ? { reserveReplicas: reserve } : {}) };
  }
}
