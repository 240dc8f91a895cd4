/**
 * The in-cluster step controller: one CronJob run a minute (concurrencyPolicy Forbid) ticks every rollout of its
 * app in the namespace, then every `tickSeconds` (10 s by default) the rollouts in progress until 50 s into the run
 * (`runMinute`). Bundled by the build into assets/controller/k8s/main/index.js and run by a stock Node
 * image.
 *
 * Which rollouts: those its app lists (the owner ConfigMap named by ROLLOUT_CONTROLLER_ROLLOUTS) whose spec
 * ConfigMap its ServiceAccount may read. It asks the API server (SelfSubjectRulesReview, open to every
 * authenticated user) instead of listing ConfigMaps, so it needs no `list` and each rollout's own RoleBinding is
 * what enrols it. One rollout's failure (a bad spec, a 422, a deleted object) is logged and reported on the rollout,
 * and never stops the others or fails the Job.
 *
 * Passes are bounded and fair: every rollout's spec and state are read once per pass (and reused by its tick),
 * rollouts with a command waiting go first, then the least recently ticked; a rollout holds a lane at most
 * ROLLOUT_BUDGET_MS; a Prometheus that stops answering within its timeout is not waited on by the rest of the pass
 * (prometheus-gate.ts); no rollout is started past 50 s after the process started; requests are rate-limited
 * (kube-client.ts, KUBE_QPS).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  CONTROLLER_KEY_ROLLOUTS, ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR, ENV_CONTROLLER_ROLLOUTS_CONFIGMAP,
  ENV_CONTROLLER_PROMETHEUS_CA_FILE, ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE,
  ENV_CONTROLLER_PROMETHEUS_URL, ENV_CONTROLLER_SPEC_CONFIGMAP, ENV_CONTROLLER_STATE_CONFIGMAP,
  rolloutOfSpecConfigMap, specConfigMapName, stateConfigMapName, TICK_SECONDS,
} from '../../core/constants';
import { MetricObservation } from '../../core/state';
import { NotifierSink } from '../notify';
import { Metrics } from '../ports';
import { PrometheusConnection, PrometheusMetrics } from '../prometheus';
import { tick } from '../tick';
import { ConfigMapStore, handled, HttpRouteRouter, WorkloadCapacity } from './adapter';
import { KubeEventSink, reportTickFailure } from './events';
import { inClusterConnection, inClusterNamespace, KubeClient, KubeConnection, paths } from './kube-client';
import { PrometheusGate } from './prometheus-gate';
import { listNamespace } from './snapshot';
import * as errors from '../errors';

/** What a namespace run shares with each rollout's tick: the client (its rate limit), a primed store, the gates. */
export interface TickContext {
  readonly kube?: KubeClient;
  /** The rollout's store, primed by the pass (its spec and state already read). */
  readonly store?: ConfigMapStore;
  /** One gate per Prometheus URL for the whole run. */
  readonly gates?: Map<string, PrometheusGate>;
}

/** How long a primed read of a rollout stays usable by its tick (guarded writes make an older read safe). */
const PRIMED_READ_MS = 30_000;

/** Prometheus queries' timeout (PrometheusMetrics' default), which also shuts a gate. */
const PROMETHEUS_TIMEOUT_MS = 5_000;

/** Run one tick against the cluster described by `conn` and the environment variables `env`. */
export async function runTick(
  conn: KubeConnection,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
  log: (line: Record<string, unknown>) => void = (line) => process.stdout.write(`${JSON.stringify({ time: new Date(now).toISOString(), ...line })}\n`),
  context: TickContext = {},
) {
  const namespace = env[ENV_CONTROLLER_NAMESPACE] || inClusterNamespace();
  const specConfigMap = env[ENV_CONTROLLER_SPEC_CONFIGMAP];
  const stateConfigMap = env[ENV_CONTROLLER_STATE_CONFIGMAP];
  if (!namespace || !specConfigMap || !stateConfigMap) {
    throw errors.environmentUnset([ENV_CONTROLLER_NAMESPACE, ENV_CONTROLLER_SPEC_CONFIGMAP, ENV_CONTROLLER_STATE_CONFIGMAP]);
  }
  const kube = context.kube ?? new KubeClient(conn);
  const store = context.store ?? new ConfigMapStore(kube, { namespace, specConfigMap, stateConfigMap });
  // the router and capacity ports need the spec and target: the tick's own first read reuses this one
  if (!context.store) await store.prime(PRIMED_READ_MS);
  const spec = store.spec!;
  const target = store.target!;
  const prometheusUrl = target.prometheusUrl ?? env[ENV_CONTROLLER_PROMETHEUS_URL];
  const connection = prometheusConnectionFromEnv(env);
  const metrics: Metrics = !prometheusUrl
    ? { measure: async (_s, versions) => Object.fromEntries(versions.map((v) => [v, {}])) }
    : 'error' in connection
      // an unreadable CA or token is a measurement error: the checks hold the weights and say why
      ? { measure: async (s, versions) => Object.fromEntries(versions.map((v) => [v, errorObservations(s, connection.error)])) }
      : gateOf(context.gates, prometheusUrl)
        .wrap(new PrometheusMetrics(prometheusUrl, { ...connection, timeoutMs: PROMETHEUS_TIMEOUT_MS, now: () => now }));
  const result = await tick({
    store,
    router: new HttpRouteRouter(kube, spec, target),
    capacity: new WorkloadCapacity(kube, target),
    metrics,
    log,
    // phase changes: Events on the state ConfigMap and the route's status annotation (best-effort)
    sinks: [
      new KubeEventSink(kube, { namespace, stateConfigMap, target }, () => now),
      // webhooks and Slack; a URL in a Secret is read when there is something to post
      ...(store.notifications?.length ? [new NotifierSink(store.notifications, async (ref) => {
        const secret = await kube.get(`/api/v1/namespaces/${namespace}/secrets/${ref.name}`) as { data?: Record<string, string> };
        const value = secret.data?.[ref.key];
        if (value === undefined) throw errors.secretKeyMissing(ref.name, ref.key);
        return Buffer.from(value, 'base64').toString('utf8');
      }, namespace)] : []),
    ],
  }, now);
  return { ...result, tickSeconds: spec.tickSeconds ?? TICK_SECONDS };
}

function gateOf(gates: Map<string, PrometheusGate> | undefined, url: string): PrometheusGate {
  if (!gates) return new PrometheusGate(PROMETHEUS_TIMEOUT_MS);
  let gate = gates.get(url);
  if (!gate) gates.set(url, gate = new PrometheusGate(PROMETHEUS_TIMEOUT_MS));
  return gate;
}

/**
 * Prometheus' CA and credentials from the files the pod mounts (`k8s/private/prometheus-connection.ts`), read at
 * every tick so a rotated token or CA is used without a restart. A file that cannot be read is an error the
 * checks report (they hold), never a query sent without the credentials.
 */
export function prometheusConnectionFromEnv(env: NodeJS.ProcessEnv): PrometheusConnection | { error: string } {
  const read = (file: string) => fs.readFileSync(file, 'utf8');
  try {
    const caFile = env[ENV_CONTROLLER_PROMETHEUS_CA_FILE];
    const tokenFile = env[ENV_CONTROLLER_PROMETHEUS_TOKEN_FILE];
    const basicDir = env[ENV_CONTROLLER_PROMETHEUS_BASIC_AUTH_DIR];
    const headers: Record<string, string> = {};
    if (tokenFile) headers.authorization = `Bearer ${read(tokenFile).trim()}`;
    if (basicDir) {
      const user = read(path.join(basicDir, 'username')).replace(/\r?\n$/, '');
      const password = read(path.join(basicDir, 'password')).replace(/\r?\n$/, '');
      headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    return { ...(caFile ? { ca: read(caFile) } : {}), ...(Object.keys(headers).length ? { headers } : {}) };
  } catch (e) {
    return { error: `Prometheus credentials or CA could not be read: ${(e as Error).message}` };
  }
}

function errorObservations(spec: { checks: readonly { name: string }[] }, error: string): Record<string, MetricObservation> {
  return Object.fromEntries(spec.checks.map((m) => [m.name, { error }]));
}


/** Names of the rollouts the controller may tick in `namespace`: the spec ConfigMaps its Roles name. */
async function discoverRollouts(kube: KubeClient, namespace: string): Promise<string[]> {
  const review = await kube.create('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace },
  });
  const names = new Set<string>();
  for (const rule of review.status?.resourceRules ?? []) {
    if (!(rule.apiGroups ?? []).includes('') || !(rule.resources ?? []).includes('configmaps') || !(rule.verbs ?? []).includes('get')) continue;
    for (const n of rule.resourceNames ?? []) {
      const rollout = rolloutOfSpecConfigMap(n);
      if (rollout) names.add(rollout);
    }
  }
  return [...names].sort();
}

/**
 * The rollouts this controller ticks: those it may read (its Roles) that its app still lists (the owner ConfigMap,
 * re-applied at every sync). A rollout whose Role is left behind after it left the code (no pruning) is logged with
 * the clean-up, never ticked: ticking it would keep re-asserting weights on a route the app no longer plans.
 */
async function ownedRollouts(
  kube: KubeClient, namespace: string, env: NodeJS.ProcessEnv, log: (line: Record<string, unknown>) => void,
): Promise<string[]> {
  const granted = await discoverRollouts(kube, namespace);
  const listName = env[ENV_CONTROLLER_ROLLOUTS_CONFIGMAP];
  if (!listName) return granted;
  const list = await kube.get(paths.configMap(namespace, listName));
  const owned = new Set(JSON.parse(list.data?.[CONTROLLER_KEY_ROLLOUTS] ?? '[]') as string[]);
  const left = granted.filter((n) => !owned.has(n));
  if (left.length > 0) log({ level: 'warn', msg: errors.rolloutsNotOwned(namespace, listName, left) });
  const ungranted = [...owned].filter((n) => !granted.includes(n));
  if (ungranted.length > 0) log({ level: 'warn', msg: errors.rolloutsNotGranted(namespace, ungranted) });
  return granted.filter((n) => owned.has(n));
}

/** Rollouts ticked at the same time by one namespace controller. */
const PARALLEL_ROLLOUTS = 8;

/**
 * Longest a rollout holds one of the lanes of a pass: past it the pass moves on (the tick's guarded writes make a
 * tick that ends later harmless) and the rollout is reported over budget. Requests are bounded on their own (the
 * API client's 10 s, Prometheus' 5 s, which also shuts the pass's gate).
 */
const ROLLOUT_BUDGET_MS = 10_000;

/** One rollout's outcome in a pass. */
export interface RolloutTickResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  /** The rollout's tick (`spec.tickSeconds`), when its tick ran. */
  readonly tickSeconds?: number;
  /** Whether it is progressing (it wants its sub-minute ticks). */
  readonly active?: boolean;
  /** Not reached in this pass (its deadline came, or SIGTERM): the next pass takes it first. */
  readonly skipped?: boolean;
}

/** The outcome of one namespace tick: each rollout's, in order. */
export interface NamespaceTickResult {
  readonly rollouts: readonly RolloutTickResult[];
  /** Whether any rollout's tick failed (reported on the rollout: a Warning Event; the run still succeeds). */
  readonly failed: boolean;
}

/** What the passes of one run share. */
export interface RunState {
  /** No rollout is started after this time (ms, the `clock` of the run). */
  readonly deadline?: number;
  /** When each rollout's tick last ran, in this process: the least recently ticked go first. */
  readonly reached: Map<string, number>;
  readonly gates: Map<string, PrometheusGate>;
  readonly kube?: KubeClient;
  /** Set at SIGTERM: no rollout is started. */
  readonly stopping?: () => boolean;
  readonly clock?: () => number;
  /** Post a Warning Event on a rollout whose tick failed. */
  readonly reportFailures?: boolean;
}

/**
 * Tick every rollout of the namespace once, a few at a time, fairly: first every rollout's spec and state is read
 * (one read of each per rollout per tick: the tick reuses it), then the rollouts with a command waiting go first,
 * then those ticked least recently (a rotation by the minute among equals, so a pass cut short reaches a different
 * tail every minute). A rollout that fails is logged with its name and the others go on.
 */
export async function runNamespace(
  conn: KubeConnection,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
  log: (line: Record<string, unknown>) => void = defaultLog(now),
  only?: readonly string[],
  run: RunState = { reached: new Map(), gates: new Map() },
): Promise<NamespaceTickResult> {
  const namespace = env[ENV_CONTROLLER_NAMESPACE] || inClusterNamespace();
  if (!namespace) throw errors.environmentUnset([ENV_CONTROLLER_NAMESPACE]);
  const kube = run.kube ?? new KubeClient(conn);
  const started = Date.now();
  // one rollout named by the environment: the single-rollout mode of earlier versions (and of tests)
  if (env[ENV_CONTROLLER_SPEC_CONFIGMAP]) {
    const r = await runTick(conn, env, now, log, { kube, gates: run.gates });
    return {
      rollouts: [{ name: String(env[ENV_CONTROLLER_SPEC_CONFIGMAP]), ok: !r.failed, tickSeconds: r.tickSeconds, active: r.decision?.state.phase === 'progressing' }],
      failed: !!r.failed,
    };
  }
  const names = only ? [...only] : await ownedRollouts(kube, namespace, env, log);
  const listed = names.length > 0 ? await listNamespace(kube, namespace) : undefined;
  if (listed?.unlisted.length) log({ level: 'warn', msg: errors.notListed(namespace, listed.unlisted) });
  const open = () => !run.stopping?.() && (run.deadline === undefined || (run.clock ?? Date.now)() <= run.deadline);
  const stores = new Map<string, ConfigMapStore>();
  const views = new Map<string, KubeClient>();
  const results = new Map<string, RolloutTickResult>();
  const storeOf = (name: string) => {
    // each rollout reads its objects from the pass's lists once, then from the API server
    const view = listed ? kube.viewing(listed) : kube;
    views.set(name, view);
    return new ConfigMapStore(view, { namespace, specConfigMap: specConfigMapName(name), stateConfigMap: stateConfigMapName(name) });
  };
  const waiting = new Set<string>();
  await inLanes(names, open, async (name) => {
    const store = storeOf(name);
    try {
      const stored = await store.prime(PRIMED_READ_MS);
      stores.set(name, store);
      if ([...(stored.commands ?? []), ...(stored.command ? [stored.command] : [])].some((c) => !handled(c, stored.state))) waiting.add(name);
    } catch (e) {
      results.set(name, failure(name, e as Error, log));
    }
  });
  const order = fairOrder([...stores.keys()], waiting, run.reached, now);
  await inLanes(order, open, async (name) => {
    results.set(name, await tickWithin(conn, env, namespace, name, now, log, { kube: views.get(name), store: stores.get(name), gates: run.gates }));
    run.reached.set(name, now);
  });
  const rollouts = names.map((name) => results.get(name) ?? { name, ok: true, skipped: true });
  if (run.reportFailures) await reportFailures(kube, namespace, rollouts, now);
  const skipped = rollouts.filter((r) => r.skipped).length;
  log({
    level: skipped ? 'warn' : 'info',
    msg: `namespace ${namespace}: ${names.length - skipped} rollout(s) ticked, ${rollouts.filter((r) => !r.ok).length} failed, ${skipped} not reached`,
    pass: { rollouts: names.length, ticked: names.length - skipped, failed: rollouts.filter((r) => !r.ok).length, millis: Date.now() - started },
  });
  return { rollouts, failed: rollouts.some((r) => !r.ok) };
}

/** Commands first, then the least recently reached; among equals, a rotation that moves on every minute. */
function fairOrder(names: readonly string[], waiting: ReadonlySet<string>, reached: ReadonlyMap<string, number>, now: number): string[] {
  const sorted = [...names].sort();
  const shift = sorted.length > 0 ? Math.floor(now / 60_000) % sorted.length : 0;
  const rotated = [...sorted.slice(shift), ...sorted.slice(0, shift)];
  const rank = (n: string) => (waiting.has(n) ? 0 : 1);
  return rotated
    .map((n, i) => ({ n, i }))
    .sort((a, b) => rank(a.n) - rank(b.n) || (reached.get(a.n) ?? -Infinity) - (reached.get(b.n) ?? -Infinity) || a.i - b.i)
    .map((x) => x.n);
}

/** Run `work` over `items`, `PARALLEL_ROLLOUTS` at a time, starting none once `open()` says no. */
async function inLanes(items: readonly string[], open: () => boolean, work: (item: string) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(PARALLEL_ROLLOUTS, items.length) }, async () => {
    while (next < items.length && open()) await work(items[next++]);
  });
  await Promise.all(lanes);
}

/** One rollout's tick, given at most `ROLLOUT_BUDGET_MS` of its lane. */
async function tickWithin(
  conn: KubeConnection, env: NodeJS.ProcessEnv, namespace: string, name: string, now: number,
  log: (line: Record<string, unknown>) => void, context: TickContext,
): Promise<RolloutTickResult> {
  const one = {
    ...env,
    [ENV_CONTROLLER_NAMESPACE]: namespace,
    [ENV_CONTROLLER_SPEC_CONFIGMAP]: specConfigMapName(name),
    [ENV_CONTROLLER_STATE_CONFIGMAP]: stateConfigMapName(name),
  };
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(errors.rolloutOverBudget(name, ROLLOUT_BUDGET_MS)), ROLLOUT_BUDGET_MS);
  });
  try {
    const r = await Promise.race([runTick(conn, one, now, (line) => log({ rollout: name, ...line }), context), budget]);
    return { name, ok: !r.failed, tickSeconds: r.tickSeconds, active: r.decision?.state.phase === 'progressing', ...(r.failed ? { error: r.failed.error } : {}) };
  } catch (e) {
    return failure(name, e as Error, log);
  } finally {
    clearTimeout(timer);
  }
}

function failure(name: string, e: Error, log: (line: Record<string, unknown>) => void): RolloutTickResult {
  log({ rollout: name, level: 'error', error: e.message });
  return { name, ok: false, error: e.message };
}

/** A Warning Event on each rollout whose tick failed (best-effort: the logs have it too). */
async function reportFailures(kube: KubeClient, namespace: string, rollouts: readonly RolloutTickResult[], now: number): Promise<void> {
  await inLanes(rollouts.filter((r) => !r.ok).map((r) => r.name), () => true, async (name) => {
    const error = rollouts.find((r) => r.name === name)?.error ?? 'the tick failed';
    await reportTickFailure(kube, namespace, stateConfigMapName(name), error, now).catch(() => undefined);
  });
}

/** Sub-minute ticks start at most this long after the run's process started. */
export const LAST_TICK_OFFSET_SECONDS = 50;

/**
 * The run ends this long after its process started, whatever is still under way: before the next run a minute
 * after the schedule, counted from the process's own start (not the Job's, which includes scheduling and pulling
 * the image). The Job's `activeDeadlineSeconds` is only a backstop for a hung process (step-controller.ts).
 */
export const RUN_SECONDS = 57;

/** Options of one run: injectable time, where logs go, and when it was told to stop. */
export interface RunMinuteOptions {
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: Record<string, unknown>) => void;
  /** When the process started (ms, `clock`): the run's budget counts from it. @default the call's time */
  readonly startedAt?: number;
  /** True once SIGTERM came: no rollout is started, sleeps end. */
  readonly stopping?: () => boolean;
}

/**
 * One CronJob run: tick every rollout of the namespace, then tick again the rollouts in progress whose
 * `tickSeconds` is under a minute, every `tickSeconds` from the run's start until `LAST_TICK_OFFSET_SECONDS`
 * (6 ticks a minute at 10 s), with the rollouts a cut-short pass did not reach taken first. A rollout stops being
 * re-ticked once it is not progressing (paused, promoted, aborted) or fails; an idle namespace's run ends after its
 * first pass. No rollout is started after `LAST_TICK_OFFSET_SECONDS`.
 */
export async function runMinute(conn: KubeConnection, env: NodeJS.ProcessEnv, options: RunMinuteOptions = {}): Promise<NamespaceTickResult> {
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = options.startedAt ?? clock();
  const run: RunState = {
    reached: new Map(),
    gates: new Map(),
    kube: new KubeClient(conn),
    clock,
    stopping: options.stopping,
    deadline: start + LAST_TICK_OFFSET_SECONDS * 1000,
  };
  const logAt = (now: number) => options.log ?? defaultLog(now);
  const now0 = clock();
  const first = await runNamespace(conn, env, now0, logAt(now0), undefined, { ...run, reportFailures: true });
  let failed = first.failed;
  let pending = first.rollouts.filter((r) => r.skipped).map((r) => r.name);
  let fast = first.rollouts.filter((r) => r.ok && r.active && (r.tickSeconds ?? TICK_SECONDS) < TICK_SECONDS);
  // every tick divides a minute: their greatest common divisor is the slot every due tick falls on
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const step = fast.reduce((g, r) => gcd(g, r.tickSeconds!), TICK_SECONDS);
  for (let offset = step; (fast.length > 0 || pending.length > 0) && offset <= LAST_TICK_OFFSET_SECONDS && !options.stopping?.(); offset += step) {
    const due = fast.filter((r) => offset % r.tickSeconds! === 0);
    if (due.length === 0 && pending.length === 0) continue;
    const wait = start + offset * 1000 - clock();
    if (wait > 0) await sleep(wait);
    // a slow pass ran past this slot: skip to the next one rather than tick late twice
    if (clock() - start > (offset + step / 2) * 1000 || options.stopping?.()) continue;
    const now = clock();
    const single = !!env[ENV_CONTROLLER_SPEC_CONFIGMAP];
    // the rollouts not reached yet this minute first (fairOrder puts never-reached ones ahead), then the due ones
    const names = [...new Set([...pending, ...due.map((x) => x.name)])];
    const r = await runNamespace(conn, env, now, logAt(now), single ? undefined : names, run);
    failed = failed || r.failed;
    pending = r.rollouts.filter((x) => x.skipped).map((x) => x.name);
    const ran = new Map(r.rollouts.filter((x) => !x.skipped).map((x) => [x.name, x]));
    fast = [
      ...fast.filter((x) => !ran.has(x.name)),
      ...[...ran.values()].filter((x) => x.ok && x.active && (x.tickSeconds ?? TICK_SECONDS) < TICK_SECONDS),
    ];
  }
  return { rollouts: first.rollouts, failed };
}

/**
 * The CronJob's process. It exits 0 whenever it could work (a rollout whose tick failed is reported on the rollout:
 * a Warning Event and its log line), 1 only when the controller itself cannot (no API, no credentials, its owner
 * list unreadable), so a job-failure alert means the controller is down. SIGTERM (a deadline, a deleted Job, a
 * drained node) stops it starting rollouts; it exits once the ticks under way end, within the pod's grace period.
 */
export function main(): void {
  const startedAt = Date.now() - process.uptime() * 1000;
  let stopping = false;
  let wake: (() => void) | undefined;
  process.on('SIGTERM', () => {
    stopping = true;
    wake?.();
  });
  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    wake = () => { clearTimeout(t); r(); };
  });
  // whatever is still under way at the run's end is left to the next run (every write is guarded)
  setTimeout(() => process.exit(0), Math.max(0, startedAt + RUN_SECONDS * 1000 - Date.now())).unref();
  Promise.resolve().then(() => runMinute(inClusterConnection(), process.env, { startedAt, sleep, stopping: () => stopping })).then(
    () => { process.exitCode = 0; },
    (e: Error) => {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', error: e.message })}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) main();

function defaultLog(now: number): (line: Record<string, unknown>) => void {
  return (line) => process.stdout.write(`${JSON.stringify({ time: new Date(now).toISOString(), ...line })}\n`);
}
