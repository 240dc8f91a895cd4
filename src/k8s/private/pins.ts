/** Pins (requests that always reach one version) checked before they become route rules. */
import { PinSpec } from '../../core/contract/target';
import * as errors from '../errors';
import { validateHeaderName } from './inputs';

/** Check pins: one version per match, non-empty names. */
export function validatePins(path: string, pins: readonly PinSpec[]): void {
  const seen = new Map<string, string>();
  pins.forEach((p, i) => {
    const m = p.header ?? p.query!;
    if (!m.name.trim() || !m.value.trim()) throw errors.pinEmpty(path, `pins[${i}]`);
    validateHeaderName(path, `pins[${i}].name`, m.name);
    const key = `${p.header ? 'header' : 'query'} ${m.name}=${m.value}`;
    const first = seen.get(key);
    if (first !== undefined && first !== p.version) throw errors.pinShared(path, `pins[${i}]`, key, first, p.version);
    seen.set(key, p.version);
  });
}
