/**
 * Pinned versions: the route sends pinned requests to their version in every phase and at every weight (pin rules
 * come first, `routes/gateway-api.ts`), so each pinned version keeps at least one replica for as long as the
 * rollout exists, and is never scaled down by it (`floors.ts`, `mayScaleDown`); its autoscaler scales it above one
 * with its pinned load.
 */
import { TickContext } from './context';

/** Every pinned version's floor at least 1, in every phase. */
export function holdPinFloors(t: TickContext): void {
  for (const version of t.spec.pinned ?? []) {
    if (t.ensureFloor(version, 1)) t.reasons.push(`${version} is pinned: floor 1 so pinned requests always find a replica`);
  }
}
