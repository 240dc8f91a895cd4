/**
 * The ALB side of a rollout: one target group per version and a listener rule whose forward action splits
 * requests between them by weight. The step controller owns the weights: Terraform ignores changes to the action.
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-action-types
 */
import { LbListenerRule, LbListenerRuleCondition } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Construct } from 'constructs';
import { pascalCase } from '../../core/names';
import { renderAlbForward } from '../../core/routes/alb';
import { RolloutSpec } from '../../core/spec';
import { abortWeights } from '../../core/weights';
import * as errors from '../errors';

/** A version behind the rule. */
export interface WeightedVersion {
  readonly name: string;
  readonly port: number;
  readonly healthPath: string;
}

/** Props of a `WeightedRule`. */
export interface WeightedRuleProps {
  /** Prefix of the target group names (`<prefix>-<version>`, 32 characters at most). */
  readonly namePrefix: string;
  readonly listenerArn: string;
  readonly vpcId: string;
  readonly priority: number;
  readonly hostHeaders?: string[];
  readonly pathPatterns?: string[];
  readonly stickinessSeconds?: number;
  readonly deregistrationDelaySeconds: number;
  /** The versions the rule splits between (stable first). */
  readonly versions: WeightedVersion[];
  /** The rollout's spec: the rule starts at its abort weights (everything on stable). */
  readonly spec: RolloutSpec;
  readonly lifecycle?: { preventDestroy: boolean };
}

export class WeightedRule extends Construct {
  /** Target groups by version. */
  public readonly targetGroups: { [version: string]: LbTargetGroup } = {};
  /** Target group ARNs by version (each token read once: cdktf captures a stack trace per token). */
  public readonly targetGroupArns: { [version: string]: string } = {};
  public readonly rule: LbListenerRule;
  public readonly ruleArn: string;

  constructor(scope: Construct, id: string, props: WeightedRuleProps) {
    super(scope, id);
    const groups = new Construct(this, 'TargetGroups');
    for (const v of props.versions) {
      const tg = versionTargetGroup(groups, v, {
        namePrefix: props.namePrefix, vpcId: props.vpcId, deregistrationDelaySeconds: props.deregistrationDelaySeconds, lifecycle: props.lifecycle,
      });
      this.targetGroups[v.name] = tg;
      this.targetGroupArns[v.name] = tg.arn;
    }
    const conditions = ruleConditions(props.hostHeaders, props.pathPatterns);
    const initial = renderAlbForward(props.spec, {
      kind: 'aws', listenerRuleArn: '', alarmNames: [], stickinessSeconds: props.stickinessSeconds, targetGroups: this.targetGroupArns,
    }, abortWeights(props.spec));
    this.rule = new LbListenerRule(this, 'Resource', {
      listenerArn: props.listenerArn,
      priority: props.priority,
      condition: conditions,
      action: [{
        type: 'forward',
        forward: {
          targetGroup: initial.TargetGroups.map((t) => ({ arn: t.TargetGroupArn, weight: t.Weight })),
          stickiness: { enabled: initial.TargetGroupStickinessConfig.Enabled, duration: initial.TargetGroupStickinessConfig.DurationSeconds ?? 1 },
        },
      }],
      // the controller owns the weights: a deploy mid-rollout must not reset them
      lifecycle: { ignoreChanges: ['action'], ...(props.lifecycle ?? {}) },
    });
    this.ruleArn = this.rule.arn;
  }
}

/** What every version's target group shares. */
export interface TargetGroupOptions {
  /** Prefix of the names (`<prefix>-<version>`, 32 characters at most). */
  readonly namePrefix: string;
  readonly vpcId: string;
  readonly deregistrationDelaySeconds: number;
  readonly lifecycle?: { preventDestroy?: boolean; createBeforeDestroy?: boolean };
}

/** The target group of one version (`<prefix>-<version>`), as construct `pascalCase(version)` of `scope`. */
export function versionTargetGroup(scope: Construct, v: WeightedVersion, options: TargetGroupOptions): LbTargetGroup {
  const tgName = `${options.namePrefix}-${v.name}`;
  if (tgName.length > 32) throw errors.targetGroupNameTooLong(scope.node.path, 'name', tgName);
  return new LbTargetGroup(scope, pascalCase(v.name), {
    name: tgName,
    port: v.port,
    protocol: 'HTTP',
    targetType: 'ip',
    vpcId: options.vpcId,
    // in-flight generations finish before a deregistered pod is dropped
    deregistrationDelay: String(options.deregistrationDelaySeconds),
    // a long generation keeps a replica busy: send new requests where fewest are outstanding, not round robin
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#modify-routing-algorithm
    loadBalancingAlgorithmType: 'least_outstanding_requests',
    healthCheck: { path: v.healthPath, matcher: '200', interval: 15, healthyThreshold: 2, unhealthyThreshold: 3, timeout: 5 },
    lifecycle: options.lifecycle,
  });
}

/** The rule's conditions: the host headers, and the path patterns (`/*` when no host header is given). */
export function ruleConditions(hostHeaders?: string[], pathPatterns?: string[]): LbListenerRuleCondition[] {
  const conditions: LbListenerRuleCondition[] = [];
  if (hostHeaders?.length) conditions.push({ hostHeader: { values: hostHeaders } });
  if (pathPatterns?.length || !hostHeaders?.length) conditions.push({ pathPattern: { values: pathPatterns ?? ['/*'] } });
  return conditions;
}
