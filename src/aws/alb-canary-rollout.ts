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
import { Construct } from 'constructs';
import { AlbRoute, AlbVersion, BorrowedRoute } from './alb-route';
import * as errors from './errors';
import { bridgeOf } from './kubernetes-manifests';
import { CanaryAlarmOptions, EksAccess } from './options';
import { CanaryAlarms } from './private/canary-alarms';
import { LambdaStepController } from './private/lambda-step-controller';
import { RolloutNotifications } from './private/notifications';
import { PinRules, resolveAlbPins } from './private/pin-rules';
import { writePlanOnSynth } from './private/plan-files';
import { reservePriority } from './private/priorities';
import { TargetGroupBindings } from './private/target-group-bindings';
import { WeightedRule, WeightedVersion } from './private/weighted-rule';
import type { SpecDocument } from '../controller/aws/adapter';
import { controllerFunctionName, DEFAULT_PROGRESS_DEADLINE_SECONDS, stateTableName } from '../core/constants';
import { AwsTarget, PinSpec } from '../core/contract/target';
import { ALB_MAX_TARGET_GROUPS } from '../core/routes/alb';
import { MetricSpec, rolloutVersions, RolloutSpec } from '../core/spec';
import { IEnvironment } from '../k8s/contracts';
import { EnvironmentHost, environmentHost } from '../k8s/private/hosts';
import { NODE_PROVISIONING_SECONDS } from '../k8s/private/version-workload';
import { Pin } from '../k8s/routing';
import { Metric } from '../rollout/analysis';
import { CanaryOptions } from '../rollout/canary';
import { buildRolloutSpec, RolloutSpecInput } from '../rollout/private/build-spec';
import { RolloutPlan } from '../rollout/rollout-plan';
import { Steps } from '../rollout/steps';

/** Props of an `AlbCanaryRollout`. */
export interface AlbCanaryRolloutProps {
  /**
   * The environment's steady route to borrow: its listener rule and target groups outlive the rollout, so removing
   * a finished rollout keeps the host routed and the next rollout starts from it. The listener, VPC, priority,
   * matching, stickiness, deregistration delay and security group then come from the route.
   * @default - the rollout creates its own rule and target groups (`listenerArn`, `vpcId`, `priority`): removing
   *   the rollout removes them, and the host falls through to the listener's default action
   */
  readonly route?: AlbRoute;
  /**
   * ARN of the existing ALB listener (without `route`).
   * @default - the route's
   */
  readonly listenerArn?: string;
  /**
   * VPC of the target groups (without `route`).
   * @default - the route's
   */
  readonly vpcId?: string;
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
  /**
   * Priority of the listener rule (without `route`).
   * @default - the route's
   */
  readonly priority?: number;
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
   * Concurrency reserved for the controller's Lambda. `1` runs one tick at a time. Without it, two ticks side by
   * side (EventBridge Scheduler delivers at least once) lose and revive nothing (each writes the state under the
   * version it read), but a tick past its fence may send its weights after another stored an abort: the aborted
   * canary then has traffic until the next tick. Reserving even 1 fails the deploy in an account whose concurrency
   * quota leaves less than the unreserved minimum (new accounts): set it where the quota allows.
   * @default - none: the account's unreserved pool
   */
  readonly controllerReservedConcurrency?: number;
  /**
   * KMS key (ARN) that encrypts the notification topic at rest (with `notificationTopic`). With your own key, the
   * Lambda may use it to publish (`kms:GenerateDataKey`, `kms:Decrypt`), and its key policy must let SNS use it.
   * @default - the AWS managed key of SNS, `alias/aws/sns`
   */
  readonly notificationTopicKmsKey?: string;
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
   * Append the environment's name to the rollout's names (see `name`). `false` keeps the names releases before
   * environment names gave (`<name>-<version>` target groups, `/model-rollout/<name>/spec`, `<name>-rollout-controller`):
   * set it when upgrading a rollout those releases deployed, so that Terraform updates its protected target groups
   * and spec parameter in place instead of planning their replacement (which `prevent_destroy` refuses). The
   * Terraform addresses did not change between those releases: no `moved` block is needed. Only one environment
   * of a model in an account can keep those names.
   * @default true
   */
  readonly environmentInNames?: boolean;
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
  private specDocumentCache?: SpecDocument & { spec: RolloutSpec; target: AwsTarget; stateTable: string };
  /** What the spec document is built from, once the controller's parts exist. */
  private readonly documentOf: () => { name: string; target: TargetWithoutAlarms; workloads?: AwsWorkloads };

  constructor(scope: Construct, id: string, props: AlbCanaryRolloutProps) {
    super(scope, id);
    const p = this.node.path;
    const resolved = resolveProps(this, props);
    const { name, env, host, stickiness } = resolved;
    this.checks.push(...(props.checks ?? []));
    this.buildSpec = () => buildRolloutSpec(p, specInput(props, resolved, this.checks));
    const spec = this.buildSpec();
    refusePrometheus(p, spec);
    const involved = rolloutVersions(spec);
    const protect = props.destroyProtection ?? env?.destroyProtection ?? false;
    const lifecycle = protect ? { preventDestroy: true } : undefined;

    const weighted = props.route
      ? props.route._borrow(p, spec.stable, involved, env)
      : this.createRule(props, resolved, spec, lifecycle);
    if (resolved.pins.length > 0) {
      // pin rules sit just below the weighted rule's priority, on its listener: a borrowed route's rule is the route's
      if (props.route || !props.listenerArn || props.priority === undefined) throw errors.pinsNeedOwnRule(p, 'pins');
      const listenerArn = props.listenerArn;
      new PinRules(this, 'Pins', {
        listenerArn,
        priority: props.priority,
        hostHeaders: props.hostHeaders,
        pathPatterns: props.pathPatterns,
        pins: resolved.pins,
        targetGroupArns: weighted.targetGroupArns,
        lifecycle,
        reserve: (priority, property) => reservePriority(this, listenerArn, priority, property),
      });
    }
    this.targetGroups = weighted.targetGroups;
    this.listenerRule = weighted.rule;

    if (props.defaultAlarms ?? true) {
      const canaryGroups = Object.fromEntries(spec.canaries.map((c) => [c.version, weighted.targetGroups[c.version]]));
      this.alarms.push(...new CanaryAlarms(this, 'Alarms', {
        ...props.alarms,
        namePrefix: name,
        rolloutName: name,
        listenerArn: weighted.rule.listenerArn,
        targetGroups: canaryGroups,
        stableTargetGroup: weighted.targetGroups[spec.stable],
      }).alarms);
    }
    // a route binds its versions' Services itself (its bindings outlive the rollout)
    const ownBindings = props.route ? undefined : weighted.targetGroupArns;
    const workloads = host ? this.bindWorkloads(host, involved, ownBindings, props.loadBalancerSecurityGroupId, lifecycle) : undefined;

    const target: TargetWithoutAlarms = {
      kind: 'aws', listenerRuleArn: weighted.ruleArn, targetGroups: weighted.targetGroupArns, stickinessSeconds: props.route ? (weighted as BorrowedRoute).stickinessSeconds : stickiness,
    };
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
      specDocument: () => JSON.stringify(this._specDocument()),
      reservedConcurrency: props.controllerReservedConcurrency,
    });
    this.documentOf = () => ({ name, target, workloads });
    this.function = controller.function;
    if (props.notificationTopic || props.dashboard) {
      const n = new RolloutNotifications(this, 'Notifications', {
        name,
        listenerArn: weighted.rule.listenerArn,
        targetGroups: weighted.targetGroups,
        alarmArns: () => this.alarmArns(),
        controller,
        topic: props.notificationTopic ?? false,
        topicKmsKey: props.notificationTopicKmsKey,
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

  /**
   * The plan (timeline, duration, GPU-hours, spec hash), from the spec the controller reads: the one in the spec
   * document, with the rollout's alarms as checks.
   */
  public get plan(): RolloutPlan {
    return RolloutPlan._fromSpec(this._specDocument().spec);
  }

  /** Treat another alarm as a check: in ALARM, the canary fails. */
  public addAlarm(alarm: CloudwatchMetricAlarm): void {
    this.alarms.push(alarm);
    this.specDocumentCache = undefined;
  }

  /** Check another metric at every tick (like `checks`). */
  public addCheck(metric: Metric): void {
    this.checks.push(metric);
    this.specCache = undefined;
    this.specDocumentCache = undefined;
    try {
      refusePrometheus(this.node.path, this.spec());
    } catch (e) {
      this.checks.pop();
      this.specCache = undefined;
      throw e;
    }
  }

  /** The weighted listener rule and a target group per version the spec involves. */
  private createRule(props: AlbCanaryRolloutProps, resolved: ResolvedProps, spec: RolloutSpec, lifecycle: Lifecycle): WeightedRule {
    if (!props.listenerArn || !props.vpcId || props.priority === undefined) throw errors.listenerOrRouteMissing(this.node.path, 'route');
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
    host: EnvironmentHost, involved: string[], targetGroupArns: { [version: string]: string } | undefined,
    loadBalancerSecurityGroupId: string | undefined, lifecycle: Lifecycle,
  ): AwsWorkloads {
    const backends = Object.fromEntries(involved.map((v) => [v, host.backendOf(v)]));
    for (const v of involved) host.claimFloor(v);
    if (!targetGroupArns) return { namespace: host.namespace, backends };
    new TargetGroupBindings(this, 'Bindings', {
      namespace: host.namespace,
      backends,
      targetGroupArns,
      lifecycle,
      loadBalancerSecurityGroupId,
    });
    if (!loadBalancerSecurityGroupId) Annotations.of(this).addWarning(errors.noLoadBalancerSecurityGroup(this.node.path));
    return { namespace: host.namespace, backends };
  }

  /**
   * The document the controller reads (the SSM spec parameter's value), built once at synth, the one source of the
   * plan too: the spec with the rollout's alarms as checks, the target, and the table's name (not a token:
   * `model-rollout --aws` finds the state through the spec parameter). Alarm names are the names given to the
   * alarms (literal unless an alarm was named by a token), so the plan shows and hashes what the controller judges.
   * @internal
   */
  public _specDocument(): SpecDocument & { spec: RolloutSpec; target: AwsTarget; stateTable: string } {
    if (this.specDocumentCache) return this.specDocumentCache;
    const { name, target, workloads } = this.documentOf();
    const names = this.alarms.map((x) => this.alarmRef(x).name);
    const alarmChecks: MetricSpec[] = names.map((n) => ({ provider: 'cloudwatchAlarm', name: n, alarmName: n }));
    const base = this.spec();
    this.specDocumentCache = {
      spec: { ...base, checks: [...base.checks, ...alarmChecks] },
      target: { ...target, alarmNames: names, workloads } satisfies AwsTarget,
      stateTable: stateTableName(name),
      // the CLI invokes it after storing a command: the schedule is off once the rollout settled
      controllerFunction: controllerFunctionName(name),
    };
    return this.specDocumentCache;
  }

  private alarmArns(): string[] {
    return this.alarms.map((x) => this.alarmRef(x).arn);
  }

  private spec(): RolloutSpec {
    return this.specCache ?? (this.specCache = this.buildSpec());
  }

  /** The alarm's name (as given, else its token) and ARN token, created once. */
  private alarmRef(alarm: CloudwatchMetricAlarm): { name: string; arn: string } {
    let ref = this.alarmRefs.get(alarm);
    if (!ref) {
      ref = { name: alarm.alarmNameInput ?? alarm.alarmName, arn: alarm.arn };
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
  const append = env && (props.environmentInNames ?? true) && !props.name.endsWith(`-${env.name}`);
  const name = append ? `${props.name}-${env.name}` : props.name;
  const host = env ? environmentHost(env, p, 'environment') : undefined;
  if (env && !props.eks) throw errors.environmentWithoutEks(p, 'eks', env.name);
  if (host && !host.active) throw errors.rolloutOnInactiveEnvironment(p, 'environment', host.env.name);
  if (env) checkBridgeOrder(p, env);
  if (!props.route && props.listenerArn && props.priority !== undefined) reservePriority(scope, props.listenerArn, props.priority, 'priority');
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
    versions: resolved.versions.map((v) => {
      // the product, for the plan's GPU line, as the Kubernetes target names it: the model's version's GPU
      const product = env?.model.versions.find((m) => m.name === v.name)?.gpu?.product.name;
      return { name: v.name, gpusPerReplica: v.gpusPerReplica ?? 0, ...(product ? { gpuProduct: product } : {}) };
    }),
    checks,
    progressDeadlineSeconds: progressDeadlineSeconds(props, host),
    keepPreviousWarmSeconds: env?.keepPreviousWarmFor?.toSeconds(),
    // the listener rule ignores changes to its action: a deploy never routes back to the previous version
    keepPreviousUntilSpecChanges: false,
    // without an environment there is no model to name: a query that needs one is refused
    placeholders: env ? { model: env.model.name, environment: env.name, namespace: host?.namespace ?? 'default' } : {},
  };
}

/**
 * The progress deadline covers a node launch and the slowest canary's load, as on Kubernetes (the GPU node group
 * may be at zero nodes): the slowest load timeout plus `NODE_PROVISIONING_SECONDS`, and at least the default.
 * Without an environment the load timeouts are unknown: the default load timeout plus the node launch.
 */
function progressDeadlineSeconds(props: AlbCanaryRolloutProps, host: EnvironmentHost | undefined): number {
  const load = host ? Math.max(0, ...props.canaries.map((c) => host.loadTimeoutSeconds(c.version))) : DEFAULT_PROGRESS_DEADLINE_SECONDS;
  return Math.max(DEFAULT_PROGRESS_DEADLINE_SECONDS, load + NODE_PROVISIONING_SECONDS);
}

/**
 * The Lambda measures CloudWatch alarms only: it has no Prometheus address, credentials or network path, so a
 * Prometheus check or gate would be accepted and never judged. Refused, with the fix.
 */
function refusePrometheus(scopePath: string, spec: RolloutSpec): void {
  const named = [
    ...spec.checks.map((m, i) => ({ m, property: `checks[${i}]` })),
    ...spec.steps.flatMap((st, i) => (st.kind === 'analysis' ? st.gate.metrics.map((m, j) => ({ m, property: `steps[${i}].gate.metrics[${j}]` })) : [])),
  ].find(({ m }) => m.provider === 'prometheus');
  if (named) throw errors.prometheusCheckOnAlb(scopePath, named.property, named.m.name);
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

