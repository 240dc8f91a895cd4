/**
 * The spec document the controller reads at every tick (a ConfigMap's `spec.json`, an SSM parameter), parsed once
 * per distinct text: the same text gives the same frozen object, so the engine's spec-hash memo (a WeakMap keyed by
 * the spec object, `hashOfSpec` in core/decide/context.ts) hits on every tick after the first instead of hashing a
 * fresh parse each time (a warm Lambda, a CronJob run with sub-minute ticks or a long-lived CLI reads the same text
 * tick after tick). Frozen, deeply: nothing may change an object other ticks share (a mutation throws in the
 * bundle's strict mode instead of leaking into the next tick). A handful of texts are kept (several rollouts in one
 * process: a namespace controller, a CLI acting on several), oldest dropped first.
 */
const KEPT = 8;
const parsed = new Map<string, unknown>();

/** `JSON.parse(text)`, deeply frozen, the same object for the same text while it is among the last few read. */
export function parseDocument<T>(text: string): T {
  const hit = parsed.get(text);
  if (hit !== undefined) {
    // most recently used last
    parsed.delete(text);
    parsed.set(text, hit);
    return hit as T;
  }
  const value = deepFreeze(JSON.parse(text));
  parsed.set(text, value);
  if (parsed.size > KEPT) parsed.delete(parsed.keys().next().value as string);
  return value as T;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
