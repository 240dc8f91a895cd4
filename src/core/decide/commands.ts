/**
 * Commands from a person (`model-rollout pause|resume|promote|cancel`): a queue the CLI appends to under
 * optimistic concurrency. Every command not handled yet is handled, in order, once: by `seq` (queue), or by id
 * (a legacy single command). A command recorded before the first tick or together with a spec change is
 * handled like any other (the handled position survives a spec change). Cancel wins: it aborts in every phase
 * where traffic can still go back to the stable version (after promotion, within the rollback window: while the
 * previous version is warm), and nothing after it resumes or promotes, except a
 * `retry`, which restarts an aborted rollout from its first step (as `kubectl argo rollouts retry rollout`:
 * https://argo-rollouts.readthedocs.io/en/stable/generated/kubectl-argo-rollouts/kubectl-argo-rollouts_retry/).
 */
import { TickContext } from './context';
import { Command } from '../state';

export function applyCommands(t: TickContext): void {
  for (const command of pendingCommands(t)) {
    // a retry right behind the abort it undoes (a cancel in the same batch, or a retried tick of it) waits for the
    // next tick: the abort's route change goes out alone, and the restart starts from what the router then serves
    if (command.kind === 'retry' && t.s.phase === 'aborted' && t.s.finishedAt === t.now) {
      t.reasons.push('retry deferred to the next tick: the rollout aborted at this one');
      break;
    }
    if (command.seq !== undefined) t.s.commandSeq = Math.max(t.s.commandSeq ?? 0, command.seq);
    else t.s.lastCommandId = command.id;
    apply(t, command);
  }
}

/** The commands not handled yet, oldest first. */
export function pendingCommands(t: TickContext): Command[] {
  const { obs, s } = t;
  const all = [...(obs.commands ?? []), ...(obs.command ? [obs.command] : [])];
  const seen = new Set<string>();
  const fresh = all.filter((c) => {
    if (seen.has(c.id)) return false;
    seen.add(c.id);
    return c.seq !== undefined ? c.seq > (s.commandSeq ?? 0) : c.id !== s.lastCommandId;
  });
  return fresh.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
}

function apply(t: TickContext, command: Command): void {
  const { s, spec, now } = t;
  t.reasons.push(`command ${command.kind}`);
  const active = s.phase === 'progressing' || s.phase === 'paused';
  if (command.kind === 'cancel') {
    s.cancelled = true;
    if (active || s.phase === 'completed') t.abort('cancelled by command');
    else if (s.phase === 'promoted') rollBackPromotion(t);
    return;
  }
  if (command.kind === 'retry') {
    retry(t);
    return;
  }
  if (s.cancelled) {
    t.reasons.push(`command ${command.kind} ignored: the rollout was cancelled`);
  } else if (command.kind === 'pause' && s.phase === 'progressing') {
    t.pause('command', 'paused by command');
  } else if (command.kind === 'resume' && s.phase === 'paused') {
    if (s.pauseReason === 'manualStep') t.advance(now);
    // a person looked at the missing data: measure again, but the failures so far still count
    if (s.pauseReason === 'inconclusive' && s.gate) s.gate = { ...s.gate, inconclusive: 0, lastAt: now };
    // the progress deadline restarts: Kubernetes does not estimate a Deployment's progress while it is paused
    // (DeploymentSpec.progressDeadlineSeconds) and a resume often follows a fix (GPU quota) that needs a cold start
    t.unpause();
  } else if (command.kind === 'promote' && active) {
    t.toStep(spec.steps.length, now);
    t.unpause();
  } else {
    t.reasons.push(`command ${command.kind} ignored in phase ${s.phase}`);
  }
}

/**
 * A cancel after promotion is a rollback while the previous version is still warm (the rollback window: its
 * keep-warm window has not ended, or the target keeps it until the spec changes): it becomes the serving version
 * again and takes the traffic back through the abort path, which moves it as fast as its ready replicas carry it.
 * Once it was scaled down, going back means a cold start the route would not wait for: refused, with the way back.
 */
function rollBackPromotion(t: TickContext): void {
  const { s, spec } = t;
  const previous = s.previousVersion;
  if (!previous || s.previousScaledDown || previous !== spec.stable) {
    const why = previous && s.previousScaledDown ? `${previous} was scaled down when its keep-warm window ended` : 'no previous version is kept warm';
    t.reasons.push(`cancel ignored: the rollout is promoted and ${s.servingVersion ?? 'the canary'} serves; ${why}, so the rollback window is over. `
      + `To go back, roll ${previous ?? 'the previous version'} out again as a canary of the environment`);
    return;
  }
  s.servingVersion = spec.stable;
  s.previousVersion = undefined;
  s.previousScaledDown = undefined;
  if (s.lowering && spec.stable in s.lowering) {
    const lowering = { ...s.lowering };
    delete lowering[spec.stable];
    s.lowering = lowering;
  }
  t.abort(`rolled back after promotion: ${spec.stable} takes the traffic back`);
}

/**
 * Restart an aborted rollout from its first step: the failure counts, the gate and the sequential tests start
 * over, the canaries are no longer waiting to be scaled down, and the cancel is lifted. The weights stay those the
 * router serves (the abort weights): the steps raise them to the plan's first step through the capacity gate,
 * after the pre-warm, never more than the plan allows. Ignored (with the reason) in any other phase.
 */
function retry(t: TickContext): void {
  const { s, spec, now } = t;
  if (s.phase !== 'aborted') {
    t.reasons.push(`retry ignored: the rollout is ${s.phase}, not aborted${s.phase === 'paused' ? ' (use resume)' : ''}`);
    return;
  }
  t.reasons.push(`retry: restarting from the first step after the abort (${s.reason ?? 'no reason recorded'})`);
  s.phase = 'progressing';
  t.toStep(0, now);
  s.cancelled = undefined;
  s.reason = undefined;
  s.pauseReason = undefined;
  s.pausedAt = undefined;
  s.checkFailures = 0;
  s.checkFailing = undefined;
  s.checkCountedAt = undefined;
  s.sequential = undefined;
  s.measurementErrorsSince = undefined;
  s.finishedAt = undefined;
  s.dataWatch = undefined;
  if (s.lowering) {
    const lowering = { ...s.lowering };
    for (const c of spec.canaries) delete lowering[c.version];
    s.lowering = lowering;
  }
  // the load was not estimated while aborted: size the restart from the live load, as the next tick would (a
  // retried tick must not act again)
  t.base = t.observeLoad();
}
