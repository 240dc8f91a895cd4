/**
 * Commands are handled in every phase on AWS: the CLI stores the command, then invokes the controller's function
 * (src/controller/cli/aws-backend.ts `invokeController`); the handler keeps its schedule enabled while the rollout
 * has work and disables it only once the rollout is settled with no command waiting (src/controller/aws/handler.ts).
 *
 * The world: the real Lambda tick (`runTick`) over the in-memory services of test/support (DynamoDB with
 * conditional writes, SSM, ELBv2, CloudWatch) and EventBridge Scheduler, whose schedule invokes the function once a
 * minute while ENABLED and not at all while DISABLED; `UpdateSchedule` replaces the schedule's state
 * (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html). An asynchronous `Invoke`
 * (InvocationType Event) queues one event that runs the function once
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoStore } from '../../../src/controller/aws/adapter';
import { AwsClients, runTick } from '../../../src/controller/aws/handler';
import { invokeController } from '../../../src/controller/cli/aws-backend';
import { AwsTarget } from '../../../src/core/contract/target';
import { equalSteps } from '../../../src/core/schedule';
import { RolloutSpec } from '../../../src/core/spec';
import { Command, ControllerState } from '../../../src/core/state';
import { FakeDynamoDB } from '../../support/aws-dynamodb-fake';
import { FakeSsm } from '../../support/aws-ssm-fake';
import { FakeCloudWatch, FakeElb } from '../../support/aws-world';

const MIN = 60_000;
const ALARM = 'llama-v2-5xx';
const SPEC = '/model-rollout/llama/spec';
const TABLE = 'model-rollout-llama';
const FUNCTION = 'llama-rollout-controller';
const target: AwsTarget = {
  kind: 'aws',
  listenerRuleArn: 'arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/1/2/3',
  targetGroups: { v1: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/v1/1', v2: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/v2/2' },
  alarmNames: [ALARM],
};

function specWith(targetWeight: number, keepPreviousWarmSeconds = 0): RolloutSpec {
  return {
    name: 'llama',
    path: 'Stack/Rollout',
    stable: 'v1',
    canaries: [{ version: 'v2', targetWeight, ramp: true }],
    versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }],
    steps: equalSteps(2, 120),
    stableReplicas: 2,
    checks: [{ provider: 'cloudwatchAlarm', name: ALARM, alarmName: ALARM }],
    checkFailureLimit: 0,
    progressDeadlineSeconds: 900,
    keepPreviousWarmSeconds,
    keepPreviousUntilSpecChanges: false,
  };
}

/** EventBridge Scheduler over one schedule: GetSchedule answers what the last UpdateSchedule set. */
class FakeScheduler {
  public state: 'ENABLED' | 'DISABLED' = 'ENABLED';
  /** Runs before GetSchedule answers (another client acting meanwhile). */
  public beforeGet?: () => Promise<void>;
  public async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const op = command.constructor.name.replace(/Command$/, '');
    if (op === 'GetSchedule') {
      await this.beforeGet?.();
      return { Name: command.input.Name, State: this.state, ScheduleExpression: 'rate(1 minute)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: 'arn:fn', RoleArn: 'arn:role' } };
    }
    if (op === 'UpdateSchedule') {
      this.state = command.input.State;
      return {};
    }
    throw new Error(`FakeScheduler: ${op} is not modelled`);
  }
}

class LambdaWorld {
  public now = 0;
  public invocations = 0;
  public readonly ddb = new FakeDynamoDB();
  public readonly ssm = new FakeSsm();
  public readonly elb: FakeElb;
  public readonly cw = new FakeCloudWatch({ [ALARM]: 'OK' });
  public readonly scheduler = new FakeScheduler();
  private readonly clients: AwsClients;
  private readonly env = { ROLLOUT_SSM_SPEC_PARAMETER: SPEC, ROLLOUT_DYNAMODB_TABLE: TABLE, ROLLOUT_SCHEDULE_NAME: 'llama-rollout-tick' };
  private readonly store: DynamoStore;
  /** The Lambda service as the CLI sees it: an Event invocation runs the function once, right away. */
  private readonly lambda = {
    send: async (c: { input: any }) => {
      if (c.input.FunctionName !== FUNCTION || c.input.InvocationType !== 'Event') throw new Error('unexpected invocation');
      await this.invoke(this.now + 5_000);
      return { StatusCode: 202 };
    },
  };

  constructor(spec: RolloutSpec) {
    this.ssm.parameters.set(SPEC, { value: JSON.stringify({ spec, target, stateTable: TABLE, controllerFunction: FUNCTION }), version: 1 });
    this.elb = new FakeElb(target, { v1: 2, v2: 2 }, { v1: 100 });
    this.clients = { ssm: this.ssm, dynamodb: this.ddb, elb: this.elb, cloudwatch: this.cw, scheduler: this.scheduler } as unknown as AwsClients;
    this.store = new DynamoStore(this.ddb as unknown as DynamoDBClient, this.ssm as unknown as SSMClient, SPEC, TABLE);
  }

  /** One minute: the schedule invokes the function if it is enabled. */
  public async minute(): Promise<void> {
    this.now += MIN;
    if (this.scheduler.state === 'ENABLED') await this.invoke(this.now);
  }

  /** Minutes until the schedule is off (the rollout settled), at most `max`. */
  public async untilScheduleOff(max = 20): Promise<void> {
    for (let i = 0; i < max && this.scheduler.state === 'ENABLED'; i++) await this.minute();
  }

  /** `model-rollout <kind> llama --aws`: store, then invoke (`wake: false`: stored only, as before the wake). */
  public async cli(kinds: ReadonlyArray<Command['kind']>, wake = true): Promise<void> {
    for (const kind of kinds) await this.store.appendCommand(kind, `${kind}-${this.now}`, this.now);
    if (wake) expect(await invokeController(this.lambda as never, FUNCTION)).toEqual({ ok: true, target: FUNCTION });
  }

  public state(): ControllerState {
    return JSON.parse(this.ddb.items(TABLE).find((i) => i.pk.S === 'state')!.state.S!);
  }

  public weights(): number[] {
    return [this.elb.weightOf(target.targetGroups.v1), this.elb.weightOf(target.targetGroups.v2)];
  }

  private async invoke(at: number): Promise<void> {
    this.invocations++;
    await runTick(this.clients, this.env, at, () => undefined);
  }
}

describe('AWS: a command stored by the CLI is handled in every phase', () => {
  test('retry after an abort: handled by the invocation the CLI makes, and the schedule ticks again', async () => {
    // GIVEN a rollout aborted by its alarm, ticked until settled: the schedule is off
    const w = new LambdaWorld(specWith(100));
    await w.minute();
    await w.minute();
    w.cw.alarms[ALARM] = 'ALARM';
    await w.untilScheduleOff();
    expect(w.state()).toMatchObject({ phase: 'aborted', settled: true });
    expect(w.scheduler.state).toBe('DISABLED');
    w.cw.alarms[ALARM] = 'OK';
    // WHEN the operator retries
    const before = w.invocations;
    await w.cli(['retry']);
    // THEN the invocation the CLI made handled it, and the schedule is back on for the restarted rollout
    expect(w.invocations).toBe(before + 1);
    expect(w.state().phase).toBe('progressing');
    expect(w.scheduler.state).toBe('ENABLED');
    await w.minute();
    await w.minute();
    expect(w.weights()[1]).toBeGreaterThan(0);
  });

  test('cancel of a completed 50/50 split: rolled back by the invocation the CLI makes', async () => {
    const w = new LambdaWorld(specWith(50));
    await w.untilScheduleOff();
    expect(w.state()).toMatchObject({ phase: 'completed', settled: true });
    expect(w.weights()).toEqual([50, 50]);
    await w.cli(['cancel']);
    expect(w.state().phase).toBe('aborted');
    expect(w.weights()).toEqual([100, 0]);
    // the schedule runs until the abort settled (the canary's scale-down), then stops again
    expect(w.scheduler.state).toBe('ENABLED');
    await w.untilScheduleOff();
    expect(w.state()).toMatchObject({ phase: 'aborted', settled: true });
  });

  test('a cancel and a retry stored before the same tick: the retry waits one tick behind the abort, on a schedule kept on', async () => {
    const w = new LambdaWorld(specWith(50));
    await w.untilScheduleOff();
    expect(w.state().phase).toBe('completed');
    // WHEN both are stored before the tick the CLI's invocation runs
    await w.cli(['cancel', 'retry']);
    // THEN that tick aborts and defers the retry: the schedule stays on, so the next minute handles it
    expect(w.state().phase).toBe('aborted');
    expect(w.weights()).toEqual([100, 0]);
    expect(w.scheduler.state).toBe('ENABLED');
    await w.minute();
    expect(w.state()).toMatchObject({ phase: 'progressing', commandSeq: 2 });
  });

  test('a command stored after a settling tick read the queue keeps the schedule on, even if its invocation is lost', async () => {
    // GIVEN a settled split whose schedule a deploy enabled again
    const w = new LambdaWorld(specWith(50));
    await w.untilScheduleOff();
    w.scheduler.state = 'ENABLED';
    // WHEN a cancel is stored while the next tick runs, after it read the queue (here: as it looks at its schedule),
    // and the CLI's invocation never arrives (throttled beyond the event's maximum age)
    w.scheduler.beforeGet = () => w.cli(['cancel'], false);
    await w.minute();
    w.scheduler.beforeGet = undefined;
    expect(w.state().phase).toBe('completed');
    // THEN that tick did not turn the schedule off, and the next minute's tick handles the cancel
    expect(w.scheduler.state).toBe('ENABLED');
    await w.minute();
    expect(w.state().phase).toBe('aborted');
  });

  test('rollback after promotion: within the keep-warm window v1 takes the traffic back; after it the cancel is refused, with the reason', async () => {
    // GIVEN a promoted rollout whose previous version stays warm 10 minutes: the schedule keeps ticking meanwhile
    const warm = new LambdaWorld(specWith(100, 600));
    await warm.minute();
    for (let i = 0; i < 8 && warm.state().phase !== 'promoted'; i++) await warm.minute();
    expect(warm.state().phase).toBe('promoted');
    expect(warm.weights()).toEqual([0, 100]);
    expect(warm.scheduler.state).toBe('ENABLED');
    // WHEN the operator rolls back within the window
    await warm.cli(['cancel']);
    // THEN v1 takes the traffic back at once (it is warm), and the rollout ends aborted
    expect(warm.state()).toMatchObject({ phase: 'aborted', servingVersion: 'v1' });
    expect(warm.weights()).toEqual([100, 0]);
    // AND after the window: v1 scaled down, the rollout settled, the schedule off; a cancel wakes it and is refused
    const cold = new LambdaWorld(specWith(100, 600));
    await cold.untilScheduleOff(30);
    expect(cold.state()).toMatchObject({ phase: 'promoted', previousScaledDown: true, settled: true });
    await cold.cli(['cancel']);
    expect(cold.state()).toMatchObject({ phase: 'promoted', commandSeq: 1 });
    expect(cold.weights()).toEqual([0, 100]);
    expect(cold.state().history!.at(-1)!.reason).toMatch(/cancel ignored: the rollout is promoted and v2 serves; v1 was scaled down when its keep-warm window ended/);
  });
});
