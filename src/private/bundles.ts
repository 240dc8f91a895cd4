/**
 * The controller bundles that the build writes (see .projenrc.ts: esbuild, pre-compile), found relative to this
 * file from src/ (tests) and lib/ (the package) alike: `<package>/assets/controller/<target>/<entry>/index.js`.
 * Each is read at most once per process, however many rollouts a synthesis declares.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { configError, rendered } from '../core/errors';

const ASSETS = path.join(__dirname, '..', '..', 'assets', 'controller');

/** The bundles: the in-cluster CronJob controller, the Lambda handler, the CLI. */
export const BUNDLES = {
  kubernetes: path.join(ASSETS, 'k8s', 'main', 'index.js'),
  lambda: path.join(ASSETS, 'aws', 'handler', 'index.js'),
  /** The Lambda's deployment package: the bundle as `index.js`, zipped reproducibly by the build (projenrc/zip-bundle.js). */
  lambdaZip: path.join(ASSETS, 'aws', 'handler', 'lambda.zip'),
  cli: path.join(ASSETS, 'cli', 'main', 'index.js'),
} as const;

/** A bundle read once: its source, size and SHA-256. */
export interface Bundle {
  readonly file: string;
  readonly source: string;
  readonly bytes: number;
  readonly sha256: string;
}

const cache = new Map<string, Bundle>();

/** Read a bundle (once per process); a missing bundle is a configuration error naming `path`. */
export function readBundle(which: Exclude<keyof typeof BUNDLES, 'lambdaZip'>, scopePath: string): Bundle {
  const file = BUNDLES[which];
  let b = cache.get(file);
  if (!b) {
    if (!fs.existsSync(file)) throw bundleMissing(scopePath, file);
    const source = fs.readFileSync(file, 'utf8');
    const sha256 = createHash('sha256').update(source).digest('hex');
    b = { file, source, bytes: Buffer.byteLength(source), sha256 };
    cache.set(file, b);
  }
  return b;
}

/** The Lambda's deployment package (`BUNDLES.lambdaZip`); missing, a configuration error naming `scopePath`. */
export function lambdaPackage(scopePath: string): string {
  if (!fs.existsSync(BUNDLES.lambdaZip)) throw bundleMissing(scopePath, BUNDLES.lambdaZip);
  return BUNDLES.lambdaZip;
}

function bundleMissing(scopePath: string, bundle: string) {
  return configError(scopePath, 'controller', rendered(bundle), 'the step controller bundle is not built',
    'run `npx projen bundle` (the build and `npm test` do it first)');
}
