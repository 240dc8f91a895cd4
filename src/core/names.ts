/**
 * Kubernetes-compatible names. Versions, models and environments become parts of object names and labels,
 * so they are checked once, at synth time, against DNS-1123 label rules.
 */
import * as errors from './errors';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** true when `name` is a DNS-1123 label (lowercase alphanumerics and '-', 1..63 characters). */
export function isDns1123Label(name: string): boolean {
  return name.length > 0 && name.length <= 63 && DNS1123_LABEL.test(name);
}

/** Throw a `RolloutConfigError` unless `name` is a DNS-1123 label. */
export function validateDns1123Label(path: string, property: string, name: string): void {
  if (!isDns1123Label(name)) throw errors.nameNotDns1123(path, property, name);
}
