/**
 * A finished rollout that has nothing left to do costs nothing: the engine records it (`state.settled`) only once it
 * verified it at a tick (no pending command, no pending scale-down, route and floors observed as recorded), and a
 * tick that finds such a state with the same spec and no new command needs no observation and no decision
 * (`needsTick`). Repairs after an abort (a lost scale-down, a route not yet back) keep the rollout unsettled, so
 * they still happen at every tick; so does a route a re-apply of the manifests may move (`reapplyMayMoveRoute`).
 */
import { pendingCommands } from './commands';
import { TickContext } from './context';
import { specHash } from '../plan/plan';
import { RolloutSpec } from '../spec';
import { Command, ControllerState } from '../state';
import { abortWeights } from '../weights';

const FINISHED = new Set(['aborted', 'completed', 'promoted']);

/** Record whether the decided state is settled (the last part of `decide`). */
export function settle(t: TickContext): void {
  const { s } = t;
  const settled = FINISHED.has(s.phase)
    && t.actions.length === 0
    && pendingCommands(t).length === 0
    && t.routerServes(s.weights)
    && !reapplyMayMoveRoute(t)
    && Object.keys(s.lowering ?? {}).length === 0
    && floorsAsRecorded(t);
  t.s.settled = settled ? true : undefined;
}

/**
 * Whether re-applying the target's manifests may change the route away from what the state records: on
 * Kubernetes the manifests' route rules are the abort weights until the code moves on (README "Who owns what"), so
 * after a promotion or a held split a re-apply (kubectl, Argo CD, the bridge) sends traffic back and only a full
 * tick repairs it. A target whose route a deploy leaves alone (an ALB rule ignores changes to its action:
 * `keepPreviousUntilSpecChanges: false`) and an aborted rollout (the manifests' weights are its own) may settle.
 */
function reapplyMayMoveRoute(t: TickContext): boolean {
  if (t.spec.keepPreviousUntilSpecChanges === false) return false;
  const back = abortWeights(t.spec);
  return Object.keys({ ...back, ...t.s.weights }).some((v) => (back[v] ?? 0) !== (t.s.weights[v] ?? 0));
}

/**
 * Every floor the adapter can observe is as recorded: at least the recorded floor, and a version recorded as
 * scaled down holds no more than its lowest floor (`lowestFloors`, else 1: an HPA's `minReplicas` cannot go below
 * 1). Floors that cannot be read now verify nothing.
 */
function floorsAsRecorded(t: TickContext): boolean {
  const { s, obs } = t;
  if (!obs.floors) return false;
  return Object.entries(s.floors).every(([v, floor]) => {
    const seen = obs.floors![v];
    if (seen === undefined) return true;
    return floor > 0 ? seen >= floor : seen <= (obs.lowestFloors?.[v] ?? 1);
  });
}

/**
 * Whether a tick must observe and decide: always, unless the stored state is settled, belongs to this spec and no
 * command came in since. Pure: the controller calls it right after reading the spec, state and commands.
 */
export function needsTick(
  spec: RolloutSpec, state: ControllerState | undefined, commands: { readonly command?: Command; readonly commands?: readonly Command[] },
): boolean {
  if (!state?.settled || state.specHash !== specHash(spec)) return true;
  const queued = (commands.commands ?? []).some((c) => (c.seq !== undefined ? c.seq > (state.commandSeq ?? 0) : c.id !== state.lastCommandId));
  const legacy = commands.command !== undefined && commands.command.id !== state.lastCommandId;
  return queued || legacy;
}
