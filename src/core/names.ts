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

/** A construct id from a name: `llama-3.1` -> `Llama31`, `v2` -> `V2` (ids are PascalCase and stable). */
export function pascalCase(name: string, fallback = 'Default'): string {
  return name.split(/[^a-zA-Z0-9]+/).filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join('') || fallback;
}
