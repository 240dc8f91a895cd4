/**
 * The capacity gate: no version's share rises before its replicas are ready. Every weight send passes it, a
 * first send or a resend, in every phase: what rises is measured against what the router serves now (not what
 * the state recorded, which a lost write or a node loss makes wrong), so the stable version taking traffic back
 * after a spec change is gated like a canary. Floors rise first, weights move once the ready replicas cover
 * them, and a version not ready within the progress deadline aborts the rollout (while progressing only).
 *
 * Replicas are counted against the live load (`t.base`), not the synth-time baseline. In surge mode a canary's
 * floor rises only within the GPU budget; while it lacks the replicas the step needs (the budget, or pods Pending
 * for GPUs), the single canary's share rises as far as its ready replicas carry, the stable version's floor
 * follows it down (`shrinkStable`), its autoscaler frees the GPUs, and the canary grows again: the step completes
 * in several moves, and the progress deadline counts only while none is possible.
 */
import { formatWeights, TickContext } from './context';
import { canaryFits } from './floors';
import { isSurge } from '../capacity';
import { Weights } from '../weights';

export interface MoveOptions {
  /** Count the wait toward the progress deadline (progressing only: paused time never counts). */
  readonly deadline?: boolean;
  /** A continuous check fails at this tick: no canary's share rises (a repair included). */
  readonly holdCanaries?: boolean;
}

/**
 * Bring the router to `desired`: raise floors and wait for ready replicas before any share rises, send the
 * weights (again, at most once per tick, while the router does not serve them), then wait for the router to
 * serve them. Returns true once the router serves `desired`.
 */
export function moveTo(t: TickContext, desired: Weights, options: MoveOptions = { deadline: true }): boolean {
  const { spec, s, now } = t;
  const same = sameWeights(desired, s.weights) && t.sameShadowSent();
  if (t.routerServes(desired)) {
    // already served (a write the state thought lost, a restart): record it, nothing to send; deciding the same
    // tick again then gives the same answer (a send here would stop this tick short of what a retry does)
    if (!same) {
      s.weights = { ...desired };
      s.weightsSetAt = now;
    }
    s.capacityWaitSince = undefined;
    return true;
  }
  // sent within this tick: give the router until the next one
  if (same && !t.tickSince(s.weightsSetAt)) return false;
  const gaining = Object.keys(desired).filter((v) => desired[v] > t.served(v));
  if (options.holdCanaries && gaining.some((v) => spec.canaries.some((c) => c.version === v))) {
    t.reasons.push('a continuous check fails: no canary share rises, not even to repair the route');
    return false;
  }
  const need = (version: string) => t.need(desired[version], version);
  const surge = isSurge(spec);
  let waiting = false;
  for (const v of gaining) {
    // the floor first (its action runs before the weights'); the share rises only on replicas already ready
    t.ensureFloor(v, Math.min(need(v), canaryFits(t, v)));
    if (t.ready(v) < need(v)) waiting = true;
  }
  if (waiting && surge && partialMove(t, desired, gaining)) return false;
  if (waiting) {
    const late = gaining.map((v) => `${v} ${t.ready(v)}/${need(v)} ready`).join(', ');
    if (options.deadline) {
      s.capacityWaitSince = s.capacityWaitSince ?? now;
      if (now - s.capacityWaitSince > spec.progressDeadlineSeconds * 1000) {
        t.abort(`not ready within the progress deadline of ${spec.progressDeadlineSeconds} s (${late})`);
        return false;
      }
    }
    t.reasons.push(`waiting for capacity before ${same ? 'sending the weights again' : 'moving weights'} (${late})`);
    return false;
  }
  s.capacityWaitSince = undefined;
  t.reasons.push(same
    ? `router does not serve the recorded weights ${formatWeights(desired)}: sending them again`
    : `weights ${formatWeights(s.weights)} -> ${formatWeights(desired)}`);
  t.sendWeights(desired);
  return false;
}

/**
 * Surge mode, the single canary short of the step's replicas: move its share as far as its ready replicas carry
 * (never above `desired`, never below what it serves). Returns whether weights were sent.
 */
function partialMove(t: TickContext, desired: Record<string, number>, gaining: readonly string[]): boolean {
  const { spec } = t;
  if (spec.canaries.length !== 1 || gaining.length !== 1 || gaining[0] !== spec.canaries[0].version) return false;
  const c = gaining[0];
  const carried = Math.min(desired[c], Math.floor((t.ready(c) * 100) / t.base));
  // the route must be readable (what it serves is what the move starts from), but need not serve the recorded
  // weights: after a lost write of the full move the state records weights the router never served, and waiting
  // for them to be served would wait for the very move that waits on the budget (a promote whose write was lost
  // would wait out the progress deadline with the canary short of replicas, its floor capped by the budget the
  // stable version's share holds)
  if (carried <= t.served(c) || !t.tickSince(t.s.weightsSetAt) || !t.obs.routerWeights) return false;
  // only between the stable version and the canary, the stable version's share only falling (a route still sending
  // to a version outside the spec waits for the full move)
  if (t.served(spec.stable) + t.served(c) !== 100 || 100 - carried > t.served(spec.stable)) return false;
  const partial = { ...desired, [c]: carried, [spec.stable]: 100 - carried };
  t.s.capacityWaitSince = undefined;
  t.reasons.push(`surge: ${c} has ${t.ready(c)} ready replicas (the GPU budget, or pods waiting for GPUs): weights `
    + `${formatWeights(t.s.weights)} -> ${formatWeights(partial)} on the way to ${formatWeights(desired)}`);
  t.sendWeights(partial);
  return true;
}

/** Same weights, versions absent counting as 0 (a version outside `desired` with a share is a difference). */
export function sameWeights(a: Weights, b: Weights): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((v) => (a[v] ?? 0) === (b[v] ?? 0));
}
