/**
 * The AWS adapter: the controller's ports over SSM (spec, state, commands), ELBv2 (weights, target health)
 * and CloudWatch (alarms). See ../README.md for the IAM actions.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeRulesCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsTarget } from '../../core/contract/target';
import { renderAlbForward, weightsFromForward } from '../../core/routes/alb';
import { isRuntimeError, RolloutRuntimeError } from '../../core/runtime-errors';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState, MetricObservation } from '../../core/state';
import { Weights } from '../../core/weights';
import { Capacity, ConflictError, Metrics, StateStore, StoredRollout, TrafficRouter } from '../ports';

/** The state parameter's document. */
export interface StateDocument {
  readonly state?: ControllerState;
  /** Legacy single command slot (older CLIs). */
  readonly command?: Command;
  /** The command queue, oldest first (this CLI). */
  readonly commands?: Command[];
}

/** Spec and target in one SSM parameter (Terraform-owned); state and commands in another (controller and CLI). */
export class SsmStore implements StateStore {
  public spec?: RolloutSpec;
  public target?: AwsTarget;
  private doc: StateDocument = {};

  constructor(private readonly ssm: SSMClient, private readonly specParameter: string, private readonly stateParameter: string) {}

  public async read(): Promise<StoredRollout> {
    const [specOut, state] = await Promise.all([
      this.ssm.send(new GetParameterCommand({ Name: this.specParameter })),
      this.readState(),
    ]);
    const specDoc = JSON.parse(specOut.Parameter?.Value ?? '{}') as { spec?: RolloutSpec; target?: AwsTarget };
    if (!specDoc.spec || !specDoc.target) throw new Error(`SSM parameter ${this.specParameter} lacks "spec" or "target"`);
    this.spec = specDoc.spec;
    this.target = specDoc.target;
    this.doc = state.doc;
    const { state: st, command, commands } = this.doc;
    return { spec: this.spec, target: this.target, state: st, command, commands, version: state.version };
  }

  /**
   * PutParameter has no compare-and-swap. The version is read again right before writing (a command or a tick
   * that came between is a conflict, and nothing is overwritten), and the new version must be exactly one more
   * than the one read; anything else means another writer came between (a conflict). The commands written back
   * are the ones of that last read, so a command stored before it is kept.
   */
  public async writeState(state: ControllerState, version: string): Promise<string> {
    const fresh = await this.readState();
    if (fresh.version !== version) throw this.conflict(fresh.version, version);
    return this.put({ ...fresh.doc, state }, version);
  }

  public async currentVersion(): Promise<string> {
    return (await this.readState()).version;
  }

  /**
   * Append a command (the CLI): drop the handled ones, append with the next `seq`, write, then read back after
   * `settleMs` to check it is still there (or already handled): without compare-and-swap a concurrent writer can
   * overwrite it, and then it is written again. Resolves only once the command is stored.
   */
  public async appendCommand(kind: Command['kind'], id: string, at: number, attempts = 5, settleMs = 1500): Promise<Command> {
    let command: Command | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { doc, version } = await this.readState();
      const queue = doc.commands ?? [];
      if (command && (queue.some((c) => c.id === id) || (doc.state?.commandSeq ?? 0) >= command.seq!)) return command;
      const pending = [...queue, ...(doc.command ? [doc.command] : [])].filter((c) => !handledBy(c, doc.state));
      command = { id, kind, at, seq: Math.max(doc.state?.commandSeq ?? 0, ...queue.map((c) => c.seq ?? 0)) + 1 };
      try {
        await this.put({ state: doc.state, commands: [...pending, command] }, version);
      } catch (e) {
        if (!isRuntimeError(e, 'conflict')) throw e;
      }
      await new Promise((r) => setTimeout(r, settleMs));
    }
    const { doc } = await this.readState();
    if (command && ((doc.commands ?? []).some((c) => c.id === id) || (doc.state?.commandSeq ?? 0) >= command.seq!)) return command;
    throw new RolloutRuntimeError('conflict', `could not store the ${kind} command in ${this.stateParameter} after ${attempts} attempts: other writers keep coming between; try again`);
  }

  private async readState(): Promise<{ doc: StateDocument; version: string }> {
    const out = await this.ssm.send(new GetParameterCommand({ Name: this.stateParameter }));
    const raw = out.Parameter?.Value ?? '{}';
    return { doc: raw.trim().startsWith('{') ? JSON.parse(raw) as StateDocument : {}, version: String(out.Parameter?.Version ?? 0) };
  }

  private conflict(now: string | number | undefined, read: string): ConflictError {
    return new ConflictError(`SSM parameter ${this.stateParameter} is at version ${now}, expected ${Number(read) + 1}: another writer came between`);
  }

  private async put(doc: StateDocument, version: string): Promise<string> {
    const out = await this.ssm.send(new PutParameterCommand({ Name: this.stateParameter, Value: JSON.stringify(doc), Overwrite: true, Type: 'String' }));
    if (String(out.Version) !== String(Number(version) + 1)) throw this.conflict(out.Version, version);
    return String(out.Version);
  }
}

function handledBy(c: Command, state: ControllerState | undefined): boolean {
  if (!state) return false;
  return c.seq !== undefined ? c.seq <= (state.commandSeq ?? 0) : c.id === state.lastCommandId;
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
    private readonly floorsDelegate?: Pick<Capacity, 'setFloor' | 'scaleDown' | 'floors'>,
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

  public async setFloor(version: string, replicas: number): Promise<void> {
    await this.floorsDelegate?.setFloor(version, replicas);
  }

  public async scaleDown(version: string): Promise<void> {
    await this.floorsDelegate?.scaleDown(version);
  }
}

/** CloudWatch alarms as metrics: each alarm judges every canary (the constructs point it at the canary's target group). */
export class AlarmMetrics implements Metrics {
  constructor(private readonly cw: CloudWatchClient) {}

  public async measure(spec: RolloutSpec, versions: readonly string[]): Promise<Record<string, Record<string, MetricObservation>>> {
    const alarmMetrics = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))]
      .filter((m): m is Extract<typeof m, { provider: 'cloudwatchAlarm' }> => m.provider === 'cloudwatchAlarm');
    const names = [...new Set(alarmMetrics.map((m) => m.alarmName))];
    const observed: Record<string, MetricObservation> = {};
    if (names.length > 0) {
      try {
        const out = await this.cw.send(new DescribeAlarmsCommand({ AlarmNames: names }));
        const states = new Map((out.MetricAlarms ?? []).map((a) => [a.AlarmName, a.StateValue]));
        for (const m of alarmMetrics) observed[m.name] = { alarmState: (states.get(m.alarmName) as MetricObservation['alarmState']) ?? 'INSUFFICIENT_DATA' };
      } catch (e) {
        for (const m of alarmMetrics) observed[m.name] = { error: (e as Error).message };
      }
    }
    return Object.fromEntries(versions.map((v) => [v, { ...observed }]));
  }
}
