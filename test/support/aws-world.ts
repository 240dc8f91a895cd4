/**
 * The AWS services around the step controller, in memory, for the race tests:
 * - ELBv2: `DescribeRules` returns the rule's forward action; `ModifyRule` replaces the rule's actions outright
 *   (no condition, no version: last writer wins)
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html);
 *   `DescribeTargetHealth` lists the targets and their state
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html).
 * - CloudWatch: `DescribeAlarms` returns the named alarms with their `StateValue`
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 * - Lambda asynchronous invocation (how EventBridge Scheduler invokes the controller): the event goes to a queue
 *   and "Lambda occasionally sends the same event to your function more than once" — delivery is at least once,
 *   and a duplicate may run at the same time as the first unless the function's concurrency keeps it waiting
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html; with reserved concurrency 1 a second
 *   delivery is throttled and returned to the queue until the first finishes,
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 * Every write is reported to a monitor that checks the race invariants at the moment the services see it.
 *
 * Why a world of its own: the AWS adapters talk to ELBv2, CloudWatch and Lambda's at-least-once delivery, which
 * neither the kube twin's World (the Kubernetes API) nor the in-memory ports of rollout-world.ts (below every
 * adapter) have.
 */
import { AwsTarget } from '../../src/core/contract/target';
import { RolloutSpec } from '../../src/core/spec';

/** A minimal ELBv2 with one listener rule and its target groups. */
export class FakeElb {
  public forward: Array<{ TargetGroupArn: string; Weight: number }>;
  /** Called after each ModifyRule with the weights by target group ARN. */
  public onModify?: (forward: ReadonlyArray<{ TargetGroupArn: string; Weight: number }>) => void;

  constructor(private readonly target: AwsTarget, public healthy: Record<string, number>, weights: Record<string, number>) {
    this.forward = Object.entries(target.targetGroups).map(([v, arn]) => ({ TargetGroupArn: arn, Weight: weights[v] ?? 0 }));
  }

  public async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    if (op === 'DescribeRules') {
      if (!input.RuleArns?.includes(this.target.listenerRuleArn)) throw Object.assign(new Error('One or more rules not found'), { name: 'RuleNotFoundException' });
      return { Rules: [{ RuleArn: this.target.listenerRuleArn, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: this.forward.map((t) => ({ ...t })) } }] }] };
    }
    if (op === 'ModifyRule') {
      if (input.RuleArn !== this.target.listenerRuleArn) throw Object.assign(new Error('One or more rules not found'), { name: 'RuleNotFoundException' });
      this.forward = input.Actions[0].ForwardConfig.TargetGroups.map((t: any) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight }));
      this.onModify?.(this.forward);
      return { Rules: [] };
    }
    if (op === 'DescribeTargetHealth') {
      const v = Object.entries(this.target.targetGroups).find(([, arn]) => arn === input.TargetGroupArn)?.[0];
      if (!v) throw Object.assign(new Error('One or more target groups not found'), { name: 'TargetGroupNotFoundException' });
      return { TargetHealthDescriptions: Array.from({ length: this.healthy[v] ?? 0 }, (_, i) => ({ Target: { Id: `10.0.0.${i}`, Port: 8080 }, TargetHealth: { State: 'healthy' } })) };
    }
    throw new Error(`FakeElb: ${op} is not modelled`);
  }

  /** The weight of a version now. */
  public weightOf(arn: string): number {
    return this.forward.find((t) => t.TargetGroupArn === arn)?.Weight ?? 0;
  }
}

/** A minimal CloudWatch with alarms by name. */
export class FakeCloudWatch {
  constructor(public readonly alarms: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>) {}

  public async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, '');
    if (op !== 'DescribeAlarms') throw new Error(`FakeCloudWatch: ${op} is not modelled`);
    const names: string[] = command.input.AlarmNames ?? Object.keys(this.alarms);
    return { MetricAlarms: names.filter((n) => n in this.alarms).map((n) => ({ AlarmName: n, StateValue: this.alarms[n] })) };
  }
}

/**
 * How one scheduled event reaches the function: once, or twice (at least once). With reserved concurrency 1 the
 * second delivery waits for the first (throttled, back to the queue); without it, both may run at once.
 * Returns the actors to run: one per concurrent execution, each running its deliveries in order.
 */
export function asyncDeliveries(
  invoke: () => Promise<unknown>,
  options: { readonly copies: 1 | 2; readonly reservedConcurrency?: number },
): Array<() => Promise<unknown>> {
  if (options.copies === 1) return [invoke];
  if (options.reservedConcurrency === 1) return [async () => { await invoke(); return invoke(); }];
  return [invoke, invoke];
}

/** Canary weight of the spec's canaries on the rule now. */
export function canaryWeight(elb: FakeElb, spec: RolloutSpec, target: AwsTarget): number {
  return spec.canaries.reduce((sum, c) => sum + elb.weightOf(target.targetGroups[c.version]), 0);
}
