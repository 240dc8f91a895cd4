/**
 * One seed policy for every fast-check suite (imported first by each): PROPERTY_SEED when set; otherwise CI (CI set)
 * uses a fixed seed, so a clean checkout passes or fails the same way every time, and a local run draws a new one,
 * so local runs keep exploring. fast-check prints the seed and the path of any counterexample it finds
 * (`fc.defaultReportMessage`); replay it with PROPERTY_SEED (and PROPERTY_PATH for the property suite), then keep it
 * as a regression case in the suite.
 */
import * as fc from 'fast-check';

/** The fixed seed of CI runs. */
export const CI_SEED = 20261123;

export const SEED: number = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED)
  : process.env.CI ? CI_SEED : Math.floor(Math.random() * 0x7fffffff);

/** Whether this run drew its seed (a local run without PROPERTY_SEED). */
export const SEED_DRAWN = process.env.PROPERTY_SEED === undefined && !process.env.CI;

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: SEED });
