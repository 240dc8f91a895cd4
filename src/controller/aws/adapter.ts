/**
 * The AWS adapter: the controller's ports over SSM (spec), DynamoDB (state, commands), ELBv2 (weights, target health)
 * and CloudWatch (alarms). See ../README.md for the IAM actions.
 */
import { randomUUID } from 'crypto';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { DescribeRulesCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { STATE_TABLE_COMMAND_PARTITION, STATE_TABLE_STATE_PARTITION } from '../../core/constants';
import { AwsTarget } from '../../core/contract/target';
import { renderAlbForward, weightsFromForward } from '../../core/routes/alb';
import { RolloutRuntimeError } from '../../core/runtime-errors';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState, MetricObservation } from '../../core/state';
import { Weights } from '../../core/weights';
import { alarmNotFound, alarmUnreadable, specParameterIncomplete } from '../errors';
import { parseDocument } from '../parsed-document';
import { Capacity, ConflictError, Metrics, StateStore, StoredRollout, TrafficRouter } from '../ports';

/** The spec parameter's document (Terraform writes it): the spec, the target and where the state lives. */
export interface SpecDocument {
  readonly spec?: RolloutSpec;
  readonly target?: AwsTarget;
  /** The DynamoDB table of state and commands (the CLI finds it here). */
  readonly stateTable?: string;
  /** The controller's Lambda function: the CLI invokes it after storing a command (the schedule may be off). */
  readonly controllerFunction?: string;
}

/**
 * The table's items. Key: `pk` (string) and `sk` (number).
 * - the state: `pk = "state"`, `sk = 0`, with `version` (number, +1 per write), `state` (JSON) and `writer`
 *   (a token per write, to recognise our own write after an unknown outcome). Only the controller writes it.
 * - the commands: `pk = "command"`, `sk = seq` (1, 2, 3, ...), with `id`, `kind`, `at`. Only the CLI writes
 *   them, each once (`attribute_not_exists`); nobody rewrites or deletes them. The controller records the highest
 *   seq it handled in its state (`commandSeq`), so reading the commands after it is all a tick needs.
 */
const STATE_ITEM_KEY = { pk: { S: STATE_TABLE_STATE_PARTITION }, sk: { N: '0' } } as const;
const COMMAND_PARTITION = STATE_TABLE_COMMAND_PARTITION;

/** DynamoDB's answer to a write whose condition was false: nothing was written. */
function conditionFailed(e: unknown): boolean {
  // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#API_PutItem_Errors
  return (e as Error)?.name === 'ConditionalCheckFailedException';
}

/** `<state version>.<highest command seq>`: a new command or another state write changes it (the tick's fence). */
function versionOf(stateVersion: number, commandSeq: number): string {
  return `${stateVersion}.${commandSeq}`;
}

/**
 * Spec in SSM (Terraform-owned: a deploy never touches state), state and commands in DynamoDB with conditional
 * writes. Every read is strongly consistent (`ConsistentRead`): an eventually consistent read may return the
 * item as it was before the last write, and a version read that way would make a stale write look current.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
 */
export class DynamoStore implements StateStore {
  public spec?: RolloutSpec;
  public target?: AwsTarget;
  /** The spec document of the last `readSpec`, used once by the next `read`. */
  private primed?: Awaited<ReturnType<DynamoStore['readSpec']>>;

  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly ssm: SSMClient,
    private readonly specParameter: string,
    public readonly table: string,
    private readonly newToken: () => string = randomUUID,
  ) {}

  public async read(): Promise<StoredRollout> {
    // the spec document `readSpec` just read (the handler builds the router from it) serves the first read
    const primed = this.primed;
    this.primed = undefined;
    const [spec, stored] = await Promise.all([primed ?? this.readSpec(), this.readState()]);
    this.primed = undefined;
    this.spec = spec.spec;
    this.target = spec.target;
    const handled = stored.state?.commandSeq ?? 0;
    const commands = await this.commandsAfter(handled);
    const latest = Math.max(handled, ...commands.map((c) => c.seq ?? 0));
    return { spec: spec.spec, target: spec.target, state: stored.state, commands, version: versionOf(stored.version, latest) };
  }

  /** The spec document (spec, target, table). */
  public async readSpec(): Promise<{ spec: RolloutSpec; target: AwsTarget; stateTable?: string; controllerFunction?: string }> {
    const out = await this.ssm.send(new GetParameterCommand({ Name: this.specParameter }));
    const doc = parseDocument<SpecDocument>(out.Parameter?.Value ?? '{}');
    if (!doc.spec || !doc.target) throw specParameterIncomplete(this.specParameter);
    const read = { spec: doc.spec, target: doc.target, stateTable: doc.stateTable, controllerFunction: doc.controllerFunction };
    this.primed = read;
    return read;
  }

  /**
   * Write the state if its version is still the one read (`attribute_not_exists` for the first write). A failed
   * condition writes nothing and is a conflict. Any other failure may or may not have written (a timeout, a
   * lost response, an SDK retry of a write that had landed): the item is read again before deciding, and a write
   * carrying this call's token is a write, never "not written".
   */
  public async writeState(state: ControllerState, version: string): Promise<string> {
    const [stateVersion, commandSeq] = version.split('.').map(Number);
    const token = this.newToken();
    const next = stateVersion + 1;
    try {
      await this.ddb.send(new PutItemCommand({
        TableName: this.table,
        Item: { ...STATE_ITEM_KEY, version: { N: String(next) }, state: { S: JSON.stringify(state) }, writer: { S: token } },
        ...(stateVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: '#version = :read', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':read': { N: String(stateVersion) } } }),
      }));
    } catch (e) {
      const now = await this.readState();
      if (now.writer === token) return versionOf(next, commandSeq);
      if (conditionFailed(e) || now.version !== stateVersion) {
        throw new ConflictError(`DynamoDB table ${this.table}: the state is at version ${now.version}, this tick read ${stateVersion}: another writer came between`);
      }
      throw e;
    }
    return versionOf(next, commandSeq);
  }

  /** State version and highest command seq now (two strongly consistent reads). */
  public async currentVersion(): Promise<string> {
    const [stored, latest] = await Promise.all([this.readState(), this.latestCommandSeq()]);
    return versionOf(stored.version, Math.max(latest, stored.state?.commandSeq ?? 0));
  }

  /**
   * Store a command (the CLI) as the item after the highest one, written only if no item has that seq. Taken by
   * another CLI: the next seq. Any other failure: read the item back first (the write may have landed) and retry
   * the same seq, so a command is stored once. Resolves only once the command is stored.
   */
  public async appendCommand(kind: Command['kind'], id: string, at: number, attempts = 6): Promise<Command> {
    let seq: number | undefined;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (seq === undefined) {
        const [stored, latest] = await Promise.all([this.readState(), this.latestCommandSeq()]);
        seq = Math.max(latest, stored.state?.commandSeq ?? 0) + 1;
      }
      const command: Command = { id, kind, at, seq };
      try {
        await this.ddb.send(new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: COMMAND_PARTITION }, sk: { N: String(seq) }, id: { S: id }, kind: { S: kind }, at: { N: String(at) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }));
        return command;
      } catch (e) {
        lastError = e;
        const existing = await this.commandAt(seq);
        if (existing?.id === id) return command;
        if (existing) seq = undefined;
      }
    }
    throw new RolloutRuntimeError('conflict', `could not store the ${kind} command in DynamoDB table ${this.table} after ${attempts} attempts (${(lastError as Error)?.message}); nothing was stored, try again`);
  }

  private async readState(): Promise<{ state?: ControllerState; version: number; writer?: string }> {
    const out = await this.ddb.send(new GetItemCommand({ TableName: this.table, Key: { ...STATE_ITEM_KEY }, ConsistentRead: true }));
    const item = out.Item;
    if (!item) return { version: 0 };
    const state = item.state?.S ? JSON.parse(item.state.S) as ControllerState : undefined;
    return { state, version: Number(item.version?.N ?? 0), writer: item.writer?.S };
  }

  private async commandAt(seq: number): Promise<Command | undefined> {
    const Key = { pk: { S: COMMAND_PARTITION }, sk: { N: String(seq) } };
    const out = await this.ddb.send(new GetItemCommand({ TableName: this.table, Key, ConsistentRead: true }));
    return out.Item ? commandOf(out.Item) : undefined;
  }

  /** The highest command seq stored (0: none). */
  public async latestCommandSeq(): Promise<number> {
    const out = await this.ddb.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: COMMAND_PARTITION } },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }));
    return Number(out.Items?.[0]?.sk?.N ?? 0);
  }

  /** The commands after `handled`, oldest first (every page). */
  private async commandsAfter(handled: number): Promise<Command[]> {
    const commands: Command[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out: QueryCommandOutput = await this.ddb.send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk > :handled',
        ExpressionAttributeValues: { ':pk': { S: COMMAND_PARTITION }, ':handled': { N: String(handled) } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      commands.push(...(out.Items ?? []).map(commandOf));
      start = out.LastEvaluatedKey;
    } while (start);
    return commands;
  }
}

function commandOf(item: Record<string, AttributeValue>): Command {
  return { id: item.id?.S ?? '', kind: item.kind?.S as Command['kind'], at: Number(item.at?.N ?? 0), seq: Number(item.sk?.N) };
}

/** The listener rule as the router. */
export class ListenerRuleRouter implements TrafficRouter {
  constructor(private readonly elb: ElasticLoadBalancingV2Client, private readonly spec: RolloutSpec, private readonly target: AwsTarget) {}

  public async readWeights(): Promise<Weights | undefined> {
    const out = await this.elb.send(new DescribeRulesCommand({ RuleArns: [this.target.listenerRuleArn] }));
    const forward = out.Rules?.[0]?.Actions?.find((a) => a.Type === 'forward')?.ForwardConfig;
    if (!forward?.TargetGroups) return undefined;
    return weightsFromForward(this.spec, this.target, forward.TargetGroups);
  }

  public async setWeights(weights: Weights): Promise<void> {
    const forward = renderAlbForward(this.spec, this.target, weights);
    await this.elb.send(new ModifyRuleCommand({
      RuleArn: this.target.listenerRuleArn,
      Actions: [{
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: forward.TargetGroups.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight })),
          TargetGroupStickinessConfig: { ...forward.TargetGroupStickinessConfig },
        },
      }],
    }));
  }
}

/** Healthy targets per target group are the ready replicas; floors go to an optional delegate (EKS workloads). */
export class TargetGroupCapacity implements Capacity {
  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly target: AwsTarget,
    private readonly floorsDelegate?: Pick<Capacity, 'setFloor' | 'scaleDown' | 'floors' | 'lowestFloors'>,
  ) {}

  public async readyReplicas(versions: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(versions.map(async (v) => {
      const arn = this.target.targetGroups[v];
      if (!arn) return;
      const health = await this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      out[v] = (health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').length;
    }));
    return out;
  }

  public async floors(versions: readonly string[]): Promise<Record<string, number>> {
    return this.floorsDelegate?.floors ? this.floorsDelegate.floors(versions) : {};
  }

  public lowestFloors(versions: readonly string[]): Record<string, number> {
    return this.floorsDelegate?.lowestFloors?.(versions) ?? {};
  }

  public async setFloor(version: string, replicas: number): Promise<void> {
    await this.floorsDelegate?.setFloor(version, replicas);
  }

  public async scaleDown(version: string): Promise<void> {
    await this.floorsDelegate?.scaleDown(version);
  }
}

/** DescribeAlarms takes at most 100 names a call (`AlarmNames`, "Maximum number of 100 items"). */
const DESCRIBE_ALARMS_MAX_NAMES = 100;

/**
 * CloudWatch alarms as metrics: each alarm judges every canary (the constructs point it at the canary's target
 * group). Metric and composite alarms are both read: DescribeAlarms returns only metric alarms unless `AlarmTypes`
 * names `CompositeAlarm` too. An alarm that DescribeAlarms does not return (misspelled, deleted, in another region)
 * or cannot read (denied, throttled) is a measurement error, never "no data": the engine holds the weights and aborts
 * after `measurementErrorAbortSeconds`.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
 */
export class AlarmMetrics implements Metrics {
  constructor(private readonly cw: CloudWatchClient) {}

  public async measure(spec: RolloutSpec, versions: readonly string[]): Promise<Record<string, Record<string, MetricObservation>>> {
    const alarmMetrics = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))]
      .filter((m): m is Extract<typeof m, { provider: 'cloudwatchAlarm' }> => m.provider === 'cloudwatchAlarm');
    const names = [...new Set(alarmMetrics.map((m) => m.alarmName))];
    const observed: Record<string, MetricObservation> = {};
    if (names.length > 0) {
      try {
        const states = await this.alarmStates(names);
        for (const m of alarmMetrics) {
          const state = states.get(m.alarmName);
          observed[m.name] = state ? { alarmState: state as MetricObservation['alarmState'] } : { error: alarmNotFound(m.alarmName) };
        }
      } catch (e) {
        for (const m of alarmMetrics) observed[m.name] = { error: alarmUnreadable(m.alarmName, (e as Error).message) };
      }
    }
    return Object.fromEntries(versions.map((v) => [v, { ...observed }]));
  }

  /** State of every alarm named (metric and composite), by name: 100 names a call, every page. */
  private async alarmStates(names: readonly string[]): Promise<Map<string, string | undefined>> {
    const states = new Map<string, string | undefined>();
    for (let i = 0; i < names.length; i += DESCRIBE_ALARMS_MAX_NAMES) {
      let token: string | undefined;
      do {
        const out = await this.cw.send(new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + DESCRIBE_ALARMS_MAX_NAMES),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken: token,
        }));
        for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) if (a.AlarmName) states.set(a.AlarmName, a.StateValue);
        token = out.NextToken;
      } while (token);
    }
    return states;
  }
}
