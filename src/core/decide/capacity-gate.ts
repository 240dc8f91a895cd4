/**
 * The capacity gate: no canary's weight rises before its replicas are ready. Floors rise first, weights move
 * once the ready replicas cover them, and a canary not ready within the progress deadline aborts the rollout.
 */
import { formatWeights, TickContext } from './context';
import { replicasForWeight } from '../capacity';
import { Weights } from '../weights';

/**
 * Bring the router to `desired`: raise floors and wait for ready replicas before any increase, send the
 * weights, then wait for the router to serve them. Returns true once the router serves `desired`.
 */
export function moveTo(t: TickContext, desired: Weights): boolean {
  const { spec, s, obs, now } = t;
  const same = Object.keys(desired).every((v) => (s.weights[v] ?? 0) === desired[v]);
  if (same) {
    if (t.routerServes(desired)) return true;
    if (t.tickSince(s.weightsSetAt)) {
      t.reasons.push('router does not serve the recorded weights yet: sending them again');
      t.sendWeights(desired);
    }
    return false;
  }
  const rising = spec.canaries.filter((c) => desired[c.version] > (s.weights[c.version] ?? 0));
  const need = (version: string) => replicasForWeight(desired[version], spec.stableReplicas);
  const ready = (version: string) => obs.readyReplicas[version] ?? 0;
  let waiting = false;
  for (const c of rising) {
    if ((s.floors[c.version] ?? 0) < need(c.version)) {
      t.setFloor(c.version, need(c.version));
      waiting = true;
    } else if (ready(c.version) < need(c.version)) {
      waiting = true;
    }
  }
  if (waiting) {
    s.capacityWaitSince = s.capacityWaitSince ?? now;
    if (now - s.capacityWaitSince > spec.progressDeadlineSeconds * 1000) {
      const late = rising.map((c) => `${c.version} ${ready(c.version)}/${need(c.version)} ready`).join(', ');
      t.abort(`canary not ready within the progress deadline of ${spec.progressDeadlineSeconds} s (${late})`);
    } else {
      t.reasons.push(`waiting for capacity before raising weights (${rising.map((c) => `${c.version} ${ready(c.version)}/${s.floors[c.version]} ready`).join(', ')})`);
    }
    return false;
  }
  s.capacityWaitSince = undefined;
  t.reasons.push(`weights ${formatWeights(s.weights)} -> ${formatWeights(desired)}`);
  t.sendWeights(desired);
  return false;
}
