/**
 * Races on the AWS target: `model-rollout cancel|promote` (the CLI) against two Lambda invocations of the real
 * tick (handler + adapter), interleaved at every AWS API call (test/support/aws-interleave.ts), over in-memory
 * services that follow the documented semantics (test/support/aws-*-fake.ts, aws-world.ts).
 *
 * Invariants, checked as the services see the calls:
 * - a command the CLI reported as stored is never lost: one tick later the rollout has handled it;
 * - no aborted canary regains traffic: once a state with phase `aborted` is stored, no ModifyRule gives a canary
 *   weight;
 * - a promote never revives an aborted rollout: once aborted, no stored state has another phase.
 * - an abort is on the rule when the race ends (its tick sends the abort weights even when a command came in
 *   after its write: src/controller/tick.ts `towardStable`).
 * The old SSM store (one parameter, PutParameter Overwrite) breaks them in some schedules; the DynamoDB store
 * (conditional writes, commands as separate items) in none, with the Lambda's reserved concurrency 1. Counts are
 * printed.
 */
import { AlarmMetrics, DynamoStore, ListenerRuleRouter, TargetGroupCapacity } from '../../../src/controller/aws/adapter';
import { AwsClients, runTick } from '../../../src/controller/aws/handler';
import { tick } from '../../../src/controller/tick';
import { AwsTarget } from '../../../src/core/contract/target';
import { ControllerState } from '../../../src/core/state';
import { FakeDynamoDB, Fault } from '../../support/aws-dynamodb-fake';
import { Chooser, explore, Interleaving, randomChooser } from '../../support/aws-interleave';
import { FakeSsm } from '../../support/aws-ssm-fake';
import { LegacySsmStore } from '../../support/aws-ssm-store-legacy';
import { asyncDeliveries, canaryWeight, FakeCloudWatch, FakeElb } from '../../support/aws-world';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const ALARM = 'llama-production-v2-5xx';
const spec = rolloutSpec({ checks: [{ provider: 'cloudwatchAlarm', name: ALARM, alarmName: ALARM }], checkFailureLimit: 0, stableReplicas: 2 });
const target: AwsTarget = {
  kind: 'aws',
  listenerRuleArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/lb/1/2/3',
  targetGroups: { v1: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/v1/1', v2: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/v2/2' },
  alarmNames: [ALARM],
};
const SPEC_PARAMETER = '/model-rollout/llama-production/spec';
const STATE_PARAMETER = '/model-rollout/llama-production/state';
const TABLE = 'model-rollout-llama-production';
const env = { ROLLOUT_SSM_SPEC_PARAMETER: SPEC_PARAMETER, ROLLOUT_DYNAMODB_TABLE: TABLE };
const quiet = () => undefined;

type Store = 'dynamodb' | 'ssm';
/** The services after the two ticks that start every race, by store. */
const PREPARED = new Map<Store, string>();

interface Scenario {
  readonly store: Store;
  /** The command the CLI stores during the race. */
  readonly command: 'cancel' | 'promote';
  /** The canary's alarm during the race (ALARM: the ticks abort). */
  readonly alarm: 'OK' | 'ALARM';
  /** The second invocation: a duplicate of the first event, or the next minute's tick while the first runs. */
  readonly second: 'duplicate' | 'nextMinute';
  /** Reserved concurrency 1 (`controllerReservedConcurrency: 1`): the second delivery waits for the first. */
  readonly reservedConcurrency?: number;
  readonly fault?: (op: string, input: any) => Fault;
}

interface Outcome {
  /** The CLI said the command was stored. */
  readonly reported: boolean;
  /** ...but one tick later the rollout had not handled it. */
  readonly lost: boolean;
  /** ModifyRule calls that gave a canary weight after an abort was stored. */
  readonly regained: number;
  /** Stored states that left `aborted`. */
  readonly revived: number;
  /** Copies of the CLI's command in the store (at most one). */
  readonly copies: number;
  /** Right after the race (before the next tick): an aborted rollout whose rule still gives a canary weight. */
  readonly unsettled: boolean;
  readonly finalPhase: string;
  readonly finalCanaryWeight: number;
}

/** A world at 10 % canary, its next step due, then the race, then one more tick. */
async function race(s: Scenario, choose: Chooser): Promise<Outcome> {
  const cw = new FakeCloudWatch({ [ALARM]: 'OK' });
  const elb = new FakeElb(target, { v1: 2, v2: 2 }, { v1: 100 });
  const ssm = new FakeSsm();
  const ddb = new FakeDynamoDB({ staleReads: true });
  ssm.parameters.set(SPEC_PARAMETER, { value: JSON.stringify({ spec, target, stateTable: TABLE }), version: 1 });
  if (s.store === 'ssm') ssm.parameters.set(STATE_PARAMETER, { value: '{}', version: 1 });

  const clients = (gate: (c: any) => any = (c) => c): AwsClients =>
    ({ ssm: gate(ssm), dynamodb: gate(ddb), elb: gate(elb), cloudwatch: gate(cw) } as AwsClients);
  const sleep = () => Promise.resolve();
  const runOne = async (c: AwsClients, now: number, pause: () => Promise<void> = sleep) => {
    if (s.store === 'dynamodb') return runTick(c, env, now, quiet);
    const store = new LegacySsmStore(c.ssm, SPEC_PARAMETER, STATE_PARAMETER, pause);
    await store.read();
    return tick({
      store,
      router: new ListenerRuleRouter(c.elb, store.spec!, store.target!),
      capacity: new TargetGroupCapacity(c.elb, store.target!),
      metrics: new AlarmMetrics(c.cloudwatch),
      log: quiet,
    }, now);
  };

  // GIVEN a rollout at 10 % whose next step is due (two ticks, run once per store and copied)
  let start = PREPARED.get(s.store);
  if (!start) {
    await runOne(clients(), 0);
    await runOne(clients(), MIN);
    start = JSON.stringify({ tables: [...ddb.tables].map(([n, items]) => [n, [...items]]), parameters: [...ssm.parameters], forward: elb.forward });
    PREPARED.set(s.store, start);
  }
  const prepared = JSON.parse(start);
  for (const [n, items] of prepared.tables) ddb.tables.set(n, new Map(items));
  for (const [n, p] of prepared.parameters) ssm.parameters.set(n, p);
  elb.forward = prepared.forward;
  expect(canaryWeight(elb, spec, target)).toBe(10);

  // the monitor
  let aborted = false;
  let regained = 0;
  let revived = 0;
  const seen = (state: ControllerState | undefined) => {
    if (!state) return;
    if (state.phase === 'aborted') aborted = true;
    else if (aborted) revived++;
  };
  ddb.onWrite = (_t, item) => { if (item.pk.S === 'state') seen(JSON.parse(item.state.S!)); };
  ssm.onWrite = (name, value) => { if (name === STATE_PARAMETER) seen(JSON.parse(value).state); };
  elb.onModify = () => { if (aborted && canaryWeight(elb, spec, target) > 0) regained++; };

  // WHEN the CLI and two invocations run, interleaved at every call
  cw.alarms[ALARM] = s.alarm;
  const faults = s.fault;
  const t0 = 2 * MIN + 1000;
  const run = new Interleaving(choose);
  const invoke = (actor: number, now: number) => () => runOne(clients((c) => run.gate(actor, c)), now, () => run.point(actor, 'sleep'));
  const cliId = 'cli-command-1';
  const cli = async () => {
    if (s.store === 'dynamodb') return new DynamoStore(run.gate(0, ddb), run.gate(0, ssm), SPEC_PARAMETER, TABLE).appendCommand(s.command, cliId, t0);
    return new LegacySsmStore(run.gate(0, ssm), SPEC_PARAMETER, STATE_PARAMETER, () => run.point(0, 'sleep')).appendCommand(s.command, cliId, t0);
  };
  const lambdas = s.second === 'duplicate'
    ? asyncDeliveries(invoke(1, t0), { copies: 2, reservedConcurrency: s.reservedConcurrency })
    : s.reservedConcurrency === 1
      ? [async () => { await invoke(1, t0)(); return invoke(1, t0 + MIN)(); }]
      : [invoke(1, t0), invoke(2, t0 + MIN)];
  ddb.fault = faults;
  const results = await run.run([cli, ...lambdas]);
  ddb.fault = undefined;
  const reported = results[0].error === undefined;
  const stateNow = s.store === 'dynamodb'
    ? JSON.parse(ddb.items(TABLE).find((i) => i.pk.S === 'state')?.state?.S ?? '{}') as ControllerState
    : JSON.parse(ssm.parameters.get(STATE_PARAMETER)!.value).state as ControllerState;
  const unsettled = stateNow?.phase === 'aborted' && canaryWeight(elb, spec, target) > 0;

  // THEN one more tick (the next minute) has handled everything stored
  const last = await runOne(clients(), t0 + 3 * MIN);
  const finalState = last.decision!.state;
  const handled = s.command === 'cancel' ? finalState.cancelled === true : (finalState.commandSeq ?? 0) >= ((results[0].value as { seq?: number })?.seq ?? Infinity);
  const copies = s.store === 'dynamodb'
    ? ddb.items(TABLE).filter((i) => i.id?.S === cliId).length
    : (JSON.parse(ssm.parameters.get(STATE_PARAMETER)!.value).commands ?? []).filter((c: { id: string }) => c.id === cliId).length;
  return {
    reported,
    lost: reported && !handled,
    regained,
    revived,
    copies,
    unsettled,
    finalPhase: finalState.phase,
    finalCanaryWeight: canaryWeight(elb, spec, target),
  };

}

interface Tally {
  runs: number;
  complete: boolean;
  reported: number;
  lost: number;
  regained: number;
  revived: number;
  duplicated: number;
  wrongFinal: number;
  unsettled: number;
}

async function tally(s: Scenario, search: { preemptions?: number; limit?: number; seeds?: number }): Promise<Tally> {
  const t: Tally = { runs: 0, complete: false, reported: 0, lost: 0, regained: 0, revived: 0, duplicated: 0, wrongFinal: 0, unsettled: 0 };
  const record = (o: Outcome) => {
    t.reported += Number(o.reported);
    t.lost += Number(o.lost);
    t.regained += Number(o.regained > 0);
    t.revived += Number(o.revived > 0);
    t.duplicated += Number(o.copies > 1);
    t.unsettled += Number(o.unsettled);
    // a stored cancel, or an abort: the rule ends on stable
    if ((s.alarm === 'ALARM' || (o.reported && s.command === 'cancel')) && (o.finalPhase !== 'aborted' || o.finalCanaryWeight !== 0)) t.wrongFinal++;
  };
  if (search.seeds !== undefined) {
    for (let seed = 1; seed <= search.seeds; seed++) record(await race(s, randomChooser(seed)));
    t.runs = search.seeds;
    return t;
  }
  const r = await explore(async (choose) => record(await race(s, choose)), search.preemptions ?? 2, search.limit ?? 1000);
  t.runs = r.runs;
  t.complete = r.complete;
  return t;
}

function report(name: string, t: Tally): void {
  // eslint-disable-next-line no-console
  console.log(`${name}: ${t.runs} schedules${t.complete ? ' (all within the preemption bound)' : ''}; CLI reported stored ${t.reported}, lost ${t.lost}; `
    + `aborted canary regained traffic in ${t.regained}; abort revived in ${t.revived}; duplicated commands ${t.duplicated}; `
    + `aborted with canary traffic when the race ended ${t.unsettled}; wrong final state ${t.wrongFinal}`);
}

describe('the old SSM store loses commands and revives aborts (PutParameter has no compare-and-swap)', () => {
  test('a tick racing `cancel` erases the stored command in some schedule', async () => {
    const t = await tally({ store: 'ssm', command: 'cancel', alarm: 'OK', second: 'duplicate', reservedConcurrency: 1 }, { preemptions: 2, limit: 2000 });
    report('SSM, cancel vs two deliveries (reserved concurrency 1)', t);
    expect(t.lost).toBeGreaterThan(0);
  });

  test('a `promote` racing an abort stores `progressing` over `aborted` in some schedule', async () => {
    const t = await tally({ store: 'ssm', command: 'promote', alarm: 'ALARM', second: 'duplicate', reservedConcurrency: 1 }, { preemptions: 2, limit: 2000 });
    report('SSM, promote vs an aborting tick', t);
    expect(t.revived).toBeGreaterThan(0);
  });
});

describe('the DynamoDB store keeps every invariant in every schedule explored', () => {
  // [name, scenario, preemption bound]: every schedule within the bound is run
  const cases: Array<[string, Scenario, number]> = [
    ['cancel vs a duplicate delivery (reserved concurrency 1)', { store: 'dynamodb', command: 'cancel', alarm: 'OK', second: 'duplicate', reservedConcurrency: 1 }, 3],
    ['cancel vs a slow tick and the next minute\'s (reserved concurrency 1)', { store: 'dynamodb', command: 'cancel', alarm: 'OK', second: 'nextMinute', reservedConcurrency: 1 }, 2],
    ['promote vs an aborting tick (reserved concurrency 1)', { store: 'dynamodb', command: 'promote', alarm: 'ALARM', second: 'duplicate', reservedConcurrency: 1 }, 3],
  ];
  test.each(cases)('%s', async (name, s, preemptions) => {
    const t = await tally(s, { preemptions, limit: 3000 });
    expect(t.complete).toBe(true);
    report(`DynamoDB, ${name}`, t);
    expect(t.runs).toBeGreaterThan(50);
    expect(t.reported).toBe(t.runs);
    expect({ lost: t.lost, regained: t.regained, revived: t.revived, duplicated: t.duplicated, wrongFinal: t.wrongFinal, unsettled: t.unsettled })
      .toEqual({ lost: 0, regained: 0, revived: 0, duplicated: 0, wrongFinal: 0, unsettled: 0 });
  });

  test('writes with unknown outcomes (timeouts after or before DynamoDB wrote) lose nothing and store nothing twice', async () => {
    let n = 0;
    const injected = { lost: 0, unknown: 0 };
    // every third write has a fault, alternating "lost before" and "written, answer lost"
    const fault = (): Fault => {
      const f: Fault = ++n % 3 === 0 ? (n % 2 === 0 ? 'lost' : 'unknown') : undefined;
      if (f) injected[f]++;
      return f;
    };
    const t = await tally({ store: 'dynamodb', command: 'cancel', alarm: 'OK', second: 'duplicate', reservedConcurrency: 1, fault }, { seeds: 200 });
    report(`DynamoDB with faults (${injected.lost} writes lost, ${injected.unknown} written with the answer lost), cancel vs a duplicate delivery (random schedules)`, t);
    expect(Math.min(injected.lost, injected.unknown)).toBeGreaterThan(50);
    expect(t.reported).toBeGreaterThan(0);
    expect({ lost: t.lost, regained: t.regained, revived: t.revived, duplicated: t.duplicated, wrongFinal: t.wrongFinal, unsettled: t.unsettled })
      .toEqual({ lost: 0, regained: 0, revived: 0, duplicated: 0, wrongFinal: 0, unsettled: 0 });
  });

  test('without reserved concurrency, an older tick\'s ModifyRule can land after the abort (what controllerReservedConcurrency: 1 closes); the next tick puts the rule back', async () => {
    const t = await tally({ store: 'dynamodb', command: 'cancel', alarm: 'OK', second: 'nextMinute' }, { preemptions: 1, limit: 3000 });
    report('DynamoDB, cancel vs two concurrent ticks (no reserved concurrency)', t);
    expect(t.complete).toBe(true);
    // ModifyRule has no condition: a tick that passed its fence before another tick stored the abort still sends its
    // weights. Reserved concurrency 1 closes this (the cases above: never); the construct leaves it to
    // controllerReservedConcurrency, since reserving fails the deploy in new accounts. The abort's state is
    // not lost, and the next tick sends the abort weights again.
    expect(t.regained).toBeGreaterThan(0);
    expect({ lost: t.lost, revived: t.revived, duplicated: t.duplicated, wrongFinal: t.wrongFinal })
      .toEqual({ lost: 0, revived: 0, duplicated: 0, wrongFinal: 0 });
  });
});
