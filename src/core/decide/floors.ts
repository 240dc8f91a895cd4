/**
 * Replica floors outside the capacity gate, in every phase: repairing floors found different from the state
 * (up, and down for versions the controller scaled down: a failed scale-down costs GPUs until repaired), the
 * mirror's floor, the look-ahead that raises canaries' floors before the schedule needs them (see
 * `desiredFloors()`), and the delayed scale-downs (`state.lowering`).
 */
import { TickContext } from './context';
import { gpusOf, isSurge, lookAheadWeights, mirrorReplicas, prewarmSeconds, replicasOf, stableSurgeFloor, surgeRoom } from '../capacity';
import { progressAfter } from '../schedule';
import { weightsAt } from '../weights';

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
 * A version recorded at 0 (scaled down) found above the lowest floor its workload can hold (a failed scale-down:
 * a ScaledObject or a Deployment can go to 0, an HPA's minReplicas not below 1; `Observations.lowestFloors`) is
 * scaled down again, once per tick, in any phase, when it may go down now (see `mayScaleDown`). Runs last: after
 * the phase decided whether this tick changes the route.
 */
function repairScaleDowns(t: TickContext): void {
  const { s, obs } = t;
  if (!obs.floors || !t.tickSince(s.floorsSetAt)) return;
  for (const [version, floor] of Object.entries(s.floors)) {
    const seen = obs.floors[version];
    const lowest = obs.lowestFloors?.[version] ?? 1;
    if (seen !== undefined && floor === 0 && seen > lowest && !(version in (s.lowering ?? {})) && mayScaleDown(t, version)) {
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

/**
 * Raise canaries' floors now for what the schedule needs soon, so GPU cold starts overlap the steps; all sized
 * from the live load (`t.base`). The stable version's floor stays where it is: its autoscaler follows its
 * share, and a floor raised to the whole load would hide the load signal the estimate reads (an abort raises it,
 * `abort()`). Surge mode: a canary rises only as far as the GPU budget leaves room beside what the stable version
 * holds now.
 */
export function prewarm(t: TickContext): void {
  const { spec, s, now } = t;
  // the look-ahead itself, capped below by the live GPU room (not the plan's surge timeline, which assumes the
  // stable version already shrank to the step's share: a retried tick after the step advanced would differ)
  const ahead = lookAheadWeights(spec, s.stepIndex, Math.max(0, now - s.stepStartedAt) / 1000);
  const want = Object.fromEntries(spec.canaries.map((c) => [c.version, replicasOf(spec, c.version, ahead[c.version], t.base)]));
  for (const c of spec.canaries) {
    const need = Math.min(want[c.version], canaryFits(t, c.version));
    if ((s.floors[c.version] ?? 0) < need && t.ensureFloor(c.version, need)) {
      t.reasons.push(`pre-warming ${c.version}: floor ${need} within ${prewarmSeconds(spec)} s${need < want[c.version] ? ` (GPU budget: ${want[c.version]} wanted)` : ''}`);
    }
  }
}

/**
 * Replicas of canary `version` the GPU budget lets it have now (surge mode; unlimited otherwise): what the room beside
 * the stable version's current replicas holds, never below what its current share needs. The capacity gate, the
 * pre-warm and the shadow step size a canary's floor within it.
 */
export function canaryFits(t: TickContext, version: string): number {
  const { spec } = t;
  const g = version === spec.stable ? 0 : gpusOf(spec, version);
  if (!isSurge(spec) || g <= 0) return Infinity;
  return Math.max(t.need(t.served(version), version), Math.floor(surgeRoom(spec, t.base, stableHolds(t)) / g));
}

/**
 * Replicas the stable version holds now (surge budget): the most of its floor in place, what its autoscaler wants
 * and what is ready; a scale-down the autoscaler has not carried out yet still holds GPUs.
 */
export function stableHolds(t: TickContext): number {
  const v = t.spec.stable;
  // the floor in place (observed), not the one recorded: a floor lowered at this tick still holds its replicas, and
  // the same tick decided again must find the same room
  return Math.max(t.obs.floors?.[v] ?? t.s.floors[v] ?? 0, t.obs.desiredReplicas?.[v] ?? 0, t.ready(v));
}

/**
 * Surge mode: once the router serves the recorded weights and the propagation delay passed, the stable version's
 * floor comes down to what its share needs plus the reserve (its autoscaler then releases the GPUs after its own
 * scale-down window). Never in a tick that changes the route, never while a canary check fails.
 */
export function shrinkStable(t: TickContext): void {
  const { spec, s } = t;
  if (!isSurge(spec) || !settled(t)) return;
  // everything the canaries do not carry is the stable version's to carry: a version that left the spec (a replaced
  // or promoted-then-dropped canary) or a backend outside the rollout comes back to it, so it does not shrink below
  // that (a paused rollout would lower the stable floor its own repair had just raised, and the same tick decided
  // again would act again)
  const onCanaries = spec.canaries.reduce((n, c) => n + (s.weights[c.version] ?? 0), 0);
  const share = Math.max(100 - onCanaries, weightsAt(spec, progressAfter(spec.steps, s.stepIndex))[spec.stable]);
  const target = stableSurgeFloor(spec, share, t.base);
  const current = s.floors[spec.stable] ?? t.obs.floors?.[spec.stable] ?? spec.stableReplicas;
  if (current > target) {
    t.reasons.push(`surge: ${spec.stable} serves ${share} %, its floor goes ${current} -> ${target} (reserve included) to make room for the canary`);
    t.setFloor(spec.stable, target);
  }
}

/**
 * Aborted: as traffic goes back to the stable version in parts, each canary's floor comes down to what its
 * remaining share needs, so its GPUs go to the stable version's returning replicas (0 is left to `lowerFloors`).
 */
export function releaseAbortedCanaries(t: TickContext): void {
  const { spec, s } = t;
  if (s.phase !== 'aborted' || !settled(t)) return;
  for (const c of spec.canaries) {
    const target = replicasOf(spec, c.version, s.weights[c.version] ?? 0, t.base);
    if (target > 0 && (s.floors[c.version] ?? 0) > target) {
      t.reasons.push(`${c.version} serves ${s.weights[c.version]} % after the abort: floor ${s.floors[c.version]} -> ${target}`);
      t.setFloor(c.version, target);
    }
  }
}

/**
 * Promoted: the new stable version's floor was raised to the live load before it took all the traffic; once the
 * router serves 100 % to it and the propagation delay passed, the floor goes back to the plan's `stableReplicas`
 * and its autoscaler holds what the load needs (it scales down only after its own stabilization window).
 */
export function releasePromotedFloor(t: TickContext): void {
  const { spec, s } = t;
  const v = s.servingVersion;
  // only a floor the live load raised (a floor the plan set stays, as before live sizing)
  if (s.phase !== 'promoted' || !v || v === spec.stable || !(s.liveReplicas && s.liveReplicas > spec.stableReplicas) || !settled(t)) return;
  const plan = spec.stableReplicas;
  if ((s.floors[v] ?? 0) > plan) {
    t.reasons.push(`promoted: ${v}'s floor ${s.floors[v]} -> ${plan}, its autoscaler follows the load from here`);
    t.setFloor(v, plan);
  }
}

/** The router serves the recorded weights, no route change this tick, and the propagation delay after the last one passed. */
function settled(t: TickContext): boolean {
  const { s } = t;
  if (t.routeChanging() || !t.routerServes(s.weights)) return false;
  const at = Math.max(s.routeChangedAt ?? -Infinity, s.weightsSetAt ?? -Infinity) + t.scaleDownDelayMs();
  if (t.now < at) {
    t.wakeAt = Math.min(t.wakeAt, at);
    return false;
  }
  return true;
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
  // weights) until the code names the new version. Where a re-apply resets the route (kubectl: the Kubernetes
  // target leaves `keepPreviousUntilSpecChanges` set unless the environment's `appliedBy` leaves the controller's
  // fields alone) it would send that version all the traffic at once, so it keeps its replicas until the spec moves
  // on (README "Who owns what").
  if (s.phase === 'promoted' && version === spec.stable && spec.keepPreviousUntilSpecChanges !== false) return false;
  if (spec.mirror?.version === version && s.phase !== 'aborted') return false;
  // pin rules route to it in every phase (decide/pins.ts)
  if (spec.pinned?.includes(version)) return false;
  const delayed = Math.max(s.routeChangedAt ?? -Infinity, s.weightsSetAt ?? -Infinity) + t.scaleDownDelayMs();
  if (t.now < delayed) {
    t.wakeAt = Math.min(t.wakeAt, delayed);
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
