/** A canary version of a rollout. */
export interface CanaryOptions {
  /** Name of the version (as given to `Model.addVersion()`). */
  readonly version: string;
  /**
   * Share of requests the canary reaches at the end of the schedule, in percent. The canaries' weights add up
   * to 100 at most; the stable version gets the rest (BentoCloud's rule). 0 is accepted for a version a pin leads to
   * (Wallaroo's key split: it serves the pinned requests only, holds one replica at least, and does not ramp).
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
  /**
   * Percent of the requests of the rollout's route copied, 1..100: pinned requests included, except those pinned
   * to the mirrored version itself (a pin endpoint's separate route is not mirrored).
   */
  readonly percent: number;
}
