/**
 * Replica floors outside the capacity gate: repairing floors lost between ticks, the mirror's floor, and the
 * look-ahead that raises canaries' floors before the schedule needs them (see `desiredFloors()`).
 */
import { TickContext } from './context';
import { desiredFloors, mirrorReplicas, prewarmSeconds } from '../capacity';

/** Floors the router's objects lost (a crash or an operator between ticks) are set again, once per tick. */
export function repairFloors(t: TickContext): void {
  const { s, obs } = t;
  if (!obs.floors || !(s.phase === 'progressing' || s.phase === 'paused') || !t.tickSince(s.floorsSetAt)) return;
  for (const [version, floor] of Object.entries(s.floors)) {
    const seen = obs.floors[version];
    if (floor > 0 && seen !== undefined && seen < floor) {
      t.reasons.push(`floor of ${version} is ${seen}, recorded ${floor}: setting it again`);
      t.setFloor(version, floor);
    }
  }
}

/** The shadow version keeps replicas for its mirrored share until the rollout aborts. */
export function holdMirrorFloor(t: TickContext): void {
  const { spec, s } = t;
  if (!spec.mirror || s.phase === 'aborted') return;
  const need = mirrorReplicas(spec);
  if ((s.floors[spec.mirror.version] ?? 0) < need) t.setFloor(spec.mirror.version, need);
}

/** Raise canaries' floors now for what the schedule needs soon, so GPU cold starts overlap the steps. */
export function prewarm(t: TickContext): void {
  const { spec, s, now } = t;
  const want = desiredFloors(spec, s.stepIndex, Math.max(0, now - s.stepStartedAt) / 1000);
  for (const c of spec.canaries) {
    const need = want[c.version];
    if ((s.floors[c.version] ?? 0) < need) {
      t.reasons.push(`pre-warming ${c.version}: floor ${need} within ${prewarmSeconds(spec)} s`);
      t.setFloor(c.version, need);
    }
  }
}
