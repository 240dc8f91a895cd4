/** A canary version of a rollout. */
export interface CanaryOptions {
  /** Name of the version (as given to `Model.addVersion()`). */
  readonly version: string;
  /**
   * Share of requests the canary reaches at the end of the schedule, in percent. The canaries' weights add up
   * to 100 at most; the stable version gets the rest (BentoCloud's rule).
   * @default - 100 for a single canary; several canaries without a weight share what the others leave
   */
  readonly weight?: number;
  /**
   * Whether the canary ramps up along the schedule. `false` holds `weight` from the start: a fixed A/B split.
   * @default true
   */
  readonly ramp?: boolean;
}

/** Shadow traffic: copies of requests sent to a version whose answers are discarded. */
export interface MirrorOptions {
  /** The version that receives the copies. It must not be the stable version. */
  readonly version: string;
  /** Percent of requests copied, 1..100. */
  readonly percent: number;
}
