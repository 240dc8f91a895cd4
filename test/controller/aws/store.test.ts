/**
 * The DynamoDB state store (src/controller/aws/adapter.ts `DynamoStore`) call by call, over the DynamoDB fake
 * (test/support/aws-dynamodb-fake.ts) and the SSM fake: conditional writes, commands as items only the CLI writes,
 * and writes whose outcome is unknown read back before anything else.
 */
import * as fs from 'fs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoStore } from '../../../src/controller/aws/adapter';
import { AwsTarget } from '../../../src/core/contract/target';
import { ControllerState } from '../../../src/core/state';
import { BUNDLES } from '../../../src/private/bundles';
import { FakeDynamoDB, Fault } from '../../support/aws-dynamodb-fake';
import { FakeSsm } from '../../support/aws-ssm-fake';
import { rolloutSpec } from '../../support/spec-fixture';

const TABLE = 'model-rollout-llama-production';
const SPEC = '/model-rollout/llama-production/spec';
const target: AwsTarget = { kind: 'aws', listenerRuleArn: 'arn:rule', targetGroups: { v1: 'arn:tg1', v2: 'arn:tg2' }, alarmNames: [] };
const state = (phase: ControllerState['phase'], commandSeq?: number): ControllerState => ({ phase, stepIndex: 1, stepStartedAt: 0, weights: { v1: 90, v2: 10 }, updatedAt: 0, specHash: 'h', commandSeq } as unknown as ControllerState);

function world(fault?: (op: string, input: any) => Fault) {
  const ddb = new FakeDynamoDB({ staleReads: true, fault });
  const ssm = new FakeSsm();
  ssm.parameters.set(SPEC, { value: JSON.stringify({ spec: rolloutSpec(), target, stateTable: TABLE }), version: 1 });
  let token = 0;
  const store = new DynamoStore(ddb as unknown as DynamoDBClient, ssm as unknown as SSMClient, SPEC, TABLE, () => `token-${++token}`);
  return { ddb, ssm, store };
}

describe('DynamoDB fake (documented semantics)', () => {
  test('a PutItem whose condition is false fails with ConditionalCheckFailedException and writes nothing', async () => {
    const { ddb } = world();
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, sk: { N: '1' }, v: { S: 'first' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await expect(ddb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, sk: { N: '1' }, v: { S: 'second' } }, ConditionExpression: 'attribute_not_exists(pk)' })))
      .rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(ddb.items(TABLE)).toEqual([{ pk: { S: 'a' }, sk: { N: '1' }, v: { S: 'first' } }]);
  });

  test('a read without ConsistentRead may miss the last write; a consistent read sees it', async () => {
    const { ddb } = world();
    const key = { pk: { S: 'a' }, sk: { N: '1' } };
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, v: { S: 'one' } } }));
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, v: { S: 'two' } } }));
    const get = (ConsistentRead?: boolean) => ddb.send({ constructor: { name: 'GetItemCommand' }, input: { TableName: TABLE, Key: key, ConsistentRead } });
    expect((await get()).Item.v.S).toBe('one');
    expect((await get(true)).Item.v.S).toBe('two');
  });
});

describe('DynamoStore', () => {
  test('the first state write needs no item, the next one the version read; a stale version is a conflict and writes nothing', async () => {
    const { store, ddb } = world();
    const r0 = await store.read();
    expect(r0.version).toBe('0.0');
    const v1 = await store.writeState(state('progressing'), r0.version);
    expect(v1).toBe('1.0');
    await store.writeState(state('aborted'), v1);
    await expect(store.writeState(state('progressing'), v1)).rejects.toMatchObject({ name: 'ConflictError' });
    expect((await store.read()).state?.phase).toBe('aborted');
    expect(ddb.calls.filter((c) => c.op === 'PutItem').map((c) => c.input.ConditionExpression)).toEqual(['attribute_not_exists(pk)', '#version = :read', '#version = :read']);
  });

  test('a state write that landed but whose answer was lost counts as written (never "not written")', async () => {
    let n = 0;
    const { store } = world((op) => (op === 'PutItem' && ++n === 2 ? 'unknown' : undefined));
    const v1 = await store.writeState(state('progressing'), (await store.read()).version);
    await expect(store.writeState(state('aborted'), v1)).resolves.toBe('2.0');
    expect((await store.read()).state?.phase).toBe('aborted');
  });

  test('a state write lost before DynamoDB saw it fails with its error (the tick acts on nothing)', async () => {
    const { store } = world((op) => (op === 'PutItem' ? 'lost' : undefined));
    await expect(store.writeState(state('progressing'), '0.0')).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await store.read()).state).toBeUndefined();
  });

  test('commands are items with increasing seq; the read returns those after the handled seq, and the version moves with them', async () => {
    const { store, ddb } = world();
    const v1 = await store.writeState(state('progressing'), '0.0');
    const c1 = await store.appendCommand('pause', 'id-1', 1);
    const c2 = await store.appendCommand('cancel', 'id-2', 2);
    expect([c1.seq, c2.seq]).toEqual([1, 2]);
    expect(await store.currentVersion()).toBe('1.2');
    expect(await store.currentVersion()).not.toBe(v1);
    await store.writeState(state('paused', 1), (await store.read()).version);
    const r = await store.read();
    expect(r.commands?.map((c) => c.id)).toEqual(['id-2']);
    expect(r.version).toBe('2.2');
    // the controller wrote the state item only
    expect(ddb.calls.filter((c) => c.op === 'PutItem' && c.input.Item.pk.S === 'command').map((c) => c.input.ConditionExpression)).toEqual(['attribute_not_exists(pk)', 'attribute_not_exists(pk)']);
  });

  test('a command whose write landed but whose answer was lost is stored once, and a seq taken by another CLI moves to the next', async () => {
    let n = 0;
    const { store, ddb } = world((op, input) => (op === 'PutItem' && input.Item.pk.S === 'command' && ++n === 1 ? 'unknown' : undefined));
    await expect(store.appendCommand('cancel', 'mine', 1)).resolves.toMatchObject({ seq: 1 });
    // another CLI stored seq 2 between this CLI's read and write
    const racing = new DynamoStore({
      send: async (c: any) => {
        if (c.constructor.name === 'PutItemCommand' && c.input.Item.sk.N === '2' && c.input.Item.id.S === 'second') {
          await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'command' }, sk: { N: '2' }, id: { S: 'other' }, kind: { S: 'pause' }, at: { N: '1' } } }));
        }
        return ddb.send(c);
      },
    } as unknown as DynamoDBClient, new FakeSsm() as unknown as SSMClient, SPEC, TABLE);
    await expect(racing.appendCommand('resume', 'second', 2)).resolves.toMatchObject({ seq: 3 });
    expect(ddb.items(TABLE).filter((i) => i.pk.S === 'command').map((i) => `${i.sk.N}:${i.id.S}`)).toEqual(['1:mine', '2:other', '3:second']);
  });
});

test('the Lambda bundle leaves the DynamoDB client to the runtime (nodejs22.x ships the AWS SDK v3)', () => {
  const text = fs.readFileSync(BUNDLES.lambda, 'utf8');
  expect(text).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
  expect(text).not.toMatch(/ConditionalCheckFailedException\s*extends/);
});
