/**
 * The AWS adapter: the controller's ports over SSM (spec, state, commands), ELBv2 (weights, target health)
 * and CloudWatch (alarms). See ../README.md for the IAM actions.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeRulesCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsTarget } from '../../core/contract/target';
import { renderAlbForward } from '../../core/routes/alb';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState, MetricObservation } from '../../core/state';
import { Weights } from '../../core/weights';
import { Capacity, ConflictError, Metrics, StateStore, StoredRollout, TrafficRouter } from '../ports';

/** The state parameter's document. */
export interface StateDocument {
  readonly state?: ControllerState;
  readonly command?: Command;
}

/** Spec and target in one SSM parameter (Terraform-owned); state and command in another (controller-owned). */
export class SsmStore implements StateStore {
  public spec?: RolloutSpec;
  public target?: AwsTarget;
  private doc: StateDocument = {};

  constructor(private readonly ssm: SSMClient, private readonly specParameter: string, private readonly stateParameter: string) {}

  public async read(): Promise<StoredRollout> {
    const [specOut, stateOut] = await Promise.all([
      this.ssm.send(new GetParameterCommand({ Name: this.specParameter })),
      this.ssm.send(new GetParameterCommand({ Name: this.stateParameter })),
    ]);
    const specDoc = JSON.parse(specOut.Parameter?.Value ?? '{}') as { spec?: RolloutSpec; target?: AwsTarget };
    if (!specDoc.spec || !specDoc.target) throw new Error(`SSM parameter ${this.specParameter} lacks "spec" or "target"`);
    this.spec = specDoc.spec;
    this.target = specDoc.target;
    const raw = stateOut.Parameter?.Value ?? '{}';
    this.doc = raw.trim().startsWith('{') ? JSON.parse(raw) as StateDocument : {};
    const version = String(stateOut.Parameter?.Version ?? 0);
    return { spec: this.spec, target: this.target, state: this.doc.state, command: this.doc.command, version };
  }

  /**
   * PutParameter has no compare-and-swap: write with Overwrite and check the new version is exactly one more
   * than the one read; anything else means another writer came between (a conflict).
   */
  public async writeState(state: ControllerState, version: string): Promise<void> {
    await this.put({ ...this.doc, state }, version);
  }

  /** Record a command (the CLI); the state and its version come from a fresh read. */
  public async writeCommand(command: Command): Promise<void> {
    const stored = await this.read();
    await this.put({ ...this.doc, command }, stored.version);
  }

  private async put(doc: StateDocument, version: string): Promise<void> {
    const out = await this.ssm.send(new PutParameterCommand({ Name: this.stateParameter, Value: JSON.stringify(doc), Overwrite: true, Type: 'String' }));
    if (String(out.Version) !== String(Number(version) + 1)) {
      throw new ConflictError(`SSM parameter ${this.stateParameter} is at version ${out.Version}, expected ${Number(version) + 1}: another writer came between`);
    }
  }
}

/** The listener rule as the router. */
export class ListenerRuleRouter implements TrafficRouter {
  constructor(private readonly elb: ElasticLoadBalancingV2Client, private readonly spec: RolloutSpec, private readonly target: AwsTarget) {}

  public async readWeights(): Promise<Weights | undefined> {
    const out = await this.elb.send(new DescribeRulesCommand({ RuleArns: [this.target.listenerRuleArn] }));
    const forward = out.Rules?.[0]?.Actions?.find((a) => a.Type === 'forward')?.ForwardConfig;
    if (!forward?.TargetGroups) return undefined;
    const byArn = new Map(Object.entries(this.target.targetGroups).map(([v, arn]) => [arn, v]));
    const weights: Weights = Object.fromEntries([this.spec.stable, ...this.spec.canaries.map((c) => c.version)].map((v) => [v, 0]));
    for (const tg of forward.TargetGroups) {
      const v = byArn.get(tg.TargetGroupArn ?? '');
      if (v && v in weights) weights[v] = tg.Weight ?? 0;
    }
    return weights;
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
