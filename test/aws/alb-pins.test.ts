/**
 * Pins on an ALB: listener rules with `http-header` and `query-string` conditions before the weighted rule, at
 * priorities that cannot collide within the app, with the same outcome as the Kubernetes pins.
 *
 * `evaluate` follows the ALB rule evaluation of
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html and
 * rule-condition-types.html: rules in ascending priority, the first whose conditions all match wins; the values of one
 * condition are ORed; host-header, http-header and query-string compare case-insensitively; `*` matches any run of
 * characters and `?` one.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { AlbCanaryRollout, AlbCanaryRolloutProps } from '../../src/aws';
import { Pin } from '../../src/k8s';
import { albRolloutProps } from '../support/alb-fixture';

Testing.setupJest();

interface Request { host: string; path: string; headers?: Record<string, string>; query?: Record<string, string> }

const like = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(value);

function matches(c: any, r: Request): boolean {
  if (c.host_header) return c.host_header.values.some((v: string) => like(v, r.host));
  if (c.path_pattern) return c.path_pattern.values.some((v: string) => new RegExp(`^${v.replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(r.path));
  if (c.http_header) {
    const name = Object.keys(r.headers ?? {}).find((h) => h.toLowerCase() === c.http_header.http_header_name.toLowerCase());
    return name !== undefined && c.http_header.values.some((v: string) => like(v, r.headers![name]));
  }
  if (c.query_string) return c.query_string.some((q: any) => Object.entries(r.query ?? {}).some(([k, v]) => like(q.key, k) && like(q.value, v)));
  throw new Error(`condition not modelled: ${JSON.stringify(c)}`);
}

/** The target group name a request reaches: a pin rule's, or `weighted` for the rollout's weighted rule. */
function evaluate(stack: any, r: Request): string {
  const groups = Object.entries(stack.resource.aws_lb_target_group as Record<string, any>);
  const rules = Object.values(stack.resource.aws_lb_listener_rule as Record<string, any>).sort((a, b) => a.priority - b.priority);
  const rule = rules.find((x) => x.condition.every((c: any) => matches(c, r)));
  if (!rule) return 'default';
  const action = rule.action[0];
  if (action.forward) return 'weighted';
  const [, tg] = groups.find(([key]) => action.target_group_arn.includes(`.${key}.`))!;
  return tg.name;
}

function synth(p: Partial<AlbCanaryRolloutProps>) {
  return JSON.parse(Testing.synthScope((scope) => { new AlbCanaryRollout(scope, 'Rollout', albRolloutProps({ versions: [{ name: 'v1' }, { name: 'v2' }, { name: 'gold' }], ...p })); }));
}

describe('ALB pins', () => {
  test('one rule per pin below the weighted rule: header and query pins reach their version, everything else the split', () => {
    const stack = synth({ pins: [Pin.header('X-Tier', 'gold', 'gold'), Pin.query('version', 'v2', 'v2')] });
    const rules = Object.values(stack.resource.aws_lb_listener_rule as Record<string, any>);
    expect(rules.map((r) => r.priority).sort()).toEqual([100, 98, 99].sort());
    const host = 'llama.example.com';
    expect(evaluate(stack, { host, path: '/v1/chat', headers: { 'x-tier': 'gold' } })).toBe('llama-gold');
    expect(evaluate(stack, { host, path: '/v1/chat', query: { version: 'v2' } })).toBe('llama-v2');
    expect(evaluate(stack, { host, path: '/v1/chat', headers: { 'x-tier': 'silver' } })).toBe('weighted');
    expect(evaluate(stack, { host, path: '/v1/chat' })).toBe('weighted');
    // pins keep the rollout's host condition: another host's pinned request is not the rollout's
    expect(evaluate(stack, { host: 'other.example.com', path: '/', headers: { 'x-tier': 'gold' } })).toBe('default');
    // the pin rules are Terraform's: the controller changes only the weighted rule's action
    expect(rules.filter((r) => r.lifecycle?.ignore_changes).length).toBe(1);
  });

  test('a key split on ALB: a canary at weight 0 with a pin, its target group kept, no un-keyed request on it', () => {
    const stack = synth({ canaries: [{ version: 'gold', weight: 0 }], pins: [Pin.header('x-tier', 'gold', 'gold')] });
    const weighted = Object.values(stack.resource.aws_lb_listener_rule as Record<string, any>).find((r) => r.action[0].forward);
    // the weighted rule lists only the groups with weight (a group at 0 in a rule cannot be deleted); the pin rule
    // forwards to gold's group, which is kept
    expect(weighted.action[0].forward.target_group.map((t: any) => t.weight)).toEqual([100]);
    expect(Object.values(stack.resource.aws_lb_target_group as Record<string, any>).map((t) => t.name)).toContain('llama-gold');
    expect(evaluate(stack, { host: 'llama.example.com', path: '/', headers: { 'x-tier': 'gold' } })).toBe('llama-gold');
  });

  test('priorities cannot collide within the app: a pin rule\'s priority taken by another rollout is refused', () => {
    expect(() => Testing.synthScope((scope) => {
      new AlbCanaryRollout(scope, 'A', albRolloutProps({ name: 'a', priority: 100, pins: [Pin.header('x-v', 'v2', 'v2')] }));
      new AlbCanaryRollout(scope, 'B', albRolloutProps({ name: 'b', priority: 99 }));
    })).toThrow(/\[stack\/B\] priority: stack\/A \(pins\[0\]\) already uses this priority on the same listener/);
    expect(() => Testing.synthScope((scope) => {
      new AlbCanaryRollout(scope, 'B', albRolloutProps({ name: 'b', priority: 99 }));
      new AlbCanaryRollout(scope, 'A', albRolloutProps({ name: 'a', priority: 100, pins: [Pin.header('x-v', 'v2', 'v2')] }));
    })).toThrow(/\[stack\/A\] pins\[0\]: stack\/B already uses this priority/);
  });

  test.each([
    ['a wildcard in a value', { pins: [Pin.header('x-tier', 'gold*', 'v2')] }, /\[stack\/Rollout\] pins\[0\]\.value: an ALB condition treats `\*` and `\?` as wildcards.*\(received "gold\*"\)/],
    ['no room below the priority', { priority: 1, pins: [Pin.header('x-tier', 'gold', 'v2')] }, /\[stack\/Rollout\] priority: the 1 pin rule\(s\) take the priorities just below.*\(received 1\)\. Fix: use a priority of at least 2/],
    ['a pin to an unknown version', { pins: [Pin.header('x-tier', 'gold', 'v9')] }, /\[stack\/Rollout\] pins\[0\]\.version: there is no version "v9"/],
    ['too many conditions', { hostHeaders: ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com', 'e.example.com'], pins: [Pin.header('x-tier', 'gold', 'v2')] },
      /\[stack\/Rollout\] pins: a pin rule repeats the rollout's host and path conditions and adds its own: 6 condition values, over ALB's 5 per rule/],
  ])('refuses %s with the construct path, property, value and fix', (_name, p, message) => {
    expect(() => synth(p as Partial<AlbCanaryRolloutProps>)).toThrow(message);
  });
});
