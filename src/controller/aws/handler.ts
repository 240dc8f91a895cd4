/**
 * The Lambda step controller (nodejs22.x), invoked every minute by EventBridge Scheduler.
 * Bundled by the build into assets/controller/aws/handler/index.js; the AWS SDK v3 comes with the runtime.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetScheduleCommand, GetScheduleCommandOutput, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  ENV_CONTROLLER_DYNAMODB_TABLE, ENV_CONTROLLER_EKS_CA, ENV_CONTROLLER_EKS_CLUSTER, ENV_CONTROLLER_EKS_ENDPOINT, ENV_CONTROLLER_PROMETHEUS_URL,
  ENV_CONTROLLER_SCHEDULE_NAME, ENV_CONTROLLER_SSM_SPEC_PARAMETER, TICK_SECONDS,
} from '../../core/constants';
import { ENV_CONTROLLER_SNS_TOPIC_ARN } from '../../core/notifications';
import { MetricObservation } from '../../core/state';
import { WorkloadCapacity } from '../k8s/adapter';
import { KubeClient } from '../k8s/kube-client';
import { SnsSink } from '../notify-sns';
import { Metrics } from '../ports';
import { PrometheusMetrics } from '../prometheus';
import { tick, TickResult } from '../tick';
import { AlarmMetrics, DynamoStore, ListenerRuleRouter, TargetGroupCapacity } from './adapter';
import { eksToken } from './eks-token';
import { dnsSuffix, regionalHost } from './partition';
import { credentialsFromEnv } from './sigv4';
import { environmentUnset } from '../errors';

/** SDK clients, injectable. */
export interface AwsClients {
  readonly ssm: SSMClient;
  /** The state table (conditional writes). */
  readonly dynamodb: DynamoDBClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  /** EventBridge Scheduler: the controller disables its own schedule once the rollout is settled, enables it on work. */
  readonly scheduler?: SchedulerClient;
}

/**
 * The schedule ticks this Lambda only while there is work: it is disabled once the rollout is settled (finished,
 * verified with nothing left to do, `ControllerState.settled`) and no command is waiting, and enabled again by any
 * tick that finds work (a command the CLI stored, which also invokes the function at once; a spec change: the next
 * `cdktf deploy` enables the schedule too, its state is ENABLED in Terraform). A command stored after this tick read
 * the queue keeps it enabled: nothing stored is left unhandled.
 *
 * UpdateSchedule replaces the whole schedule: "if you do not set an optional field in your request, that field will
 * be set to its system-default value after the update", so every field GetSchedule returns is sent back (time zone,
 * dates, KMS key, action after completion, description, target with its retry policy and dead-letter queue). A
 * start date in the past is the one exception: the API refuses one more than 5 minutes old, and a recurring
 * schedule that has started is the same without it.
 * @see https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html
 */
export async function updateSchedule(scheduler: SchedulerClient, current: GetScheduleCommandOutput, state: 'ENABLED' | 'DISABLED', now = Date.now()): Promise<void> {
  const { Arn: _arn, CreationDate: _created, LastModificationDate: _modified, $metadata: _meta, StartDate: start, ...fields } = current;
  await scheduler.send(new UpdateScheduleCommand({
    ...fields,
    Name: current.Name!,
    ScheduleExpression: current.ScheduleExpression!,
    FlexibleTimeWindow: current.FlexibleTimeWindow!,
    Target: current.Target!,
    ...(start && start.getTime() > now ? { StartDate: start } : {}),
    State: state,
  }));
}

/**
 * Keep the schedule enabled while the rollout has work, disable it once it has none: settled, and no command stored
 * after the last one the state handled (one stored after this tick read the queue). A settled rollout whose
 * schedule is already disabled reads nothing more.
 */
async function followWork(scheduler: SchedulerClient, name: string, store: DynamoStore, result: TickResult, now: number): Promise<'ENABLED' | 'DISABLED' | undefined> {
  const state = result.decision!.state;
  if (state.settled && !result.conflict && !result.failed) {
    const current = await scheduler.send(new GetScheduleCommand({ Name: name }));
    if (current.State === 'DISABLED' || (await store.latestCommandSeq()) > (state.commandSeq ?? 0)) return undefined;
    await updateSchedule(scheduler, current, 'DISABLED', now);
    return 'DISABLED';
  }
  // disabled only ever once settled (or, before `settled` was recorded, once over: a command wakes those), and every
  // deploy enables it: a tick with work looks only when the rollout was settled or a command came in
  const previous = result.previous;
  if (previous && !previous.settled && (state.commandSeq ?? 0) === (previous.commandSeq ?? 0)) return undefined;
  const current = await scheduler.send(new GetScheduleCommand({ Name: name }));
  if (current.State === 'ENABLED') return undefined;
  await updateSchedule(scheduler, current, 'ENABLED', now);
  return 'ENABLED';
}

/** One tick with the given clients and environment. */
export async function runTick(
  clients: AwsClients,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
  log: (line: Record<string, unknown>) => void = defaultLog(now),
): Promise<TickResult & { tickSeconds?: number }> {
  const specParameter = env[ENV_CONTROLLER_SSM_SPEC_PARAMETER];
  const table = env[ENV_CONTROLLER_DYNAMODB_TABLE];
  if (!specParameter || !table) throw environmentUnset([ENV_CONTROLLER_SSM_SPEC_PARAMETER, ENV_CONTROLLER_DYNAMODB_TABLE]);
  const store = new DynamoStore(clients.dynamodb, clients.ssm, specParameter, table);
  // the spec and target build the router and capacity; the tick reads spec, state and commands itself
  const { spec, target } = await store.readSpec();

  let floors: WorkloadCapacity | undefined;
  const cluster = env[ENV_CONTROLLER_EKS_CLUSTER];
  if (target.workloads && cluster && env[ENV_CONTROLLER_EKS_ENDPOINT]) {
    const region = env.AWS_REGION ?? 'us-east-1';
    const token = eksToken(cluster, region, credentialsFromEnv(env), new Date(now), dnsSuffix(env, region));
    const kube = new KubeClient({ server: env[ENV_CONTROLLER_EKS_ENDPOINT]!, token, ca: env[ENV_CONTROLLER_EKS_CA] ? Buffer.from(env[ENV_CONTROLLER_EKS_CA]!, 'base64') : undefined });
    floors = new WorkloadCapacity(kube, { kind: 'kubernetes', namespace: target.workloads.namespace, httpRoute: '', backends: target.workloads.backends, routing: { kind: 'random' }, pins: [] });
  }

  const alarms = new AlarmMetrics(clients.cloudwatch);
  const prometheusUrl = env[ENV_CONTROLLER_PROMETHEUS_URL];
  const prometheus = prometheusUrl ? new PrometheusMetrics(prometheusUrl) : undefined;
  const metrics: Metrics = {
    measure: async (s, versions) => {
      const none: Record<string, Record<string, MetricObservation>> = {};
      const [a, p] = await Promise.all([alarms.measure(s, versions), prometheus ? prometheus.measure(s, versions) : Promise.resolve(none)]);
      return Object.fromEntries(versions.map((v) => [v, { ...(p[v] ?? {}), ...(a[v] ?? {}) }]));
    },
  };
  const result = await tick({
    store,
    router: new ListenerRuleRouter(clients.elb, spec, target),
    capacity: new TargetGroupCapacity(clients.elb, target, floors),
    metrics,
    log,
    // phase changes to the rollout's SNS topic, when it has one (best-effort)
    sinks: env[ENV_CONTROLLER_SNS_TOPIC_ARN]
      ? [snsSink(env[ENV_CONTROLLER_SNS_TOPIC_ARN]!, env)] : [],
  }, now);
  const schedule = env[ENV_CONTROLLER_SCHEDULE_NAME];
  if (schedule && clients.scheduler && result.decision) {
    const set = await followWork(clients.scheduler, schedule, store, result, now);
    const phase = result.decision.state.phase;
    if (set) log({ rollout: spec.name, level: 'info', reason: set === 'ENABLED' ? `work to do (${phase}): schedule ${schedule} enabled` : `rollout settled (${phase}): schedule ${schedule} disabled` });
  }
  return { ...result, tickSeconds: spec.tickSeconds ?? TICK_SECONDS };
}

/** The rollout's SNS topic, reached at the host of the Lambda's partition. */
function snsSink(topicArn: string, env: NodeJS.ProcessEnv): SnsSink {
  const region = env.AWS_REGION ?? 'us-east-1';
  return new SnsSink(topicArn, region, () => credentialsFromEnv(env), `https://${regionalHost('sns', region, dnsSuffix(env, region))}`);
}

/** Sub-minute ticks start at most this long into an invocation (the Lambda's timeout is 50 s). */
export const LAST_TICK_OFFSET_SECONDS = 30;

/**
 * One scheduled invocation (EventBridge fires at most once a minute): tick, then, while the rollout is progressing
 * and its spec asks for sub-minute ticks (`tickSeconds`), tick again every `tickSeconds` until
 * `LAST_TICK_OFFSET_SECONDS` into the invocation. Returns the last tick's result. `clock`/`sleep` are injectable.
 */
export async function runMinute(
  awsClients: AwsClients,
  env: NodeJS.ProcessEnv,
  options: { readonly clock?: () => number; readonly sleep?: (ms: number) => Promise<void> } = {},
): Promise<TickResult & { tickSeconds?: number }> {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = clock();
  let r = await runTick(awsClients, env, start);
  const step = r.tickSeconds ?? TICK_SECONDS;
  for (let offset = step; step < TICK_SECONDS && offset <= LAST_TICK_OFFSET_SECONDS; offset += step) {
    if (r.failed || r.decision?.state.phase !== 'progressing') break;
    const wait = start + offset * 1000 - clock();
    if (wait > 0) await sleep(wait);
    r = await runTick(awsClients, env, clock());
  }
  return r;
}

function defaultLog(now: number) {
  return (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date(now).toISOString(), ...line })}\n`);
}

let clients: AwsClients | undefined;

/** The Lambda entrypoint. */
export async function handler(): Promise<{ phase: string; actions: number; conflict?: string; failed?: string }> {
  clients = clients ?? {
    ssm: new SSMClient({}),
    dynamodb: new DynamoDBClient({}),
    elb: new ElasticLoadBalancingV2Client({}),
    cloudwatch: new CloudWatchClient({}),
    scheduler: new SchedulerClient({}),
  };
  const r = await runMinute(clients, process.env);
  return { phase: r.decision?.state.phase ?? 'unknown', actions: r.applied.length, conflict: r.conflict, failed: r.failed?.error };
}
