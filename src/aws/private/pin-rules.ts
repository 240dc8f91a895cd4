/**
 * Pins on an ALB: one listener rule per pin, before the rollout's weighted rule, that forwards requests carrying the
 * pin's header or query value to the pinned version's target group whatever the weights (the same semantics as the
 * Kubernetes pins, `core/routes/gateway-api.ts`). Terraform owns them; the step controller never changes them.
 *
 * ALB rules (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html):
 * - `http-header` conditions match a header name and values; `query-string` conditions match key/value pairs; both
 *   compare case-insensitively (Gateway API's `Exact` is case-sensitive for values) and treat `*` and `?` as
 *   wildcards, so pin values with them are refused;
 * - a rule holds at most 5 condition values in all (host, path and the pin's), and priorities are unique per
 *   listener, lowest first: pin rules take the priorities just below the weighted rule's, each registered with the
 *   app's priority check so no two rules of one app collide.
 */
import { LbListenerRule, LbListenerRuleCondition } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { Construct } from 'constructs';
import { PinSpec } from '../../core/contract/target';
import * as coreErrors from '../../core/errors';
import { validatePins } from '../../k8s/private/pins';
import * as errors from '../errors';

/** Props of `PinRules`. */
export interface PinRulesProps {
  readonly listenerArn: string;
  /** Priority of the weighted rule: pin rules take `priority - 1`, `priority - 2`, ... */
  readonly priority: number;
  readonly hostHeaders?: string[];
  readonly pathPatterns?: string[];
  readonly pins: readonly PinSpec[];
  /** Target group ARN of each pinned version. */
  readonly targetGroupArns: { readonly [version: string]: string };
  /** Reserves a priority on the listener (the app's registry), throwing when it is taken. */
  readonly reserve: (priority: number, property: string) => void;
  readonly lifecycle?: { preventDestroy: boolean };
}

/** ALB's limit of condition values in one rule. */
const ALB_MAX_CONDITION_VALUES = 5;

/** The pins' priorities: just below the weighted rule's, 1 at the lowest. */
export function pinPriorities(path: string, priority: number, count: number): number[] {
  const out = Array.from({ length: count }, (_, i) => priority - 1 - i);
  if (count > 0 && out[count - 1] < 1) throw errors.pinPrioritiesBelowOne(path, 'priority', priority, count);
  return out;
}

/**
 * The values of a cookie pin's `http-header` condition on `Cookie`: the cookie alone, first, last or in the middle of
 * the header (`; ` separates cookies, RFC 6265 section 4.2.1), so `ab=b` never matches `xab=b` or `ab=bc`.
 */
export function cookieConditionValues(name: string, value: string): string[] {
  const c = `${name}=${value}`;
  return [c, `${c};*`, `*; ${c}`, `*; ${c};*`];
}

/** Condition values a pin adds to its rule. */
function pinValues(pin: PinSpec): number {
  return pin.cookie ? cookieConditionValues(pin.cookie.name, pin.cookie.value).length : 1;
}

/** Check pins for ALB: no regular expressions or wildcard characters, room for the pin's condition beside host and path. */
export function validateAlbPins(path: string, pins: readonly PinSpec[], hostHeaders: readonly string[], pathPatterns: readonly string[]): void {
  pins.forEach((pin, i) => {
    if ((pin.header ?? pin.query)?.regex) throw errors.pinRegexOnAlb(path, `pins[${i}]`, (pin.header ?? pin.query)!.value);
    const m = pin.cookie ?? pin.header ?? pin.query!;
    for (const [prop, value] of [['name', m.name], ['value', m.value]] as const) {
      if (/[*?]/.test(value)) throw errors.pinWildcard(path, `pins[${i}].${prop}`, value);
    }
  });
  const used = hostHeaders.length + (pathPatterns.length || (hostHeaders.length ? 0 : 1));
  const most = Math.max(0, ...pins.map(pinValues));
  if (pins.length > 0 && used + most > ALB_MAX_CONDITION_VALUES) throw errors.pinConditionsOverLimit(path, 'pins', used + most, ALB_MAX_CONDITION_VALUES);
}

export class PinRules extends Construct {
  /** The rules, in pin order. */
  public readonly rules: LbListenerRule[] = [];

  constructor(scope: Construct, id: string, props: PinRulesProps) {
    super(scope, id);
    const priorities = pinPriorities(scope.node.path, props.priority, props.pins.length);
    props.pins.forEach((pin, i) => {
      props.reserve(priorities[i], `pins[${i}]`);
      const conditions: LbListenerRuleCondition[] = [];
      if (props.hostHeaders?.length) conditions.push({ hostHeader: { values: props.hostHeaders } });
      if (props.pathPatterns?.length || !props.hostHeaders?.length) conditions.push({ pathPattern: { values: props.pathPatterns ?? ['/*'] } });
      if (pin.cookie) conditions.push({ httpHeader: { httpHeaderName: 'Cookie', values: cookieConditionValues(pin.cookie.name, pin.cookie.value) } });
      if (pin.header) conditions.push({ httpHeader: { httpHeaderName: pin.header.name, values: [pin.header.value] } });
      if (pin.query) conditions.push({ queryString: [{ key: pin.query.name, value: pin.query.value }] });
      this.rules.push(new LbListenerRule(this, `Pin${i}`, {
        listenerArn: props.listenerArn,
        priority: priorities[i],
        condition: conditions,
        action: [{ type: 'forward', targetGroupArn: props.targetGroupArns[pin.version] }],
        lifecycle: props.lifecycle,
      }));
    });
  }
}

/** The pins' data, checked as on Kubernetes (one version per value, known versions) and for ALB. */
export function resolveAlbPins(path: string, pins: readonly PinSpec[], known: readonly string[],
  hostHeaders: readonly string[], pathPatterns: readonly string[]): PinSpec[] {
  validatePins(path, pins);
  pins.forEach((pin, i) => {
    if (!known.includes(pin.version)) throw coreErrors.unknownVersion(path, `pins[${i}].version`, pin.version, known);
  });
  validateAlbPins(path, pins, hostHeaders, pathPatterns);
  return [...pins];
}
