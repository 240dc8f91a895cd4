/**
 * `model-rollout ... --aws` (src/controller/cli/main.ts `awsBackend`) against the SSM and DynamoDB fakes, reached
 * through the real SDK clients the CLI builds (aws-sdk-client-mock forwards each command to the fake).
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStore } from '../../../src/controller/aws/adapter';
import { main } from '../../../src/controller/cli/main';
import { tick } from '../../../src/controller/tick';
import { AwsTarget } from '../../../src/core/contract/target';
import { ControllerState } from '../../../src/core/state';
import { FakeDynamoDB } from '../../support/aws-dynamodb-fake';
import { FakeSsm } from '../../support/aws-ssm-fake';
import { RolloutWorld } from '../../support/rollout-world';
import { rolloutSpec } from '../../support/spec-fixture';

const SPEC = '/model-rollout/llama-production/spec';
// not the conventional name: the CLI must take it from the spec parameter
const TABLE = 'rollout-state-from-spec';
const target: AwsTarget = { kind: 'aws', listenerRuleArn: 'arn:rule', targetGroups: { v1: 'arn:tg1', v2: 'arn:tg2' }, alarmNames: [] };

describe('model-rollout --aws', () => {
  const ddbMock = mockClient(DynamoDBClient);
  const ssmMock = mockClient(SSMClient);
  // Lambda's Invoke with InvocationType Event answers 202 once the event is queued
  // (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)
  const lambdaMock = mockClient(LambdaClient);
  let ddb: FakeDynamoDB;
  let ssm: FakeSsm;

  beforeEach(() => {
    ddb = new FakeDynamoDB({ staleReads: true });
    ssm = new FakeSsm();
    ssm.parameters.set(SPEC, { value: JSON.stringify({ spec: rolloutSpec({ name: 'llama-production' }), target, stateTable: TABLE }), version: 1 });
    ddbMock.reset();
    ssmMock.reset();
    ddbMock.on(GetItemCommand).callsFake((input) => ddb.send(new GetItemCommand(input)));
    ddbMock.on(PutItemCommand).callsFake((input) => ddb.send(new PutItemCommand(input)));
    ddbMock.on(QueryCommand).callsFake((input) => ddb.send(new QueryCommand(input)));
    ssmMock.on(GetParameterCommand).callsFake((input) => ssm.send(new GetParameterCommand(input)));
    lambdaMock.reset();
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  });

  test('cancel stores a command item in the table the spec parameter names, written only if new', async () => {
    // GIVEN a rollout the controller has ticked
    const store = new DynamoStore(ddb as unknown as DynamoDBClient, ssm as unknown as SSMClient, SPEC, TABLE);
    await store.writeState({ phase: 'progressing', stepIndex: 2, stepStartedAt: 0, weights: { v1: 90, v2: 10 }, updatedAt: 0 } as unknown as ControllerState, '0.0');
    let text = '';
    // WHEN
    const code = await main(['cancel', 'llama-production', '--aws', '--region', 'eu-west-1'], {}, (s) => { text += s; });
    // THEN
    expect(code).toBe(0);
    expect(text).toMatch(/^cancel: stored as #1 \(/);
    const commands = ddb.items(TABLE).filter((i) => i.pk.S === 'command');
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({ sk: { N: '1' }, kind: { S: 'cancel' } });
    expect(ddbMock.commandCalls(PutItemCommand)[0].args[0].input.ConditionExpression).toBe('attribute_not_exists(pk)');
    // the state item is untouched: only the controller writes it
    expect(ddb.items(TABLE).find((i) => i.pk.S === 'state')!.version).toEqual({ N: '1' });
  });

  test('retry after an abort, end to end over the table: cancel, tick, retry, tick restarts from the first step', async () => {
    // GIVEN a rollout at 10 % whose ticks read and write the DynamoDB store (the world stands in for ELB and replicas)
    const spec = rolloutSpec({ name: 'llama-production' });
    const world = new RolloutWorld(spec, { coldStartMs: 0 });
    const store = new DynamoStore(ddb as unknown as DynamoDBClient, ssm as unknown as SSMClient, SPEC, TABLE);
    const ports = { ...world.ports(), store };
    for (let i = 0; i < 3; i++) { await tick(ports, world.now); world.now += 60_000; }
    expect(world.router.v2).toBeGreaterThan(0);
    const quiet = () => undefined;
    // WHEN the operator cancels through the CLI, a tick aborts, and then the operator retries
    expect(await main(['cancel', 'llama-production', '--aws'], {}, quiet)).toBe(0);
    await tick(ports, world.now); world.now += 60_000;
    expect((await store.read()).state).toMatchObject({ phase: 'aborted' });
    expect(world.router.v2).toBe(0);
    expect(await main(['retry', 'llama-production', '--aws'], {}, quiet)).toBe(0);
    for (let i = 0; i < 2; i++) { await tick(ports, world.now); world.now += 60_000; }
    // THEN the rollout runs again from its first step, within the plan (the first step's weight at most)
    const after = (await store.read()).state!;
    expect(after.phase).toBe('progressing');
    expect(after.stepIndex).toBeLessThanOrEqual(1);
    expect(world.router.v2).toBeGreaterThan(0);
    const first = spec.steps.find((st): st is Extract<typeof st, { kind: 'setWeight' }> => st.kind === 'setWeight')!;
    expect(world.router.v2).toBeLessThanOrEqual(first.weight);
    const kinds = ddb.items(TABLE).filter((i) => i.pk.S === 'command').map((i) => i.kind.S);
    expect(kinds).toEqual(['cancel', 'retry']);
  });

  test('status reads the state from the table', async () => {
    const store = new DynamoStore(ddb as unknown as DynamoDBClient, ssm as unknown as SSMClient, SPEC, TABLE);
    await store.writeState({ phase: 'aborted', stepIndex: 2, stepStartedAt: 0, weights: { v1: 100, v2: 0 }, updatedAt: 0, reason: 'cancelled by command' } as unknown as ControllerState, '0.0');
    let text = '';
    const code = await main(['status', 'llama-production', '--aws', '-o', 'json'], {}, (s) => { text += s; });
    expect(code).toBe(3);
    expect(JSON.parse(text)).toMatchObject({ rollout: 'llama-production', phase: 'aborted', weights: { v1: 100, v2: 0 } });
  });

  test('--state-parameter (the old SSM state) is refused as an unknown option, and --help no longer offers it', async () => {
    // WHEN the removed option is given
    let text = '';
    const code = await main(['cancel', 'llama-production', '--aws', '--state-parameter', '/old'], {}, (s) => { text += s; });
    // THEN a usage error names it, and nothing was stored
    expect(code).toBe(2);
    expect(text).toMatch(/model-rollout: Unknown option '--state-parameter'/);
    expect(ddbMock.commandCalls(PutItemCommand)).toHaveLength(0);
    let help = '';
    await main(['cancel', '--help'], {}, (s) => { help += s; });
    expect(help).toContain('--spec-parameter');
    expect(help).not.toContain('--state-parameter');
  });

  describe('the command wakes the controller (its schedule is off once the rollout settled)', () => {
    const write = (state: Partial<ControllerState>) => new DynamoStore(ddb as unknown as DynamoDBClient, ssm as unknown as SSMClient, SPEC, TABLE)
      .writeState({ stepIndex: 10, stepStartedAt: 0, floors: {}, checkFailures: 0, updatedAt: 0, ...state } as ControllerState, '0.0');

    test('after storing, the CLI invokes the function the spec parameter names, asynchronously, and says so', async () => {
      // GIVEN an aborted, settled rollout whose spec document names its function
      ssm.parameters.set(SPEC, { value: JSON.stringify({ spec: rolloutSpec({ name: 'llama-production' }), target, stateTable: TABLE, controllerFunction: 'fn-from-spec' }), version: 2 });
      await write({ phase: 'aborted', weights: { v1: 100, v2: 0 }, settled: true });
      let text = '';
      // WHEN
      const code = await main(['retry', 'llama-production', '--aws'], {}, (s) => { text += s; });
      // THEN stored first, then one Event invocation of that function
      expect(code).toBe(0);
      const invokes = lambdaMock.commandCalls(InvokeCommand);
      expect(invokes).toHaveLength(1);
      expect(invokes[0].args[0].input).toMatchObject({ FunctionName: 'fn-from-spec', InvocationType: 'Event' });
      expect(ddb.items(TABLE).filter((i) => i.pk.S === 'command').map((i) => i.kind.S)).toEqual(['retry']);
      expect(text).toContain('note: llama-production is aborted: the controller restarts it from the first step');
      expect(text).toMatch(/retry: stored as #1 \(.*\); the controller \(fn-from-spec\) was invoked and handles it within seconds/);
    });

    test('an invocation the caller may not make: the command is stored, the CLI says it waits and how to hand it over, exit 1', async () => {
      lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('User is not authorized to perform: lambda:InvokeFunction'), { name: 'AccessDeniedException' }));
      await write({ phase: 'completed', weights: { v1: 50, v2: 50 }, settled: true });
      let text = '';
      const code = await main(['cancel', 'llama-production', '--aws'], {}, (s) => { text += s; });
      expect(code).toBe(1);
      expect(ddb.items(TABLE).filter((i) => i.pk.S === 'command')).toHaveLength(1);
      expect(text).toContain('could not be invoked: AccessDeniedException');
      expect(text).toContain('lambda:InvokeFunction on llama-production-rollout-controller');
      expect(text).toContain('aws lambda invoke --function-name llama-production-rollout-controller --invocation-type Event');
    });

    test('cancel after promotion: the note says it rolls back while the previous version is warm, and why not after', async () => {
      await write({ phase: 'promoted', weights: { v1: 0, v2: 100 }, servingVersion: 'v2', previousVersion: 'v1', previousScaledDown: false });
      let warm = '';
      expect(await main(['rollback', 'llama-production', '--aws'], {}, (s) => { warm += s; })).toBe(0);
      expect(warm).toContain('note: llama-production is promoted and v1 is still warm: the controller rolls back');
      // `rollback` is `cancel`
      expect(warm).toMatch(/^note: .*\nrollback \(cancel\): stored as #1/);
      ddb = new FakeDynamoDB({ staleReads: true });
      await write({ phase: 'promoted', weights: { v1: 0, v2: 100 }, servingVersion: 'v2', previousVersion: 'v1', previousScaledDown: true });
      let cold = '';
      await main(['cancel', 'llama-production', '--aws'], {}, (s) => { cold += s; });
      expect(cold).toContain('v1 was scaled down when its keep-warm window ended: the controller will refuse this cancel (traffic stays on v2). To go back, roll v1 out again as a canary');
    });
  });
});
