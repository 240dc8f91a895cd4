import * as fs from 'fs';
import * as path from 'path';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LbListenerRule, LbListenerRuleCondition } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { Duration } from 'cdk8s';
import { Annotations, App, AssetType, Fn, Lazy, TerraformAsset, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Metric } from '../rollout/analysis';
import { CanaryOptions } from '../rollout/canary';
import { RolloutPlan } from '../rollout/rollout-plan';
import { buildRolloutSpec } from '../rollout/private/build-spec';
import { Steps } from '../rollout/steps';
import { ALB_MAX_TARGET_GROUPS, renderAlbForward } from '../core/routes/alb';
import {
  ENV_CONTROLLER_EKS_CA, ENV_CONTROLLER_EKS_CLUSTER, ENV_CONTROLLER_EKS_ENDPOINT, ENV_CONTROLLER_SCHEDULE_NAME, ENV_CONTROLLER_SSM_SPEC_PARAMETER,
  ENV_CONTROLLER_SSM_STATE_PARAMETER, specParameterName, stateParameterName,
} from '../core/constants';
import * as errors from '../core/errors';
import { MetricSpec, RolloutSpec } from '../core/spec';
import { AwsTarget, KubernetesBackend } from '../core/contract/target';
import { abortWeights } from '../core/weights';
import type { Environment } from '../k8s/environment';

/** Where the build puts the Lambda handler (see .projenrc.ts); the same path from src/ (tests) and lib/. */
export const LAMBDA_BUNDLE_DIR = path.join(__dirname, '..', '..', 'assets', 'controller', 'aws', 'handler');

const BUNDLE_ASSET_ID = 'ModelRolloutControllerBundle';

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

/** The EKS cluster whose workloads' replica floors the controller raises. */
export interface EksAccess {
  /** Cluster name. */
  readonly clusterName: string;
  /** API server endpoint. */
  readonly endpoint: string;
  /** Base64 certificate authority data. */
  readonly certificateAuthority: string;
}

/** Alarm thresholds on the canary's target group. */
export interface CanaryAlarmOptions {
  /**
   * Share of 5xx answers (0..1) above which the canary fails.
   * @default 0.02
   */
  readonly errorRate?: number;
  /**
   * p99 target response time above which the canary fails.
   * @default Duration.seconds(5)
   */
  readonly p99Latency?: Duration;
  /**
   * Consecutive one-minute periods over the threshold before the alarm fires.
   * @default 2
   */
  readonly evaluationPeriods?: number;
}

/** Props of an `AlbCanaryRollout`. */
export interface AlbCanaryRolloutProps {
  /** ARN of the existing ALB listener. */
  readonly listenerArn: string;
  /** VPC of the target groups. */
  readonly vpcId: string;
  /** Versions the rollout involves (stable and canaries). */
  readonly versions: AlbVersion[];
  /** The version serving now. */
  readonly stableVersion: string;
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
   * Target-group stickiness.
   * @default - none
   */
  readonly stickiness?: Duration;
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
   * @default - the Kubernetes environment's minimum, or 1
   */
  readonly stableReplicas?: number;
  /**
   * The Kubernetes environment serving these versions (through the bridge): the controller raises its
   * canaries' replica floors through the EKS API.
   * @default - floors not managed: the capacity gate only waits for healthy targets
   */
  readonly environment?: Environment;
  /**
   * EKS access for the floors (with `environment`).
   * @default - none
   */
  readonly eks?: EksAccess;
  /**
   * The rollout belongs to production: its resources carry `prevent_destroy`.
   * @default - true when `environment` is a production environment
   */
  readonly production?: boolean;
  /**
   * Opt out of `prevent_destroy` on production resources.
   * @default false
   */
  readonly allowDestroy?: boolean;
  /**
   * Log retention of the controller's log group, in days.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Name of the rollout (DNS-1123; target group names are `<name>-<version>`, 32 characters at most).
   */
  readonly name: string;
}

/**
 * A canary rollout behind an ALB: one target group per version, a listener rule whose forward action splits by
 * weight, and the step controller as a Lambda invoked every minute by EventBridge Scheduler, with its state in
 * SSM, CloudWatch alarms as checks, and least-privilege IAM. Composes into your own `TerraformStack`; creates no
 * provider or backend. `cdktf deploy` mid-rollout leaves the weights alone (the rule ignores changes to its action).
 */
export class AlbCanaryRollout extends Construct {
  /** The plan. */
  public readonly plan: RolloutPlan;
  /** Target groups by version. */
  public readonly targetGroups: { [version: string]: LbTargetGroup };
  /** The listener rule. */
  public readonly listenerRule: LbListenerRule;
  /** The controller function. */
  public readonly function: LambdaFunction;
  /** Size of the Lambda bundle in bytes. */
  public readonly bundleBytes: number;

  private readonly alarms: CloudwatchMetricAlarm[] = [];
  private readonly alarmRefs = new Map<CloudwatchMetricAlarm, { name: string; arn: string }>();
  private tgArns: Record<string, string> = {};
  private readonly baseSpec: RolloutSpec;

  constructor(scope: Construct, id: string, props: AlbCanaryRolloutProps) {
    super(scope, id);
    const p = this.node.path;
    const name = props.name;
    const involved = [props.stableVersion, ...props.canaries.map((c) => c.version)];
    if (involved.length > ALB_MAX_TARGET_GROUPS) throw errors.tooManyTargetGroups(p, 'canaries', involved.length, ALB_MAX_TARGET_GROUPS);
    this.baseSpec = buildRolloutSpec(p, {
      name,
      stable: props.stableVersion,
      canaries: props.canaries,
      steps: props.steps,
      stableReplicas: props.stableReplicas ?? Math.max(1, props.environment?.minReplicas ?? 1),
      versions: props.versions.map((v) => ({ name: v.name, gpusPerReplica: v.gpusPerReplica ?? 0 })),
      checks: props.checks,
      keepPreviousWarmSeconds: props.environment?.keepPreviousWarmFor?.toSeconds(),
    });
    const production = props.production ?? props.environment?.kind.isProduction ?? false;
    const protect = production && !(props.allowDestroy ?? false);
    const lifecycle = protect ? { preventDestroy: true } : undefined;

    // target groups and the weighted rule
    this.targetGroups = {};
    for (const v of props.versions.filter((x) => involved.includes(x.name))) {
      const tgName = `${name}-${v.name}`;
      if (tgName.length > 32) throw errors.targetGroupNameTooLong(p, 'name', tgName);
      this.targetGroups[v.name] = new LbTargetGroup(this, `TargetGroup${pascal(v.name)}`, {
        name: tgName,
        port: v.port ?? 8080,
        protocol: 'HTTP',
        targetType: 'ip',
        vpcId: props.vpcId,
        deregistrationDelay: '30',
        healthCheck: { path: v.healthPath ?? '/health', matcher: '200', interval: 15, healthyThreshold: 2, unhealthyThreshold: 3, timeout: 5 },
        lifecycle,
      });
    }
    // every `.arn` read creates a token (and cdktf captures a stack trace for each): read each one once
    const tgArns: Record<string, string> = Object.fromEntries(Object.entries(this.targetGroups).map(([v, tg]) => [v, tg.arn]));
    this.tgArns = tgArns;
    const target = (alarmNames: string[]): AwsTarget => ({
      kind: 'aws',
      listenerRuleArn: ruleArn,
      targetGroups: tgArns,
      stickinessSeconds: props.stickiness?.toSeconds(),
      alarmNames,
      workloads: props.environment ? { namespace: props.environment.namespace ?? 'default', backends: this.workloadBackends(props.environment, involved) } : undefined,
    });
    const conditions: LbListenerRuleCondition[] = [];
    if (props.hostHeaders?.length) conditions.push({ hostHeader: { values: props.hostHeaders } });
    if (props.pathPatterns?.length || !props.hostHeaders?.length) conditions.push({ pathPattern: { values: props.pathPatterns ?? ['/*'] } });
    const initial = renderAlbForward(this.baseSpec, {
      kind: 'aws', listenerRuleArn: '', alarmNames: [], stickinessSeconds: props.stickiness?.toSeconds(), targetGroups: tgArns,
    }, abortWeights(this.baseSpec));
    this.listenerRule = new LbListenerRule(this, 'Rule', {
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
      lifecycle: { ignoreChanges: ['action'], ...(lifecycle ?? {}) },
    });
    const ruleArn = this.listenerRule.arn;

    // alarms on every canary's target group
    const a = props.alarms ?? {};
    const lbSuffix = Fn.join('/', Fn.slice(Fn.split('/', props.listenerArn), 1, 4));
    for (const c of (props.defaultAlarms ?? true) ? props.canaries : []) {
      const tg = this.targetGroups[c.version];
      const dims = { TargetGroup: tg.arnSuffix, LoadBalancer: lbSuffix };
      this.alarms.push(new CloudwatchMetricAlarm(this, `ErrorRate${pascal(c.version)}`, {
        alarmName: `${name}-${c.version}-5xx-share`,
        alarmDescription: `Share of 5xx answers of canary ${c.version} (rollout ${name})`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: a.errorRate ?? 0.02,
        evaluationPeriods: a.evaluationPeriods ?? 2,
        treatMissingData: 'notBreaching',
        metricQuery: [
          { id: 'errors', metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', period: 60, stat: 'Sum', dimensions: dims } },
          { id: 'requests', metric: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', period: 60, stat: 'Sum', dimensions: dims } },
          { id: 'share', expression: 'IF(requests > 0, errors / requests, 0)', label: '5xx share', returnData: true },
        ],
      }));
      this.alarms.push(new CloudwatchMetricAlarm(this, `Latency${pascal(c.version)}`, {
        alarmName: `${name}-${c.version}-p99-latency`,
        alarmDescription: `p99 target response time of canary ${c.version} (rollout ${name})`,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: (a.p99Latency ?? Duration.seconds(5)).toMilliseconds() / 1000,
        evaluationPeriods: a.evaluationPeriods ?? 2,
        treatMissingData: 'notBreaching',
        namespace: 'AWS/ApplicationELB',
        metricName: 'TargetResponseTime',
        extendedStatistic: 'p99',
        period: 60,
        dimensions: dims,
      }));
    }

    // state and spec in SSM
    let specCache: string | undefined;
    const specDocument = () => {
      if (specCache) return specCache;
      const names = this.alarms.map((x) => this.alarmRef(x).name);
      const alarmChecks: MetricSpec[] = names.map((n) => ({ provider: 'cloudwatchAlarm', name: n, alarmName: n }));
      const spec: RolloutSpec = { ...this.baseSpec, checks: [...this.baseSpec.checks, ...alarmChecks] };
      specCache = JSON.stringify({ spec, target: target(names) });
      return specCache;
    };
    const specParam = new SsmParameter(this, 'Spec', {
      name: specParameterName(name),
      type: 'String',
      tier: 'Intelligent-Tiering',
      value: Lazy.stringValue({ produce: specDocument }),
      lifecycle,
    });
    const stateParam = new SsmParameter(this, 'State', {
      name: stateParameterName(name),
      type: 'String',
      value: '{}',
      // the controller owns the value: a deploy must never reset the rollout's progress
      lifecycle: { ignoreChanges: ['value'], ...(lifecycle ?? {}) },
    });

    // the controller
    if (!fs.existsSync(path.join(LAMBDA_BUNDLE_DIR, 'index.js'))) throw errors.bundleMissing(p, path.join(LAMBDA_BUNDLE_DIR, 'index.js'));
    this.bundleBytes = fs.statSync(path.join(LAMBDA_BUNDLE_DIR, 'index.js')).size;
    // one archive per stack, shared by every rollout in it (archiving spawns a process: once is enough)
    const stack = TerraformStack.of(this);
    const asset = (stack.node.tryFindChild(BUNDLE_ASSET_ID) as TerraformAsset | undefined)
      ?? new TerraformAsset(stack, BUNDLE_ASSET_ID, { path: LAMBDA_BUNDLE_DIR, type: AssetType.ARCHIVE });
    const functionName = `${name}-rollout-controller`;
    const scheduleName = `${name}-rollout-tick`;
    const logGroup = new CloudwatchLogGroup(this, 'Logs', { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays ?? 30 });
    const role = new IamRole(this, 'Role', {
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    });
    const [specArn, stateArn, logGroupArn] = [specParam.arn, stateParam.arn, logGroup.arn];
    // set below, once the schedule and its role exist (the policy renders at synth)
    let scheduleArn = '';
    let schedulerRoleArn = '';
    let policyCache: string | undefined;
    new IamRolePolicy(this, 'Policy', {
      role: role.name,
      policy: Lazy.stringValue({
        produce: () => policyCache ?? (policyCache = JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'ReadSpecAndState', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [specArn, stateArn] },
            { Sid: 'WriteState', Effect: 'Allow', Action: ['ssm:PutParameter'], Resource: [stateArn] },
            { Sid: 'MoveWeights', Effect: 'Allow', Action: ['elasticloadbalancing:ModifyRule'], Resource: [ruleArn] },
            // Describe* of ELBv2 support no resource-level permissions: "*" is the narrowest the API accepts
            { Sid: 'ReadRouting', Effect: 'Allow', Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth'], Resource: ['*'] },
            { Sid: 'ReadAlarms', Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: this.alarms.map((x) => this.alarmRef(x).arn) },
            { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${logGroupArn}:*`] },
            { Sid: 'StopTicking', Effect: 'Allow', Action: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'], Resource: [scheduleArn] },
            // UpdateSchedule passes the schedule's own role back to EventBridge Scheduler
            { Sid: 'KeepScheduleRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: [schedulerRoleArn], Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
          ].filter((s) => s.Resource.length > 0),
        })),
      }),
    });
    this.function = new LambdaFunction(this, 'Function', {
      functionName,
      role: role.arn,
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      timeout: 50,
      memorySize: 256,
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      environment: {
        variables: {
          [ENV_CONTROLLER_SCHEDULE_NAME]: scheduleName,
          [ENV_CONTROLLER_SSM_SPEC_PARAMETER]: specParam.name,
          [ENV_CONTROLLER_SSM_STATE_PARAMETER]: stateParam.name,
          ...(props.eks ? {
            [ENV_CONTROLLER_EKS_CLUSTER]: props.eks.clusterName,
            [ENV_CONTROLLER_EKS_ENDPOINT]: props.eks.endpoint,
            [ENV_CONTROLLER_EKS_CA]: props.eks.certificateAuthority,
          } : {}),
        },
      },
      dependsOn: [logGroup],
    });
    const schedulerRole = new IamRole(this, 'SchedulerRole', {
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    });
    new IamRolePolicy(this, 'SchedulerPolicy', {
      role: schedulerRole.name,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Tick', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [this.function.arn] }] }),
    });
    schedulerRoleArn = schedulerRole.arn;
    // ENABLED on every deploy; the controller disables it once the rollout is over (ticks only while one is active)
    const tickSchedule = new SchedulerSchedule(this, 'Tick', {
      name: scheduleName,
      state: 'ENABLED',
      scheduleExpression: 'rate(1 minute)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: { arn: this.function.arn, roleArn: schedulerRole.arn, retryPolicy: { maximumRetryAttempts: 0 } },
    });
    scheduleArn = tickSchedule.arn;

    if (props.environment) this.bindTargets(props.environment, involved, lifecycle);

    this.plan = RolloutPlan._fromSpec(this.baseSpec);
    this.node.addValidation({
      validate: () => {
        const gates = this.baseSpec.steps.some((s) => s.kind === 'analysis') || this.baseSpec.checks.length > 0;
        if (this.alarms.length === 0 && !gates) Annotations.of(this).addWarning(errors.noAlarmNoGate(p));
        // the plan goes beside the stack's Terraform JSON
        const app = this.node.root;
        if (app instanceof App) this.plan.writeFiles(path.join(app.outdir, 'stacks', TerraformStack.of(this).node.id));
        return [];
      },
    });
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

  /** Treat another alarm as a check: in ALARM, the canary fails. */
  public addAlarm(alarm: CloudwatchMetricAlarm): void {
    this.alarms.push(alarm);
  }

  private workloadBackends(env: Environment, versions: string[]): Record<string, KubernetesBackend> {
    const backends = Object.fromEntries(versions.map((v) => [v, env._ensureVersion(v)]));
    // the controller owns these floors: the Terraform bridge must not reset them
    for (const w of env.workloads) if (versions.some((v) => backends[v] === w._backend)) w._markFloorOwned();
    return backends;
  }

  /**
   * AWS Load Balancer Controller TargetGroupBindings: the versions' Services register their pods in the target
   * groups. Rendered as `kubernetes_manifest` resources (the binding needs the target group ARN).
   */
  private bindTargets(env: Environment, versions: string[], lifecycle: { preventDestroy: boolean } | undefined): void {
    for (const v of versions) {
      const backend = env._ensureVersion(v);
      new Manifest(this, `Binding${pascal(v)}`, {
        manifest: {
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name: backend.service, namespace: env.namespace ?? 'default' },
          spec: {
            serviceRef: { name: backend.service, port: backend.port },
            targetGroupARN: this.tgArns[v],
            targetType: 'ip',
          },
        },
        lifecycle,
      });
    }
  }
}

function pascal(s: string): string {
  return s.split(/[^a-zA-Z0-9]+/).filter(Boolean).map((x) => x[0].toUpperCase() + x.slice(1)).join('');
}
