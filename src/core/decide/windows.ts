/**
 * Release windows in the engine: a step that raises the canaries' share (and the promotion at the end) waits while
 * `now` is outside every window, and the controller wakes at the next window's start. Nothing else waits: pauses and
 * analysis steps run their clocks, checks keep judging, and cancel and abort act at once (`commands.ts`).
 */
import { TickContext } from './context';
import { describeWindow, insideWindows, nextWindowStart } from '../windows';

/** Whether the release windows hold the step that would raise the share now; records why and when it may go on. */
export function windowHolds(t: TickContext, what: string): boolean {
  const windows = t.spec.allowedWindows;
  if (!windows || windows.length === 0 || insideWindows(windows, t.now)) return false;
  const next = nextWindowStart(windows, t.now);
  if (next !== undefined) t.wakeAt = Math.min(t.wakeAt, next);
  const when = next !== undefined ? `; the next opens at ${new Date(next).toISOString()}` : '';
  t.reasons.push(`outside the release windows (${windows.map(describeWindow).join(', ')}): ${what} waits${when}`);
  return true;
}
