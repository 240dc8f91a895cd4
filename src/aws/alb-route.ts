/**
 * The steady route of an environment behind an ALB: the listener rule and the target group of every version it
 * routes to, kept whether or not a rollout runs. A rollout borrows it (`AlbCanaryRolloutProps.route`): its versions'
 * target groups join the route and its step controller owns the rule's weights while it exists; removed, it hands
 * the route back and Terraform routes the host to the serving version again.
 */
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as errors from './errors';
import { reservePriority } from './private/priorities';
import { TargetGroupBindings } from './private/target-group-bindings';
import { ruleConditions, versionTargetGroup } from './private/weighted-rule';
import { pascalCase } from '../core/names';
import { IEnvironment } from '../k8s/contracts';
import { EnvironmentHost, environmentHost } from '../k8s/private/hosts';

/** A version behind the load balancer. */
export interface AlbVersion {
  /** Name of the version. */
  readonly name: string;
  /**
   * Port the targets listen on.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Health check path.
   * @default '/health'
   */
  readonly healthPath?: string;
  /**
   * GPUs per replica (for the plan's GPU-hours).
   * @default 0
   */
  readonly gpusPerReplica?: number;
}

/** Props of an `AlbRoute`. */
export interface AlbRouteProps {
  /**
   * Name of the route (DNS-1123): target groups are `<name>-<version>` (32 characters at most). With an environment,
   * the environment's name is appended, as for `AlbCanaryRollout`.
   */
  readonly name: string;
  /** ARN of the existing ALB listener. */
  readonly listenerArn: string;
  /** VPC of the target groups. */
  readonly vpcId: string;
  /** Priority of the listener rule. */
  readonly priority: number;
  /**
   * Host headers the rule matches.
   * @default - none (then `pathPatterns` must match)
   */
  readonly hostHeaders?: string[];
  /**
   * Path patterns the rule matches.
   * @default ['/*'] when no host header is given
   */
  readonly pathPatterns?: string[];
  /**
   * The Kubernetes environment serving the versions: their ports and health paths come from it, and the route binds
   * their Services to the target groups (TargetGroupBindings).
   * @default - no environment: give `versions`
   */
  readonly environment?: IEnvironment;
  /**
   * The versions the route can serve.
   * @default - from `environment`
   */
  readonly versions?: AlbVersion[];
  /**
   * The version the route serves when no rollout borrows it.
   * @default - the environment's current version
   */
  readonly servingVersion?: string;
  /**
   * Target-group stickiness (1 second to 7 days).
   * @default - none
   */
  readonly stickiness?: Duration;
  /**
   * How long the ALB lets in-flight requests of a deregistered pod finish.
   * @default Duration.minutes(5)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * Security group of the load balancer, for the TargetGroupBindings' networking rules (see `AlbCanaryRollout`).
   * @default - no networking rules
   */
  readonly loadBalancerSecurityGroupId?: string;
  /**
   * Refuse to destroy the route's resources (Terraform `prevent_destroy`).
   * @default - the environment's `destroyProtection`, or false without one
   */
  readonly destroyProtection?: boolean;
}

/** What a rollout gets when it borrows the route. */
export interface BorrowedRoute {
  readonly rule: LbListenerRule;
  readonly ruleArn: string;
  readonly targetGroups: { [version: string]: LbTargetGroup };
  readonly targetGroupArns: { [version: string]: string };
  readonly stickinessSeconds?: number;
}

/**
 * The listener rule and target groups of an environment, owned by the environment's stack rather than by a
 * rollout, so that removing a finished rollout keeps the host routed and the next rollout starts from it.
 *
 * Ownership of the rule's action: Terraform's while no rollout borrows the route (it forwards everything to
 * `servingVersion`), the step controller's while one does (`ignore_changes` on the action, so a deploy mid-rollout
 * keeps the weights). Target groups are `create_before_destroy`: when the code drops a version, Terraform updates
 * the rule that forwarded to it before deleting its target group (Terraform core docs/destroying.md, "Update a
 * destroyed create_before_destroy dependency"); DeleteTargetGroup answers `ResourceInUse` while a rule still
 * forwards to the group. While a rollout borrows the route, the controller's forward action lists only the groups
 * with weight (core/routes/alb.ts), so a version at 0 is not on the rule either. A version's target group keeps its
 * name across replacement: a change that replaces it (port, VPC) fails with `DuplicateTargetGroupName` instead of
 * cutting traffic; rename the route for such a change.
 */
export class AlbRoute extends Construct {
  /** The listener rule. */
  public readonly listenerRule: LbListenerRule;
  /** Target groups by version: the serving version's, and those of the rollout that borrows the route. */
  public readonly targetGroups: { [version: string]: LbTargetGroup } = {};
  /** The version served when no rollout borrows the route. */
  public readonly servingVersion: string;
  /** The route's name (with the environment's appended). */
  public readonly name: string;
  /** The environment, when the route was given one. */
  public readonly environment?: IEnvironment;

  private readonly arns: { [version: string]: string } = {};
  private readonly versions: AlbVersion[];
  private readonly host?: EnvironmentHost;
  private readonly groups: Construct;
  private readonly lifecycle?: { preventDestroy: boolean };
  private readonly stickinessSeconds?: number;
  private borrower?: string;

  constructor(scope: Construct, id: string, private readonly props: AlbRouteProps) {
    super(scope, id);
    const p = this.node.path;
    const env = props.environment;
    this.environment = env;
    this.name = env && !props.name.endsWith(`-${env.name}`) ? `${props.name}-${env.name}` : props.name;
    this.host = env ? environmentHost(env, p, 'environment') : undefined;
    reservePriority(this, props.listenerArn, props.priority);
    const serving = props.servingVersion ?? env?.currentVersion;
    if (!serving) throw errors.stableVersionMissing(p, 'servingVersion');
    this.servingVersion = serving;
    if (!props.versions && !env) throw errors.versionsMissing(p, 'versions');
    this.versions = props.versions
      ?? env!.model.versions.map((v) => ({ name: v.name, port: v.port, healthPath: v.healthPath, gpusPerReplica: v.gpusPerReplica }));
    this.stickinessSeconds = props.stickiness?.toSeconds();
    if (this.stickinessSeconds !== undefined && (this.stickinessSeconds < 1 || this.stickinessSeconds > 604800)) {
      throw errors.stickinessOutOfRange(p, 'stickiness', this.stickinessSeconds);
    }
    const protect = props.destroyProtection ?? env?.destroyProtection ?? false;
    this.lifecycle = protect ? { preventDestroy: true } : undefined;
    this.groups = new Construct(this, 'TargetGroups');
    const arn = this.addVersion(serving);
    this.listenerRule = new LbListenerRule(this, 'Rule', {
      listenerArn: props.listenerArn,
      priority: props.priority,
      condition: ruleConditions(props.hostHeaders, props.pathPatterns),
      // everything to the serving version: the route without a rollout, and where a borrowing rollout starts from
      action: [{
        type: 'forward',
        forward: {
          targetGroup: [{ arn, weight: 100 }],
          stickiness: { enabled: this.stickinessSeconds !== undefined, duration: this.stickinessSeconds ?? 1 },
        },
      }],
      lifecycle: this.lifecycle,
    });
  }

  /**
   * Lend the route to the rollout at `rolloutPath` for `versions` (its stable, which must be the serving version,
   * and its canaries): their target groups join the route, and the rule's action becomes the controller's.
   * @internal
   */
  public _borrow(rolloutPath: string, stable: string, versions: readonly string[], environment?: IEnvironment): BorrowedRoute {
    if (this.borrower) throw errors.routeBorrowedTwice(rolloutPath, 'route', this.node.path, this.borrower);
    if ((environment?.node.path ?? '') !== (this.environment?.node.path ?? '')) {
      throw errors.routeOfAnotherEnvironment(rolloutPath, 'route', this.environment?.name ?? '(none)', environment?.name ?? '(none)');
    }
    if (stable !== this.servingVersion) throw errors.routeServesAnotherVersion(rolloutPath, 'stableVersion', this.servingVersion, stable);
    this.borrower = rolloutPath;
    for (const v of versions) this.addVersion(v);
    // the controller owns the weights while the rollout exists: a deploy mid-rollout must not reset them
    this.listenerRule.lifecycle = { ...(this.lifecycle ?? {}), ignoreChanges: ['action'] };
    const pick = <T>(m: { [v: string]: T }) => Object.fromEntries(versions.map((v) => [v, m[v]]));
    return {
      rule: this.listenerRule,
      ruleArn: this.listenerRule.arn,
      targetGroups: pick(this.targetGroups),
      targetGroupArns: pick(this.arns),
      stickinessSeconds: this.stickinessSeconds,
    };
  }

  /** The target group of `version` (and its TargetGroupBinding with an environment), once. Returns its ARN. */
  private addVersion(version: string): string {
    if (this.arns[version]) return this.arns[version];
    const v = this.versions.find((x) => x.name === version);
    if (!v) throw errors.versionsMissing(this.node.path, 'versions');
    const tg = versionTargetGroup(this.groups, { name: v.name, port: v.port ?? 8080, healthPath: v.healthPath ?? '/health' }, {
      namePrefix: this.name,
      vpcId: this.props.vpcId,
      deregistrationDelaySeconds: (this.props.deregistrationDelay ?? Duration.minutes(5)).toSeconds(),
      lifecycle: { ...(this.lifecycle ?? {}), createBeforeDestroy: true },
    });
    this.targetGroups[version] = tg;
    this.arns[version] = tg.arn;
    if (this.host) {
      new TargetGroupBindings(this, `Binding${pascalCase(version)}`, {
        namespace: this.host.namespace,
        backends: { [version]: this.host.backendOf(version) },
        targetGroupArns: { [version]: this.arns[version] },
        lifecycle: this.lifecycle,
        loadBalancerSecurityGroupId: this.props.loadBalancerSecurityGroupId,
      });
    }
    return this.arns[version];
  }
}
