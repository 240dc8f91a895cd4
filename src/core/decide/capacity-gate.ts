/**
 * The capacity gate: no version's share rises before its replicas are ready. Every weight send passes it, a
 * first send or a resend, in every phase: what rises is measured against what the router serves now (not what
 * the state recorded, which a lost write or a node loss makes wrong), so the stable version taking traffic back
 * after a spec change is gated like a canary. Floors rise first, weights move once the ready replicas cover
 * them, and a version not ready within the progress deadline aborts the rollout (while progressing only).
 */
import { formatWeights, TickContext } from './context';
import { replicasForWeight } from '../capacity';
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
  const same = sameWeights(desired, s.weights);
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
  const need = (version: string) => replicasForWeight(desired[version], spec.stableReplicas);
  let waiting = false;
  for (const v of gaining) {
    // the floor first (its action runs before the weights'); the share rises only on replicas already ready
    t.ensureFloor(v, need(v));
    if (t.ready(v) < need(v)) waiting = true;
  }
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

/** Same weights, versions absent counting as 0 (a version outside `desired` with a share is a difference). */
export function sameWeights(a: Weights, b: Weights): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((v) => (a[v] ?? 0) === (b[v] ?? 0));
}
