/** Commands from a person (`model-rollout pause|resume|promote|cancel`): each handled once, by id. */
import { TickContext } from './context';
import { Command } from '../state';

export function applyCommand(t: TickContext): void {
  const { s, spec, now } = t;
  const command = newCommand(t.obs.command, s.lastCommandId);
  if (!command) return;
  s.lastCommandId = command.id;
  t.reasons.push(`command ${command.kind}`);
  const active = s.phase === 'progressing' || s.phase === 'paused';
  if (command.kind === 'cancel' && active) {
    t.abort('cancelled by command');
  } else if (command.kind === 'pause' && s.phase === 'progressing') {
    t.pause('command', 'paused by command');
  } else if (command.kind === 'resume' && s.phase === 'paused') {
    if (s.pauseReason === 'manualStep') t.advance(now);
    if (s.pauseReason === 'inconclusive') s.gate = undefined;
    s.phase = 'progressing';
    s.pauseReason = undefined;
    s.reason = undefined;
  } else if (command.kind === 'promote' && active) {
    s.stepIndex = spec.steps.length;
    s.stepStartedAt = now;
    s.gate = undefined;
    s.phase = 'progressing';
    s.pauseReason = undefined;
    s.reason = undefined;
  } else {
    t.reasons.push(`command ${command.kind} ignored in phase ${s.phase}`);
  }
}

function newCommand(command: Command | undefined, lastId: string | undefined): Command | undefined {
  return command && command.id !== lastId ? command : undefined;
}
