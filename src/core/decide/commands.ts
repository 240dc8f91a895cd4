/**
 * Commands from a person (`model-rollout pause|resume|promote|cancel`): a queue the CLI appends to under
 * optimistic concurrency. Every command not handled yet is handled, in order, once: by `seq` (queue), or by id
 * (a legacy single command). A command recorded before the first tick or together with a spec change is
 * handled like any other (the handled position survives a spec change). Cancel wins: it aborts in every phase
 * where traffic can still go back to the stable version, and nothing after it resumes or promotes.
 */
import { TickContext } from './context';
import { Command } from '../state';

export function applyCommands(t: TickContext): void {
  for (const command of pendingCommands(t)) {
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
    else if (s.phase === 'promoted') t.reasons.push(`cancel ignored: the rollout is promoted and ${s.servingVersion ?? 'the canary'} serves; deploy the previous version as stable to go back`);
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
    s.stepIndex = spec.steps.length;
    s.stepStartedAt = now;
    s.gate = undefined;
    t.unpause();
  } else {
    t.reasons.push(`command ${command.kind} ignored in phase ${s.phase}`);
  }
}
