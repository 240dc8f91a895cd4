/**
 * Listener rule priorities: 1..50000 and unique per listener (checked within one app), for the rules of rollouts and
 * routes alike.
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html
 */
import { Construct, IConstruct } from 'constructs';
import * as errors from '../errors';

const PRIORITIES = new WeakMap<IConstruct, Map<string, string>>();

/** Refuse a priority out of range, or one another rule of the app took on the same listener. */
export function reservePriority(scope: Construct, listenerArn: string, priority: number, property = 'priority'): void {
  const p = scope.node.path;
  if (!Number.isInteger(priority) || priority < 1 || priority > 50000) throw errors.priorityOutOfRange(p, property, priority);
  const root = scope.node.root;
  const used = PRIORITIES.get(root) ?? new Map<string, string>();
  PRIORITIES.set(root, used);
  const key = `${listenerArn}#${priority}`;
  const other = used.get(key);
  if (other) throw errors.priorityTaken(p, property, priority, other);
  used.set(key, property === 'priority' ? p : `${p} (${property})`);
}
