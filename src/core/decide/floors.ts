/**
 * Replica floors outside the capacity gate, in every phase: repairing floors found different from the state
 * (up, and down for versions the controller scaled down: a failed scale-down costs GPUs until repaired), the
 * mirror's floor, the look-ahead that raises canaries' floors before the schedule needs them (see
 * `desiredFloors()`), and the delayed scale-downs (`state.lowering`).
 */
import { TickContext } from './context';
import { desiredFloors, mirrorReplicas, prewarmSeconds } from '../capacity';

/**
 * Floors found below the recorded ones (a crash, a failed action, an operator between ticks) are set again,
 * once per tick, in every phase. Runs first: capacity before traffic.
 */
export function repairFloors(t: TickContext): void {
  const { s, obs } = t;
  if (!obs.floors || !t.tickSince(s.floorsSetAt)) return;
  for (const [version, floor] of Object.entries(s.floors)) {
    const seen = obs.floors[version];
    if (seen !== undefined && floor > 0 && seen < floor) {
      t.reasons.push(`floor of ${version} is ${seen}, recorded ${floor}: setting it again`);
      t.setFloor(version, floor);
    }
  }
}

/**
 * A version recorded at 0 (scaled down) found above 1 (a failed scale-down; an HPA's minReplicas cannot go below
 * 1) is scaled down again, once per tick, when it may go down now (see `mayScaleDown`). Runs last: after the
 * phase decided whether this tick changes the route.
 */
function repairScaleDowns(t: TickContext): void {
  const { s, obs } = t;
  if (!obs.floors || !t.tickSince(s.floorsSetAt)) return;
  for (const [version, floor] of Object.entries(s.floors)) {
    const seen = obs.floors[version];
    if (seen !== undefined && floor === 0 && seen > 1 && !(version in (s.lowering ?? {})) && mayScaleDown(t, version)) {
      t.reasons.push(`floor of ${version} is ${seen}, recorded 0 (scaled down): scaling it down again`);
      if (version === s.previousVersion) {
        t.actions.push({ kind: 'scaleDown', version });
        s.floorsSetAt = t.now;
      } else {
        t.setFloor(version, 0);
      }
    }
  }
}

/** The shadow version keeps replicas for its mirrored share until the rollout aborts. */
export function holdMirrorFloor(t: TickContext): void {
  const { spec, s } = t;
  if (!spec.mirror || s.phase === 'aborted') return;
  t.ensureFloor(spec.mirror.version, mirrorReplicas(spec));
}

/** Raise canaries' floors now for what the schedule needs soon, so GPU cold starts overlap the steps. */
export function prewarm(t: TickContext): void {
  const { spec, s, now } = t;
  const want = desiredFloors(spec, s.stepIndex, Math.max(0, now - s.stepStartedAt) / 1000);
  for (const c of spec.canaries) {
    const need = want[c.version];
    if ((s.floors[c.version] ?? 0) < need && t.ensureFloor(c.version, need)) {
      t.reasons.push(`pre-warming ${c.version}: floor ${need} within ${prewarmSeconds(spec)} s`);
    }
  }
}

/**
 * A version may go down only when nothing can still send it traffic: not in a tick that changes the route, the
 * router verified to serve the recorded weights and those give it nothing, the propagation delay after the last
 * route change passed, and it is not the version serving the environment.
 */
export function mayScaleDown(t: TickContext, version: string): boolean {
  const { s, spec } = t;
  if (t.routeChanging() || !t.routerServes(s.weights) || (s.weights[version] ?? 0) > 0) return false;
  if (version === (s.phase === 'promoted' ? s.servingVersion : spec.stable)) return false;
  // After a promotion the manifests still route everything to the spec's stable version (their rules are the abort
  // weights) until the code names the new version: any re-apply (kubectl, Argo CD, Terraform) can send it all the
  // traffic at once, so it keeps its replicas until the spec moves on (the ownership model, README "Who owns what").
  if (s.phase === 'promoted' && version === spec.stable && spec.keepPreviousUntilSpecChanges !== false) return false;
  if (spec.mirror?.version === version && s.phase !== 'aborted') return false;
  const settled = Math.max(s.routeChangedAt ?? -Infinity, s.weightsSetAt ?? -Infinity) + t.scaleDownDelayMs();
  if (t.now < settled) {
    t.wakeAt = Math.min(t.wakeAt, settled);
    return false;
  }
  return true;
}

/** The scale-downs that are due and safe now (the others wait, and say when), then the failed ones again. */
export function lowerFloors(t: TickContext): void {
  const { s, now } = t;
  repairScaleDowns(t);
  for (const [version, after] of Object.entries(s.lowering ?? {})) {
    if (now < after) {
      if (s.phase === 'promoted' || s.phase === 'completed') t.wakeAt = after;
      continue;
    }
    if (!mayScaleDown(t, version)) continue;
    const lowering = { ...s.lowering };
    delete lowering[version];
    s.lowering = lowering;
    if (version === s.previousVersion) {
      t.actions.push({ kind: 'scaleDown', version });
      s.floors[version] = 0;
      s.floorsSetAt = now;
      s.previousScaledDown = true;
      t.reasons.push(`keep-warm window over: scaling ${version} down`);
    } else {
      t.reasons.push(`${version} serves no traffic: scaling it down`);
      t.setFloor(version, 0);
    }
  }
}
