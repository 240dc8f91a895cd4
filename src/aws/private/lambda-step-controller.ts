/**
 * The step controller on AWS: a Lambda (the bundled handler) invoked every minute by EventBridge Scheduler, the
 * rollout's spec in an SSM parameter (Terraform writes it), its state and commands in a DynamoDB table (conditional
 * writes; Terraform creates the table and never writes an item), a log group, and least-privilege IAM for exactly
 * the calls the handler makes. The handler disables its schedule once the rollout is settled (nothing left to do)
 * and enables it again when a tick finds work (the CLI invokes the function after storing a command); every deploy
 * enables it too.
 *
 * One table per rollout rather than one shared table keyed by rollout: the Lambda's policy names one table ARN
 * (no `dynamodb:LeadingKeys` condition to get right), the table's deletion protection and point-in-time recovery
 * follow the rollout's `destroyProtection`, and destroying a rollout removes its table. On-demand billing costs
 * nothing while the rollout is idle.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { Duration } from 'cdk8s';
import { AssetType, Lazy, TerraformAsset, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import {
  ENV_CONTROLLER_AWS_DNS_SUFFIX, ENV_CONTROLLER_DYNAMODB_TABLE, ENV_CONTROLLER_EKS_CA, ENV_CONTROLLER_EKS_CLUSTER, ENV_CONTROLLER_EKS_ENDPOINT,
  ENV_CONTROLLER_SCHEDULE_NAME, ENV_CONTROLLER_SSM_SPEC_PARAMETER, LABEL_MANAGED_BY, MANAGED_BY, controllerFunctionName, specParameterName,
  STATE_TABLE_COMMAND_PARTITION, STATE_TABLE_STATE_PARTITION, stateTableName,
} from '../../core/constants';
import { KubernetesBackend } from '../../core/contract/target';
import { workloadPolicyRules } from '../../k8s/private/rbac';
import { lambdaPackage, readBundle } from '../../private/bundles';
import { EksAccess, LambdaVpcOptions } from '../options';


/** Props of a `LambdaStepController`. */
export interface LambdaStepControllerProps {
  /** Name of the rollout: the function is `<name>-rollout-controller`, the schedule `<name>-rollout-tick`. */
  readonly name: string;
  /** The spec document (spec and target as JSON), rendered late. */
  readonly specDocument: () => string;
  /** The listener rule whose action the controller modifies. */
  readonly ruleArn: string;
  /** ARNs of the alarms the controller reads, rendered late. */
  readonly alarmArns: () => string[];
  /** Names of alarms the spec's checks and gates name (not created here), rendered late. */
  readonly checkedAlarmNames: () => string[];
  readonly eks?: EksAccess;
  /** The versions' workloads whose floors the controller sets through the EKS API (with `eks`). */
  readonly workloads?: { readonly namespace: string; readonly backends: { [version: string]: KubernetesBackend } };
  /**
   * Retention of the function's logs (with the default `logGroup`).
   * @default Duration.days(30)
   */
  readonly logRetention?: Duration;
  readonly lifecycle?: { preventDestroy: boolean };
  /**
   * The function's execution role. It must trust `lambda.amazonaws.com`; the controller's least-privilege policy is
   * attached to it as an inline policy.
   * @default - a new role that only Lambda may assume
   */
  readonly role?: IamRole;
  /**
   * The log group the function writes to (its JSON log lines).
   * @default - a new log group `/aws/lambda/<name>-rollout-controller`, kept `logRetention`
   */
  readonly logGroup?: CloudwatchLogGroup;
  /**
   * Concurrency reserved for the function (`reserved_concurrent_executions`).
   * @default - none: the account's unreserved pool
   */
  readonly reservedConcurrency?: number;
}

/** One archive per stack, shared by every rollout in it (archiving spawns a process: once is enough). */
const BUNDLE_ASSET_ID = 'ModelRolloutControllerBundle';

/** The account, partition and region the controller's ARNs are built in. */
interface AwsContext {
  readonly account: string;
  readonly partition: string;
  readonly region: string;
  /** The partition's DNS suffix (`amazonaws.com`, `amazonaws.com.cn`, ...): the hosts the Lambda signs for. */
  readonly dnsSuffix: string;
}

export class LambdaStepController extends Construct {
  public readonly function: LambdaFunction;
  /** The function's execution role (given or created). */
  public readonly role: IamRole;
  /** The function's log group (given or created). */
  public readonly logGroup: CloudwatchLogGroup;
  /** The table of the controller's state and the CLI's commands. */
  public readonly stateTable: DynamodbTable;
  /** Size of the Lambda bundle in bytes. */
  public readonly bundleBytes: number;
  private readonly functionName: string;
  private readonly scheduleName: string;
  /** The schedule's role, passed back to EventBridge Scheduler on UpdateSchedule; set once it exists. */
  private schedulerRoleArn = '';

  constructor(scope: Construct, id: string, props: LambdaStepControllerProps) {
    super(scope, id);
    this.functionName = controllerFunctionName(props.name);
    this.scheduleName = `${props.name}-rollout-tick`;
    const specParameter = new SsmParameter(this, 'Spec', {
      name: specParameterName(props.name),
      type: 'String',
      tier: 'Intelligent-Tiering',
      value: Lazy.stringValue({ produce: props.specDocument }),
      lifecycle: props.lifecycle,
    });
    this.stateTable = this.createStateTable(props.name, props.lifecycle);
    this.bundleBytes = readBundle('lambda', this.node.path).bytes;
    const asset = bundleAsset(this);
    this.logGroup = props.logGroup ?? new CloudwatchLogGroup(this, 'Logs', {
      name: `/aws/lambda/${this.functionName}`,
      retentionInDays: (props.logRetention ?? Duration.days(30)).toDays(),
    });
    const partition = new DataAwsPartition(this, 'Partition');
    const aws: AwsContext = {
      account: new DataAwsCallerIdentity(this, 'Account').accountId,
      partition: partition.partition,
      region: new DataAwsRegion(this, 'Region').region,
      dnsSuffix: partition.dnsSuffix,
    };
    this.role = props.role ?? new IamRole(this, 'Role', {
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    });
    this.grantController(props, aws, specParameter.arn);
    this.function = this.createFunction(props, asset, specParameter.name, aws.dnsSuffix);
    new TerraformOutput(this, 'OperatorPolicy', { value: operatorPolicy(specParameter.arn, this.stateTable.arn), description: `IAM policy of the people and CI running model-rollout --aws on the ${props.name} rollout` })
      .overrideLogicalId(`${props.name.replace(/-/g, '_')}_operator_policy`);
    // a failed or throttled tick is not retried and a late one is dropped: the next minute's tick decides again
    // from fresh observations (Lambda retries async invocations twice by default, up to 6 hours later)
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    new LambdaFunctionEventInvokeConfig(this, 'AsyncInvoke', {
      functionName: this.function.functionName,
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 60,
    });
    if (props.eks && props.workloads) this.grantKubernetes(props.eks, props.workloads, this.role.arn, props.lifecycle);
    if (props.eks?.vpc?.clusterSecurityGroupId) this.openClusterEndpoint(props.eks.vpc);
    this.createSchedule(aws.account);
  }

  /**
   * Terraform creates the table and never writes an item: a deploy cannot reset the rollout's progress. The state
   * item (pk "state", sk 0) is written by the controller under a version condition, the command items (pk
   * "command", sk = seq) by the CLI, each once; see src/controller/aws/adapter.ts.
   */
  private createStateTable(name: string, lifecycle: LambdaStepControllerProps['lifecycle']): DynamodbTable {
    const table = new DynamodbTable(this, 'StateTable', {
      name: stateTableName(name),
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'pk',
      rangeKey: 'sk',
      attribute: [{ name: 'pk', type: 'S' }, { name: 'sk', type: 'N' }],
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: lifecycle?.preventDestroy === true,
      lifecycle,
    });
    // the CLI finds the table through the spec parameter; the output, named after the rollout (unique like its
    // other names), is for people and scripts: `terraform output <name>_state_table`
    new TerraformOutput(this, 'StateTableName', { value: table.name, description: `DynamoDB table of the ${name} rollout's state and commands` })
      .overrideLogicalId(`${name.replace(/-/g, '_')}_state_table`);
    return table;
  }

  /** Least privilege: exactly the calls the handler makes, on the resources of this rollout. */
  private grantController(props: LambdaStepControllerProps, aws: AwsContext, specArn: string): void {
    const { account, partition, region } = aws;
    // built as a string, not from the schedule resource: the policy must exist before the schedule first fires
    const scheduleArn = `arn:${partition}:scheduler:${region}:${account}:schedule/default/${this.scheduleName}`;
    const alarmArn = (n: string) => `arn:${partition}:cloudwatch:${region}:${account}:alarm:${n}`;
    const [tableArn, logGroupArn] = [this.stateTable.arn, this.logGroup.arn];
    let policyCache: string | undefined;
    new IamRolePolicy(this, 'Policy', {
      role: this.role.name,
      policy: Lazy.stringValue({
        produce: () => policyCache ?? (policyCache = JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'ReadSpec', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [specArn] },
            // exactly the calls of DynamoStore: GetItem (state, a command after an unknown outcome), Query (commands),
            // PutItem (state, under a condition); no UpdateItem, DeleteItem or Scan
            { Sid: 'ReadStateAndCommands', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [tableArn] },
            // the controller writes the state item only: the command items (pk "command") are the operators'
            // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
            { Sid: 'WriteState', Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [tableArn], Condition: leadingKeys(STATE_TABLE_STATE_PARTITION) },
            { Sid: 'MoveWeights', Effect: 'Allow', Action: ['elasticloadbalancing:ModifyRule'], Resource: [props.ruleArn] },
            // Describe* of ELBv2 support no resource-level permissions: "*" is the narrowest the API accepts
            { Sid: 'ReadRouting', Effect: 'Allow', Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth'], Resource: ['*'] },
            // every alarm the spec judges: the rollout's own and those its checks and gates name (a denied read
            // would leave a failing canary unjudged)
            { Sid: 'ReadAlarms', Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: [...props.alarmArns(), ...props.checkedAlarmNames().map(alarmArn)] },
            { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${logGroupArn}:*`] },
            { Sid: 'StopTicking', Effect: 'Allow', Action: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'], Resource: [scheduleArn] },
            // UpdateSchedule passes the schedule's own role back to EventBridge Scheduler
            ...vpcStatements(props.eks?.vpc, aws),
            { Sid: 'KeepScheduleRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: [this.schedulerRoleArn], Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
          ].filter((s) => s.Resource.length > 0),
        })),
      }),
    });
  }

  private createFunction(props: LambdaStepControllerProps, asset: TerraformAsset, specParameter: string, dnsSuffix: string): LambdaFunction {
    return new LambdaFunction(this, 'Function', {
      functionName: this.functionName,
      role: this.role.arn,
      // No reserved concurrency by default: reserving even 1 fails the deploy in an account whose concurrency quota
      // leaves less than the unreserved minimum (new accounts). Two ticks side by side (EventBridge Scheduler delivers
      // at least once) lose and revive nothing: each writes the state under the version it read (DynamoStore), so
      // the later writer is a conflict. One window stays: a tick past its fence may still send its weights after
      // another stored an abort, and the aborted canary has traffic until the next tick sends the abort weights
      // again (test/controller/aws/races.test.ts, "without reserved concurrency"); `reservedConcurrency: 1` closes it.
      // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
      reservedConcurrentExecutions: props.reservedConcurrency,
      vpcConfig: props.eks?.vpc ? { subnetIds: props.eks.vpc.subnetIds, securityGroupIds: props.eks.vpc.securityGroupIds } : undefined,
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      timeout: 50,
      memorySize: 256,
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      environment: {
        variables: {
          [ENV_CONTROLLER_SCHEDULE_NAME]: this.scheduleName,
          [ENV_CONTROLLER_SSM_SPEC_PARAMETER]: specParameter,
          [ENV_CONTROLLER_DYNAMODB_TABLE]: this.stateTable.name,
          [ENV_CONTROLLER_AWS_DNS_SUFFIX]: dnsSuffix,
          ...(props.eks ? {
            [ENV_CONTROLLER_EKS_CLUSTER]: props.eks.clusterName,
            [ENV_CONTROLLER_EKS_ENDPOINT]: props.eks.endpoint,
            [ENV_CONTROLLER_EKS_CA]: props.eks.certificateAuthority,
          } : {}),
        },
      },
      dependsOn: [this.logGroup],
    });
  }

  /** The minute tick: ENABLED on every deploy; the controller disables it once the rollout is over. */
  private createSchedule(account: string): void {
    // only schedules of this account may use the role (the confused-deputy guard EventBridge Scheduler documents)
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    const schedulerRole = new IamRole(this, 'SchedulerRole', {
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': account } } }],
      }),
    });
    const schedulerPolicy = new IamRolePolicy(this, 'SchedulerPolicy', {
      role: schedulerRole.name,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Tick', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [this.function.arn] }] }),
    });
    this.schedulerRoleArn = schedulerRole.arn;
    new SchedulerSchedule(this, 'Tick', {
      name: this.scheduleName,
      state: 'ENABLED',
      scheduleExpression: 'rate(1 minute)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: { arn: this.function.arn, roleArn: schedulerRole.arn, retryPolicy: { maximumRetryAttempts: 0 } },
      // the first tick must find its permission to invoke the function
      dependsOn: [schedulerPolicy],
    });
  }

  /**
   * The cluster's private endpoint accepts HTTPS from the function's security groups: one ingress rule on the
   * cluster security group per group of the function (the endpoint's network interfaces carry the cluster security
   * group, and EKS lets in only what it allows).
   * @see https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html
   * @see https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
   */
  private openClusterEndpoint(vpc: LambdaVpcOptions): void {
    vpc.securityGroupIds.forEach((sg, i) => new VpcSecurityGroupIngressRule(this, `EndpointFromController${i}`, {
      securityGroupId: vpc.clusterSecurityGroupId!,
      referencedSecurityGroupId: sg,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: `EKS API from the ${this.functionName} Lambda`,
    }));
  }

  /**
   * The controller's Kubernetes identity: an EKS access entry maps its IAM role to a group, and a namespaced Role
   * bound to that group allows exactly the reads and patches of the rollout's workloads (by name), like the
   * in-cluster controller's Role.
   * @see https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
   */
  private grantKubernetes(eks: EksAccess, workloads: NonNullable<LambdaStepControllerProps['workloads']>, roleArn: string, lifecycle?: { preventDestroy: boolean }): void {
    const group = `model-rollout:${this.functionName}`;
    new EksAccessEntry(this, 'AccessEntry', {
      clusterName: eks.clusterName,
      principalArn: roleArn,
      type: 'STANDARD',
      kubernetesGroups: [group],
      lifecycle,
    });
    const metadata = { name: this.functionName, namespace: workloads.namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } };
    new Manifest(this, 'KubernetesRole', {
      manifest: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: workloadPolicyRules(Object.values(workloads.backends)) },
      lifecycle,
    });
    new Manifest(this, 'KubernetesRoleBinding', {
      manifest: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.functionName },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
      },
      lifecycle,
    });
  }
}

/**
 * The Lambda's deployment package: the zip the build made (projenrc/zip-bundle.js), copied as a file and shared by
 * every rollout of the stack. cdktf's ARCHIVE type would zip the folder on every synthesis through a child node
 * process (cdktf lib/private/fs.js `archiveSync`).
 */
function bundleAsset(scope: Construct): TerraformAsset {
  const stack = TerraformStack.of(scope);
  return (stack.node.tryFindChild(BUNDLE_ASSET_ID) as TerraformAsset | undefined)
    ?? new TerraformAsset(stack, BUNDLE_ASSET_ID, { path: lambdaPackage(scope.node.path), type: AssetType.FILE });
}

/** An IAM condition that lets a DynamoDB write touch items of one partition key only. */
function leadingKeys(pk: string) {
  return { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [pk] } };
}

/**
 * What `model-rollout --aws` needs on one rollout: the spec parameter, the state and command reads, and writes of
 * command items only (never the controller's state). Attach it to the operators' role or CI.
 */
function operatorPolicy(specArn: string, tableArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'ReadSpec', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [specArn] },
      { Sid: 'ReadStateAndCommands', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [tableArn] },
      { Sid: 'WriteCommands', Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [tableArn], Condition: leadingKeys(STATE_TABLE_COMMAND_PARTITION) },
    ],
  });
}

/**
 * The network interfaces Lambda creates for a function in a VPC, with the actions of the AWS managed policy
 * AWSLambdaVPCAccessExecutionRole (but its log actions, granted above), scoped as far as IAM allows: the two
 * Describe calls accept only "*"; CreateNetworkInterface names the function's subnets and security groups and the
 * region's network interfaces; DeleteNetworkInterface takes the account's resources as the Lambda guide documents
 * ("Either specify a unique resource ID, or include all resource IDs"). Without them Lambda refuses to create the
 * function ("does not have permissions to call CreateNetworkInterface on EC2").
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
 * @see https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 */
function vpcStatements(vpc: LambdaVpcOptions | undefined, aws: AwsContext) {
  if (!vpc) return [];
  const ec2 = (resource: string) => `arn:${aws.partition}:ec2:${aws.region}:${aws.account}:${resource}`;
  return [
    { Sid: 'VpcDescribe', Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: ['*'] },
    {
      Sid: 'VpcCreateInterfaces',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [ec2('network-interface/*'), ...vpc.subnetIds.map((id) => ec2(`subnet/${id}`)), ...vpc.securityGroupIds.map((id) => ec2(`security-group/${id}`))],
    },
    { Sid: 'VpcManageInterfaces', Effect: 'Allow', Action: ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'], Resource: [ec2('network-interface/*')] },
    { Sid: 'VpcDeleteInterfaces', Effect: 'Allow', Action: ['ec2:DeleteNetworkInterface'], Resource: [ec2('*/*')] },
  ];
}
