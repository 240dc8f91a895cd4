/**
 * A canary rollout behind an ALB, composed of one construct per job: the weighted rule and its target groups
 * (`weighted-rule.ts`), alarms on the canaries (`canary-alarms.ts`), the Lambda step controller
 * (`lambda-step-controller.ts`) and, with a Kubernetes environment, the TargetGroupBindings
 * (`target-group-bindings.ts`).
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Chart, Duration } from 'cdk8s';
import { Annotations } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import * as errors from './errors';
import { bridgeOf } from './kubernetes-manifests';
import { CanaryAlarmOptions, EksAccess } from './options';
import { CanaryAlarms } from './private/canary-alarms';
import { LambdaStepController } from './private/lambda-step-controller';
import { RolloutNotifications } from './private/notifications';
import { PinRules, resolveAlbPins } from './private/pin-rules';
import { writePlanOnSynth } from './private/plan-files';
import { TargetGroupBindings } from './private/target-group-bindings';
import { WeightedRule, WeightedVersion } from './private/weighted-rule';
import { stateTableName } from '../core/constants';
import { AwsTarget, PinSpec } from '../core/contract/target';
import { ALB_MAX_TARGET_GROUPS } from '../core/routes/alb';
import { MetricSpec, rolloutVersions, RolloutSpec } from '../core/spec';
import { IEnvironment } from '../k8s/contracts';
import { EnvironmentHost, environmentHost } from '../k8s/private/hosts';
import { Pin } from '../k8s/routing';
import { Metric } from '../rollout/analysis';
import { CanaryOptions } from '../rollout/canary';
import { buildRolloutSpec, RolloutSpecInput } from '../rollout/private/build-spec';
import { RolloutPlan } from '../rollout/rollout-plan';
import { Steps } from '../rollout/steps';

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

/** Props of an `AlbCanaryRollout`. */
export interface AlbCanaryRolloutProps {
  /** ARN of the existing ALB listener. */
  readonly listenerArn: string;
  /** VPC of the target groups. */
  readonly vpcId: string;
  /**
   * The Kubernetes environment serving the versions (through the Terraform bridge). Versions, ports, health
   * paths, GPUs, the stable version, stable replicas and destroy protection come from it, and the controller
   * raises its canaries' replica floors through the EKS API (with `eks`).
   * @default - no environment: give `versions` and `stableVersion`; the capacity gate waits for healthy targets
   */
  readonly environment?: IEnvironment;
  /**
   * Versions the rollout involves (stable and canaries).
   * @default - from `environment`
   */
  readonly versions?: AlbVersion[];
  /**
   * The version serving now.
   * @default - the environment's current version
   */
  readonly stableVersion?: string;
  /** The canaries. */
  readonly canaries: CanaryOptions[];
  /**
   * The schedule.
   * @default Steps.equal()
   */
  readonly steps?: Steps;
  /** Priority of the listener rule. */
  readonly priority: number;
  /**
   * Requests with a given header or query value that always reach one version, whatever the weights (testers, or a
   * key split with `weight: 0` canaries): one listener rule per pin with an `http-header` or `query-string`
   * condition (compared case-insensitively by ALB), at the priorities just below `priority`.
   * @default - none
   */
  readonly pins?: Pin[];
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
   * Target-group stickiness (1 second to 7 days).
   * @default - none
   */
  readonly stickiness?: Duration;
  /**
   * How long the ALB lets in-flight requests of a deregistered pod finish (scale-in, rollback, promotion): long
   * generations take minutes. Keep it at most the pods' termination grace period.
   * @default Duration.minutes(5)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * Security group of the load balancer: the TargetGroupBindings then let the AWS Load Balancer Controller open
   * the pods' security group to it (`spec.networking`). Without it, the pods' security group must already accept
   * the ALB on the model's port.
   * @default - no networking rules: a prerequisite of the cluster (a warning says so)
   */
  readonly loadBalancerSecurityGroupId?: string;
  /**
   * Alarms on the canary target groups (failed checks for the controller).
   * @default - 5xx share > 2 % and p99 > 5 s, over 2 minutes
   */
  readonly alarms?: CanaryAlarmOptions;
  /**
   * Create the 5xx-share and p99-latency alarms on every canary target group.
   * @default true
   */
  readonly defaultAlarms?: boolean;
  /**
   * Other metrics checked at every tick.
   * @default - none
   */
  readonly checks?: Metric[];
  /**
   * Replicas of the stable version (capacity baseline).
   * @default - the environment's minimum, or 1
   */
  readonly stableReplicas?: number;
  /**
   * EKS access for the replica floors (with `environment`).
   * @default - none
   */
  readonly eks?: EksAccess;
  /**
   * Refuse to destroy the rollout's resources (Terraform `prevent_destroy`).
   * @default - the environment's `destroyProtection`, or false without one
   */
  readonly destroyProtection?: boolean;
  /**
   * Retention of the controller's logs (CloudWatch accepts 1, 3, 5, 7, 14, 30, 60, 90, ... days), in the log group
   * the rollout creates (ignored with `controllerLogGroup`).
   * @default Duration.days(30)
   */
  readonly logRetention?: Duration;
  /**
   * Execution role of the controller's Lambda. It must trust `lambda.amazonaws.com`; the rollout attaches its
   * least-privilege policy to it as an inline policy, and maps it to a Kubernetes group on EKS (with `eks`).
   * @default - a new role that only Lambda may assume
   */
  readonly controllerRole?: IamRole;
  /**
   * Log group of the controller's Lambda (its JSON log lines, one per tick).
   * @default - a new log group `/aws/lambda/<name>-rollout-controller`, kept for `logRetention`
   */
  readonly controllerLogGroup?: CloudwatchLogGroup;
  /**
   * An SNS topic (`<name>-rollout-events`) the step controller publishes the rollout's phase changes to (started,
   * step, paused, gate failed, aborted, promoted); the Lambda may publish to that topic only.
   * @default false
   */
  readonly notificationTopic?: boolean;
  /**
   * A CloudWatch dashboard (`<name>-rollout`): each version's share of the requests, 5xx answers, p99 latency,
   * healthy targets and the rollout's alarms.
   * @default false
   */
  readonly dashboard?: boolean;
  /**
   * Name of the rollout (DNS-1123). With an environment, the environment's name is appended, so staging and
   * production of one model coexist in an account: target groups are `<name>-<environment>-<version>` (32
   * characters at most), and the SSM spec parameter, state table, function, schedule and alarms follow.
   */
  readonly name: string;
}

/**
 * A canary rollout behind an ALB: one target group per version, a listener rule whose forward action splits by
 * weight, and the step controller as a Lambda invoked every minute by EventBridge Scheduler, with its spec in SSM,
 * its state and the CLI's commands in a DynamoDB table (conditional writes), CloudWatch alarms as checks, and
 * least-privilege IAM. Composes into your own `TerraformStack`; creates no
 * provider or backend. `cdktf deploy` mid-rollout leaves the weights alone (the rule ignores changes to its action).
 */
export class AlbCanaryRollout extends Construct {
  /** Target groups by version. */
  public readonly targetGroups: { [version: string]: LbTargetGroup };
  /** The listener rule. */
  public readonly listenerRule: LbListenerRule;
  /** The controller function. */
  public readonly function: LambdaFunction;
  /** ARN of the SNS topic of the rollout's phase changes (with `notificationTopic`). */
  public readonly notificationTopicArn?: string;
  /** Name of the rollout's CloudWatch dashboard (with `dashboard`). */
  public readonly dashboardName?: string;
  /** Size of the Lambda bundle in bytes. */
  public readonly bundleBytes: number;
  /**
   * The DynamoDB table of the controller's state and the CLI's commands (`model-rollout-<name>`), with point-in-time
   * recovery, and deletion protection with `destroyProtection`.
   */
  public readonly stateTable: DynamodbTable;

  private readonly alarms: CloudwatchMetricAlarm[] = [];
  private readonly alarmRefs = new Map<CloudwatchMetricAlarm, { name: string; arn: string }>();
  private readonly checks: Metric[] = [];
  private readonly buildSpec: () => RolloutSpec;
  private specCache?: RolloutSpec;
  private specDocumentCache?: string;

  constructor(scope: Construct, id: string, props: AlbCanaryRolloutProps) {
    super(scope, id);
    const p = this.node.path;
    const resolved = resolveProps(this, props);
    const { name, env, host, stickiness } = resolved;
    this.checks.push(...(props.checks ?? []));
    this.buildSpec = () => buildRolloutSpec(p, specInput(props, resolved, this.checks));
    const spec = this.buildSpec();
    const involved = rolloutVersions(spec);
    const protect = props.destroyProtection ?? env?.destroyProtection ?? false;
    const lifecycle = protect ? { preventDestroy: true } : undefined;

    const weighted = this.createRule(props, resolved, spec, lifecycle);
    if (resolved.pins.length > 0) {
      new PinRules(this, 'Pins', {
        listenerArn: props.listenerArn,
        priority: props.priority,
        hostHeaders: props.hostHeaders,
        pathPatterns: props.pathPatterns,
        pins: resolved.pins,
        targetGroupArns: weighted.targetGroupArns,
        lifecycle,
        reserve: (priority, property) => reservePriority(this, props.listenerArn, priority, property),
      });
    }
    this.targetGroups = weighted.targetGroups;
    this.listenerRule = weighted.rule;

    if (props.defaultAlarms ?? true) {
      const canaryGroups = Object.fromEntries(spec.canaries.map((c) => [c.version, weighted.targetGroups[c.version]]));
      this.alarms.push(...new CanaryAlarms(this, 'Alarms', { ...props.alarms, namePrefix: name, rolloutName: name, listenerArn: props.listenerArn, targetGroups: canaryGroups }).alarms);
    }
    const workloads = host ? this.bindWorkloads(host, involved, weighted, props.loadBalancerSecurityGroupId, lifecycle) : undefined;

    const target: TargetWithoutAlarms = { kind: 'aws', listenerRuleArn: weighted.ruleArn, targetGroups: weighted.targetGroupArns, stickinessSeconds: stickiness };
    const controller = new LambdaStepController(this, 'Controller', {
      name,
      ruleArn: weighted.ruleArn,
      eks: props.eks,
      workloads,
      logRetention: props.logRetention,
      role: props.controllerRole,
      logGroup: props.controllerLogGroup,
      checkedAlarmNames: () => alarmsNamedBy(this.spec()),
      lifecycle,
      alarmArns: () => this.alarmArns(),
      specDocument: () => this.specDocument(name, target, workloads),
    });
    this.function = controller.function;
    if (props.notificationTopic || props.dashboard) {
      const n = new RolloutNotifications(this, 'Notifications', {
        name,
        listenerArn: props.listenerArn,
        targetGroups: weighted.targetGroups,
        alarmArns: () => this.alarmArns(),
        controller,
        topic: props.notificationTopic ?? false,
        dashboard: props.dashboard ?? false,
      });
      this.notificationTopicArn = n.topic?.arn;
      this.dashboardName = n.dashboard?.dashboardName;
    }
    this.bundleBytes = controller.bundleBytes;
    this.stateTable = controller.stateTable;

    this.node.addValidation({
      validate: () => {
        const s = this.spec();
        const gates = s.steps.some((x) => x.kind === 'analysis') || s.checks.length > 0;
        if (this.alarms.length === 0 && !gates) Annotations.of(this).addWarning(errors.noAlarmNoGate(p));
        return [];
      },
    });
    // the plan goes beside the stack's Terraform JSON, when the stack synthesizes
    writePlanOnSynth(this, () => this.plan);
  }

  /** The plan (timeline, duration, GPU-hours, spec hash). */
  public get plan(): RolloutPlan {
    return RolloutPlan._fromSpec(this.spec());
  }

  /** Treat another alarm as a check: in ALARM, the canary fails. */
  public addAlarm(alarm: CloudwatchMetricAlarm): void {
    this.alarms.push(alarm);
  }

  /** Check another metric at every tick (like `checks`). */
  public addCheck(metric: Metric): void {
    this.checks.push(metric);
    this.specCache = undefined;
  }

  /** The weighted listener rule and a target group per version the spec involves. */
  private createRule(props: AlbCanaryRolloutProps, resolved: ResolvedProps, spec: RolloutSpec, lifecycle: Lifecycle): WeightedRule {
    return new WeightedRule(this, 'Rule', {
      namePrefix: resolved.name,
      listenerArn: props.listenerArn,
      vpcId: props.vpcId,
      priority: props.priority,
      hostHeaders: props.hostHeaders,
      pathPatterns: props.pathPatterns,
      stickinessSeconds: resolved.stickiness,
      deregistrationDelaySeconds: (props.deregistrationDelay ?? Duration.minutes(5)).toSeconds(),
      versions: rolloutVersions(spec).map((v) => resolved.versions.find((x) => x.name === v)!)
        .map((v): WeightedVersion => ({ name: v.name, port: v.port ?? 8080, healthPath: v.healthPath ?? '/health' })),
      spec,
      lifecycle,
    });
  }

  /**
   * The Kubernetes side: the versions' workloads (their floors owned by the controller) and the
   * TargetGroupBindings that register their pods in the target groups.
   */
  private bindWorkloads(
    host: EnvironmentHost, involved: string[], weighted: WeightedRule, loadBalancerSecurityGroupId: string | undefined, lifecycle: Lifecycle,
  ): AwsWorkloads {
    const backends = Object.fromEntries(involved.map((v) => [v, host.backendOf(v)]));
    for (const v of involved) host.claimFloor(v);
    new TargetGroupBindings(this, 'Bindings', {
      namespace: host.namespace,
      backends,
      targetGroupArns: weighted.targetGroupArns,
      lifecycle,
      loadBalancerSecurityGroupId,
    });
    if (!loadBalancerSecurityGroupId) Annotations.of(this).addWarning(errors.noLoadBalancerSecurityGroup(this.node.path));
    return { namespace: host.namespace, backends };
  }

  /**
   * The SSM spec parameter's document, rendered once at synth: the spec with the rollout's alarms as checks, the
   * target, and the table's name (not a token: `model-rollout --aws` finds the state through the spec parameter).
   */
  private specDocument(name: string, target: TargetWithoutAlarms, workloads: AwsWorkloads | undefined): string {
    if (this.specDocumentCache) return this.specDocumentCache;
    const names = this.alarms.map((x) => this.alarmRef(x).name);
    const alarmChecks: MetricSpec[] = names.map((n) => ({ provider: 'cloudwatchAlarm', name: n, alarmName: n }));
    const base = this.spec();
    this.specDocumentCache = JSON.stringify({
      spec: { ...base, checks: [...base.checks, ...alarmChecks] },
      target: { ...target, alarmNames: names, workloads } satisfies AwsTarget,
      stateTable: stateTableName(name),
    });
    return this.specDocumentCache;
  }

  private alarmArns(): string[] {
    return this.alarms.map((x) => this.alarmRef(x).arn);
  }

  private spec(): RolloutSpec {
    return this.specCache ?? (this.specCache = this.buildSpec());
  }

  /** The alarm's name and ARN tokens, created once. */
  private alarmRef(alarm: CloudwatchMetricAlarm): { name: string; arn: string } {
    let ref = this.alarmRefs.get(alarm);
    if (!ref) {
      ref = { name: alarm.alarmName, arn: alarm.arn };
      this.alarmRefs.set(alarm, ref);
    }
    return ref;
  }
}

/** Terraform's `prevent_destroy`, set with destroy protection. */
type Lifecycle = { preventDestroy: boolean } | undefined;

/** The Kubernetes workloads of an AWS target, as the controller's spec document carries them. */
type AwsWorkloads = NonNullable<AwsTarget['workloads']>;
/** The target the controller reads, but for the alarms' names (tokens of alarms added up to synth). */
type TargetWithoutAlarms = Omit<AwsTarget, 'alarmNames' | 'workloads'>;

/** The props checked and their defaults resolved: what the constructor builds from. */
interface ResolvedProps {
  /** The rollout's name, with the environment's appended. */
  readonly name: string;
  readonly env?: IEnvironment;
  readonly host?: EnvironmentHost;
  readonly stable: string;
  readonly versions: AlbVersion[];
  readonly stickiness?: number;
  /** The pins, checked. */
  readonly pins: PinSpec[];
}

/** Check the props (each rule's message in `errors.ts`) and resolve what comes from the environment. */
function resolveProps(scope: Construct, props: AlbCanaryRolloutProps): ResolvedProps {
  const p = scope.node.path;
  const env = props.environment;
  const name = env && !props.name.endsWith(`-${env.name}`) ? `${props.name}-${env.name}` : props.name;
  const host = env ? environmentHost(env, p, 'environment') : undefined;
  if (env && !props.eks) throw errors.environmentWithoutEks(p, 'eks', env.name);
  if (env) checkBridgeOrder(p, env);
  reservePriority(scope, props.listenerArn, props.priority, 'priority');
  const stickiness = props.stickiness?.toSeconds();
  if (stickiness !== undefined && (stickiness < 1 || stickiness > 604800)) throw errors.stickinessOutOfRange(p, 'stickiness', stickiness);
  const stable = props.stableVersion ?? env?.currentVersion;
  if (!stable) throw errors.stableVersionMissing(p, 'stableVersion');
  const versions = resolveVersions(p, props, env);
  const count = new Set([stable, ...props.canaries.map((c) => c.version)]).size;
  if (count > ALB_MAX_TARGET_GROUPS) throw errors.tooManyTargetGroups(p, 'canaries', count, ALB_MAX_TARGET_GROUPS);
  const pinSpecs = (props.pins ?? []).map((pin) => pin._spec());
  const pins = resolveAlbPins(p, pinSpecs, versions.map((v) => v.name), props.hostHeaders ?? [], props.pathPatterns ?? []);
  return { name, env, host, stable, versions, stickiness, pins };
}

/** What the engine's spec is built from; `checks` is the rollout's list, which `addCheck` extends. */
function specInput(props: AlbCanaryRolloutProps, resolved: ResolvedProps, checks: Metric[]): RolloutSpecInput {
  const { env, host } = resolved;
  return {
    name: resolved.name,
    stable: resolved.stable,
    canaries: props.canaries,
    pinnedVersions: resolved.pins.map((pin) => pin.version),
    steps: props.steps,
    stableReplicas: props.stableReplicas ?? Math.max(1, env?.minReplicas ?? 1),
    versions: resolved.versions.map((v) => ({ name: v.name, gpusPerReplica: v.gpusPerReplica ?? 0 })),
    checks,
    keepPreviousWarmSeconds: env?.keepPreviousWarmFor?.toSeconds(),
    // the listener rule ignores changes to its action: a deploy never routes back to the previous version
    keepPreviousUntilSpecChanges: false,
    // without an environment there is no model to name: a query that needs one is refused
    placeholders: env ? { model: env.model.name, environment: env.name, namespace: host?.namespace ?? 'default' } : {},
  };
}

/** The versions behind the rule: given, or derived from the environment's model. */
function resolveVersions(scopePath: string, props: AlbCanaryRolloutProps, env: IEnvironment | undefined): AlbVersion[] {
  if (props.versions) return props.versions;
  if (!env) throw errors.versionsMissing(scopePath, 'versions');
  return env.model.versions.map((v) => ({ name: v.name, port: v.port, healthPath: v.healthPath, gpusPerReplica: v.gpusPerReplica }));
}

/** Names of the CloudWatch alarms a spec's checks and gates judge. */
function alarmsNamedBy(spec: RolloutSpec): string[] {
  const metrics = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))];
  return [...new Set(metrics.flatMap((m) => (m.provider === 'cloudwatchAlarm' ? [m.alarmName] : [])))].sort();
}

/** The bridge renders a chart once: a rollout that adds workloads to it afterwards would be left out. */
function checkBridgeOrder(scopePath: string, env: IEnvironment): void {
  const bridge = bridgeOf(Chart.of(env));
  if (bridge) throw errors.bridgeBeforeRollout(scopePath, 'environment', bridge);
}

const PRIORITIES = new WeakMap<IConstruct, Map<string, string>>();

/** Listener rule priorities are 1..50000 and unique per listener (checked within one app, pin rules included). */
function reservePriority(scope: Construct, listenerArn: string, priority: number, property: string): void {
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
