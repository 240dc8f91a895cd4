/**
 * `model-rollout`: plan, status and commands for rollouts on Kubernetes (kubeconfig) and AWS (SSM).
 *
 *   model-rollout plan <name>.rollout.json
 *   model-rollout status|history|pause|resume|promote|cancel|abort|rollback|retry <rollout> --kube [--context C] [-n N]
 *   model-rollout status|history|pause|resume|promote|cancel|abort|rollback|retry <rollout> --aws [--region R]
 *
 * Commands are appended to the rollout's command queue under optimistic concurrency (retried on a conflict) and
 * reported done only once stored; the controller handles every stored command, in order, at its next tick (within
 * a minute). `cancel` does not move the route itself: a route moved behind the controller's back was undone by a
 * tick in flight, and after promotion it sent all traffic to a version scaled to zero. Ticks are fenced instead:
 * a tick that wrote its state before the cancel stops acting as soon as the cancel is stored.
 */
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs as parseNodeArgs } from 'util';
import { parse as parseYaml } from 'yaml';
import { Backend, CliArgs, Replicas } from './backend';
import { queuedCommands, startDashboard } from './dashboard';
import { bashCompletion, packageVersion, zshCompletion } from './shell';

export { kubectlPluginArgs } from './shell';
import { LABEL_ROLLOUT, PLAN_JSON_SUFFIX, rolloutOfSpecConfigMap, specConfigMapName, stateConfigMapName } from '../../core/constants';
import { KubernetesTarget } from '../../core/contract/target';
import { computePlan, formatSeconds } from '../../core/plan/plan';
import { PlanDocument, renderPlanMarkdown, renderPlanText } from '../../core/plan/render';
import { stepSeconds } from '../../core/schedule';
import { RolloutSpec, StepSpec } from '../../core/spec';
import { Command, ControllerState } from '../../core/state';
import * as errors from '../errors';
import { HttpError } from '../http-request';
import { ConfigMapStore } from '../k8s/adapter';
import { KubeClient, KubeConnection, paths } from '../k8s/kube-client';

const TARGET_FLAGS = `target (one of):
  --kube [-n NAMESPACE] [--context NAME] [--kubeconfig PATH]     the rollout's ConfigMaps in a cluster
         [--spec-configmap NAME] [--state-configmap NAME]
  --aws [--region REGION] [--spec-parameter NAME]   the rollout's SSM spec parameter and the state table it names`;

/** What each command does: `summary` for the top-level help (one line), `does` for `model-rollout <command> --help`. */
const COMMANDS: Record<string, { readonly usage: string; readonly does: string; readonly summary?: string }> = {
  plan: {
    usage: 'plan <name>.rollout.json|<directory> [-o text|markdown|json]',
    does: 'Print the plan a synthesis wrote beside the manifests: the timeline table and what stops or holds the rollout.\n'
      + 'Given a directory, the one plan in it. -o markdown prints the Markdown (with its mermaid chart) as written for review.',
    summary: 'Print the plan a synthesis wrote beside the manifests (a file, or the directory holding it).',
  },
  status: {
    usage: 'status <rollout> (--kube|--aws) [-o table|json] [--watch [--timeout DURATION]]',
    summary: 'Show the phase, weights, replicas, step, gate, queued commands and the next change (--watch: live).',
    does: 'Show the phase, weights, replicas ready/desired per version (--kube), the step, the gate\'s progress, the commands\n'
      + 'stored and not yet handled by the controller, the time to the\n'
      + 'next change and a progress bar. With --watch, redraw every few seconds until the\n'
      + 'rollout is promoted, completed or aborted, or the timeout passes. Exit code: 0 promoted, completed or healthy;\n'
      + '3 aborted; 4 timed out (--watch).',
  },
  history: {
    usage: 'history <rollout> (--kube|--aws) [-o table|json]',
    does: 'Show the controller\'s last decisions (up to 50, oldest first): when, the phase, the step, the weights and why.',
  },
  list: { usage: 'list (--kube [-n NAMESPACE]) [-o table|json]', does: 'List the rollouts of a namespace with their phase and canary weight.' },
  dashboard: {
    usage: 'dashboard --kube [-n NAMESPACE] [--port PORT]',
    does: 'Serve a read-only web page on 127.0.0.1 showing every rollout of the namespace (phase, weights over time against\n'
      + 'the plan, replicas, checks, history), with the CLI\'s commands behind a confirmation. Stops with Ctrl-C.',
    summary: 'Serve a live view of a namespace\'s rollouts on 127.0.0.1 (read-only, commands behind a confirmation).',
  },
  completion: { usage: 'completion bash|zsh', does: 'Print a shell completion script: `source <(model-rollout completion bash)`.' },
  pause: { usage: 'pause <rollout> (--kube|--aws)', does: 'Hold the weights where they are, at the next tick, until `resume`.' },
  resume: { usage: 'resume <rollout> (--kube|--aws)', does: 'Go on from a pause: a `pause`, a manual pause step, or a gate that had no data.' },
  promote: {
    usage: 'promote <rollout> (--kube|--aws) [--full]',
    summary: 'Release the current pause step; with --full, skip every remaining step and move all traffic to the canary.',
    does: 'Without --full: release the current pause step and go on with the schedule (as `kubectl argo rollouts promote`).\n'
      + 'With --full: skip every remaining step and gate and move all traffic to the canary once its replicas are ready.',
  },
  cancel: {
    usage: 'cancel <rollout> (--kube|--aws)',
    summary: 'Roll back: every canary to 0 % at the next tick; after promotion, back to the previous version while it is warm.',
    does: 'Roll back: every canary to 0 % at the next tick (the stable floor first). Wins over any other command. After\n'
      + 'promotion, while the previous version is still warm, it takes the traffic back; after that the cancel is refused.',
  },
  abort: { usage: 'abort <rollout> (--kube|--aws)', does: 'The same as `cancel`.' },
  rollback: { usage: 'rollback <rollout> (--kube|--aws)', does: 'The same as `cancel`.' },
  retry: {
    usage: 'retry <rollout> (--kube|--aws)',
    summary: 'Restart an aborted rollout from its first step (as `kubectl argo rollouts retry`).',
    does: 'Restart an aborted rollout from its first step (as `kubectl argo rollouts retry`): the checks start over, the canary\n'
      + 'gets traffic again only once its replicas are ready. Ignored unless the rollout is aborted.',
  },
};

const USAGE = `usage: model-rollout <command> [arguments]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary ?? c.does}`).join('\n')}

${TARGET_FLAGS}

\`model-rollout --version\` prints the version.
\`model-rollout <command> --help\` says more about a command.`;

/** A command-line mistake: reported with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}


/** Strict parsing (`node:util` parseArgs): an unknown or misspelled option is an error, not a positional. */
export function parseArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseNodeArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'kube': { type: 'boolean' },
        'aws': { type: 'boolean' },
        'namespace': { type: 'string', short: 'n' },
        'context': { type: 'string' },
        'kubeconfig': { type: 'string' },
        'output': { type: 'string', short: 'o' },
        'no-color': { type: 'boolean' },
        'region': { type: 'string' },
        'spec-configmap': { type: 'string' },
        'state-configmap': { type: 'string' },
        'spec-parameter': { type: 'string' },
        'full': { type: 'boolean' },
        'watch': { type: 'boolean', short: 'w' },
        'timeout': { type: 'string' },
        'interval': { type: 'string' },
        'help': { type: 'boolean', short: 'h' },
        'version': { type: 'boolean' },
        'port': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const flags: Record<string, string | true> = {};
  for (const [k, v] of Object.entries(parsed.values)) if (v !== undefined && v !== false) flags[k] = v as string | true;
  const [verb, subject, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}`);
  const outputs = verb === 'plan' ? ['text', 'markdown', 'json'] : ['table', 'json'];
  if (flags.output !== undefined && !outputs.includes(String(flags.output))) throw new UsageError(`-o/--output is ${outputs.join(' or ')}, not "${flags.output}"`);
  return { verb: verb ?? 'help', subject, flags };
}

/** `90s`, `15m`, `1h`, or seconds. */
function seconds(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag} is a duration such as 90s, 15m or 1h, not "${value}"`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2] ?? 's'];
}

/**
 * A kubeconfig context as a connection: a token, a token file, a client certificate, or an exec plugin (as every
 * `aws eks update-kubeconfig` writes), run as kubectl runs it and read as an ExecCredential.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 */
function kubeconfigConnection(file: string, context?: string): { conn: KubeConnection; namespace?: string } {
  if (!fs.existsSync(file)) {
    throw errors.noKubeconfig(file);
  }
  let config: any;
  try {
    config = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch {
    throw errors.notAKubeconfig(file);
  }
  if (!config || typeof config !== 'object' || !Array.isArray(config.contexts)) throw errors.notAKubeconfig(file);
  const known: string[] = config.contexts.map((c: any) => String(c?.name));
  const name = context ?? config['current-context'];
  if (!name) throw errors.noCurrentContext(file, known);
  const ctx = config.contexts.find((c: any) => c?.name === name)?.context;
  if (!ctx) throw errors.noKubeContext(name, file, known);
  const cluster = (config.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
  const user = (config.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
  if (!cluster) throw errors.noKubeCluster(ctx.cluster, file);
  const exec = user.exec ? execCredential(user.exec, name) : undefined;
  const b64 = (v?: string) => (v ? Buffer.from(v, 'base64') : undefined);
  const readFile = (p?: string) => (p ? fs.readFileSync(path.resolve(path.dirname(file), p)) : undefined);
  return {
    conn: {
      server: cluster.server,
      ca: b64(cluster['certificate-authority-data']) ?? readFile(cluster['certificate-authority']),
      insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
      token: exec?.token ?? user.token ?? (user.tokenFile ? fs.readFileSync(user.tokenFile, 'utf8').trim() : undefined),
      cert: (exec?.clientCertificateData ? Buffer.from(exec.clientCertificateData) : undefined) ?? b64(user['client-certificate-data']) ?? readFile(user['client-certificate']),
      key: (exec?.clientKeyData ? Buffer.from(exec.clientKeyData) : undefined) ?? b64(user['client-key-data']) ?? readFile(user['client-key']),
    },
    namespace: ctx.namespace,
  };
}

/** Run a kubeconfig exec plugin and read its ExecCredential (`status.token`, or a client certificate and key). */
function execCredential(exec: any, context: string): { token?: string; clientCertificateData?: string; clientKeyData?: string } {
  const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e: any) => [e.name, e.value])) };
  let output: string;
  try {
    output = execFileSync(exec.command, exec.args ?? [], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    throw errors.credentialPluginFailed(context, exec.command, (e as Error).message.split('\n')[0]);
  }
  const status = JSON.parse(output)?.status ?? {};
  if (!status.token && !status.clientCertificateData) throw errors.credentialPluginEmpty(context, exec.command);
  return status;
}

/**
 * The kubeconfig file: --kubeconfig, else the first KUBECONFIG entry that exists, else ~/.kube/config. Empty entries
 * are skipped and an empty KUBECONFIG counts as unset, as kubectl does (client-go `loadingRules`: "empty filenames
 * are ignored"; https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/). kubectl merges
 * the files; the first one that exists is the one read here.
 */
export function kubeconfigFile(flags: CliArgs['flags'], env: NodeJS.ProcessEnv): string {
  if (typeof flags.kubeconfig === 'string') return flags.kubeconfig;
  const entries = (env.KUBECONFIG ?? '').split(path.delimiter).filter((e) => e.trim() !== '');
  return entries.find((e) => fs.existsSync(e)) ?? entries[0] ?? path.join(env.HOME ?? os.homedir(), '.kube', 'config');
}

/**
 * The cluster and namespace the flags name (the file: `kubeconfigFile`);
 * --context, else the current one; -n, else the context's namespace. Resolved once per command (an exec plugin
 * such as `aws eks get-token` runs once, not once per rollout).
 */
function kubeTarget(flags: CliArgs['flags'], env: NodeJS.ProcessEnv): { kube: KubeClient; namespace: string } {
  const file = kubeconfigFile(flags, env);
  const { conn, namespace: ctxNamespace } = kubeconfigConnection(file, typeof flags.context === 'string' ? flags.context : undefined);
  return { kube: new KubeClient(conn), namespace: typeof flags.namespace === 'string' ? flags.namespace : ctxNamespace ?? 'default' };
}

function kubeBackend(rollout: string, flags: CliArgs['flags'], cluster: { kube: KubeClient; namespace: string }): Backend {
  const { kube, namespace } = cluster;
  const store = new ConfigMapStore(kube, {
    namespace,
    specConfigMap: typeof flags['spec-configmap'] === 'string' ? flags['spec-configmap'] : specConfigMapName(rollout),
    stateConfigMap: typeof flags['state-configmap'] === 'string' ? flags['state-configmap'] : stateConfigMapName(rollout),
  });
  return {
    read: async () => store.read(),
    appendCommand: (kind, id, at) => store.appendCommand(kind, id, at),
    // the Deployments, read with the CLI user's own RBAC: a version it may not read shows why, status goes on
    replicas: async (spec, target) => {
      const t = target as KubernetesTarget;
      const versions = [spec.stable, ...spec.canaries.map((c) => c.version), ...(spec.mirror ? [spec.mirror.version] : [])];
      const out: Record<string, Replicas> = {};
      await Promise.all(versions.map(async (v) => {
        const b = t.backends?.[v];
        if (!b) return;
        try {
          const d = await kube.get(paths.deployment(t.namespace ?? namespace, b.deployment));
          out[v] = { ready: d.status?.readyReplicas ?? 0, desired: d.spec?.replicas ?? 0 };
        } catch (e) {
          out[v] = { error: e instanceof HttpError ? `HTTP ${e.status}` : (e as Error).message };
        }
      }));
      return out;
    },
  };
}

/**
 * The AWS part of the CLI (the SDK), loaded only for `--aws`: the build bundles it apart
 * (assets/controller/cli/aws-backend/index.js) and this computed path keeps esbuild from inlining it, so the
 * Kubernetes CLI bundle carries no AWS SDK. From the sources (tests), the module itself.
 */
function loadAwsBackend(env: NodeJS.ProcessEnv): typeof import('./aws-backend') {
  // The SDK warns on every run under Node < 22 about SDK releases after January 2027 (`emitWarningIfUnsupportedVersion`
  // in @aws-sdk/core); the CLI bundles its SDK, so the notice says nothing about this command. The SDK's own switch
  // turns it off unless the user set it.
  if (env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const bundled = path.join(__dirname, '..', 'aws-backend', 'index.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(fs.existsSync(bundled) ? bundled : path.join(__dirname, 'aws-backend'));
}

/** When the rollout changes next, as a time and why (`-` when nothing is scheduled). */
export function nextChange(spec: RolloutSpec, state: ControllerState, now: number): { at?: number; what: string } {
  const step: StepSpec | undefined = spec.steps[state.stepIndex];
  if (state.phase === 'paused') {
    return { what: state.pauseReason === 'manualStep' ? 'waits for `promote` (or `resume`)' : state.pauseReason === 'command' ? 'waits for `resume`' : 'waits for data, or `resume`' };
  }
  if (state.phase !== 'progressing') return { what: '-' };
  if (step?.kind === 'pause') return { at: state.stepStartedAt + stepSeconds(step) * 1000, what: 'the pause ends' };
  if (step?.kind === 'analysis') {
    const at = state.gate?.lastAt !== undefined ? state.gate.lastAt + step.gate.intervalSeconds * 1000 : now;
    return { at, what: `measurement ${(state.gate?.measurements ?? 0) + 1}/${step.gate.count} of "${step.gate.name}"` };
  }
  if (step?.kind === 'shadow' && state.capacityWaitSince === undefined) {
    // the copies flow once the route mirrors (shadowFrom); the error test may end the step before its cap
    if (state.shadowFrom === undefined) return { what: `the route starts mirroring ${step.percent} % of requests to the canary` };
    return { at: state.shadowFrom + step.maxSeconds * 1000, what: `the shadow step ends (earlier once the error test passes on the copies${state.shadowPassCopies !== undefined ? `: passed after ${state.shadowPassCopies}, holding until ${2 * state.shadowPassCopies}` : ''})` };
  }
  if (state.capacityWaitSince !== undefined) return { what: 'waits for the canary\'s replicas to be ready' };
  return { what: 'at the next tick (within a minute), once the replicas are ready' };
}

function inWords(ms: number): string {
  if (ms <= 0) return 'now';
  const sec = Math.round(ms / 1000);
  return sec < 60 ? `in ${sec} s` : sec < 3600 ? `in ${Math.floor(sec / 60)}m ${sec % 60}s` : `in ${Math.floor(sec / 3600)}h ${Math.floor((sec % 3600) / 60)}m`;
}

/** The gate of the current step and how far it got, or undefined when the step has none. */
function gateProgress(spec: RolloutSpec, state: ControllerState): string | undefined {
  const step = spec.steps[state.stepIndex];
  if (step?.kind !== 'analysis') return undefined;
  const g = state.gate ?? { measurements: 0, failures: 0, inconclusive: 0 };
  return `"${step.gate.name}" ${g.measurements}/${step.gate.count} measurements, ${g.failures} failed (limit ${step.gate.failureLimit}), ${g.inconclusive} inconclusive`;
}

/** `status`: phase, weights, replicas, step, gate, next change and a progress bar. */
function renderStatus(
  spec: RolloutSpec, state: ControllerState | undefined, now: number, replicas?: Record<string, Replicas>, queued: readonly Command[] = [],
): string {
  // commands stored and not yet handled: a cancel sent before the first tick shows here until the controller takes it
  const queue = queued.length > 0
    ? [`queued    ${queued.map((c) => `${c.kind}${c.seq !== undefined ? ` #${c.seq}` : ''} (${inWords(now - c.at).replace(/^in /, '')} ago)`).join(', ')}: the controller handles them at its next tick`]
    : [];
  if (!state) return [`${spec.name}: not started (no state yet: the controller has not ticked)`, ...queue].join('\n');
  const canaryWeight = spec.canaries.reduce((sum, c) => sum + (state.weights[c.version] ?? 0), 0);
  const target = spec.canaries.reduce((sum, c) => sum + c.targetWeight, 0);
  const width = 30;
  const filled = Math.round((canaryWeight / Math.max(1, target)) * width);
  const step = spec.steps[state.stepIndex];
  const next = nextChange(spec, state, now);
  const gate = gateProgress(spec, state);
  const plan = computePlan(spec);
  const replicaText = replicas && Object.keys(replicas).length > 0
    ? Object.entries(replicas).map(([v, r]) => (r.error ? `${v} unknown (${r.error})` : `${v} ${r.ready}/${r.desired} ready`)).join(', ')
    : undefined;
  return [
    `rollout   ${spec.name} (${spec.path})`,
    `phase     ${state.phase}${state.pauseReason ? ` (${state.pauseReason})` : ''}${state.reason ? `: ${state.reason}` : ''}`,
    `weights   ${Object.entries(state.weights).map(([v, w]) => `${v} ${w}%`).join(', ')}`,
    ...(replicaText ? [`replicas  ${replicaText}`] : []),
    `step      ${Math.min(state.stepIndex + 1, spec.steps.length)}/${spec.steps.length}${step ? ` (${step.kind})` : ''}`,
    ...(gate ? [`gate      ${gate}`] : []),
    ...queue,
    `next      ${next.at !== undefined ? `${inWords(next.at - now)} (${new Date(next.at).toISOString()}): ${next.what}` : next.what}`,
    `progress  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${canaryWeight}% of ${target}%`,
    `plan      ${formatSeconds(plan.totalSeconds)} nominal, updated ${Math.round((now - state.updatedAt) / 1000)} s ago`,
  ].join('\n');
}

/** Exit codes scripts can use. */
export const EXIT = { ok: 0, error: 1, usage: 2, aborted: 3, timedOut: 4 } as const;

/** Run the CLI; returns the exit code. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
  now = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    out(`model-rollout: ${(e as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.flags.version) {
    out(`model-rollout ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[args.verb];
  if (args.verb === 'help' || (!command && args.flags.help)) {
    out(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (!command) {
    out(`model-rollout: unknown command "${args.verb}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.flags.help) {
    out(`usage: model-rollout ${command.usage}\n\n${command.does}\n${['plan', 'completion'].includes(args.verb) ? '' : `\n${TARGET_FLAGS}\n`}`);
    return EXIT.ok;
  }
  if (args.verb === 'completion') return completion(args, out);
  if (args.verb === 'plan') return printPlan(args, out);
  if (args.verb === 'list') return list(args, env, out);
  if (args.verb === 'dashboard') return dashboard(args, env, out);
  if (!args.subject) {
    out(`model-rollout: ${args.verb} needs the rollout's name\n\nusage: model-rollout ${command.usage}\n`);
    return EXIT.usage;
  }
  if (!args.flags.kube && !args.flags.aws) {
    out(`model-rollout: say where the rollout is: --kube (a cluster, through your kubeconfig) or --aws (SSM)\n\nusage: model-rollout ${command.usage}\n`);
    return EXIT.usage;
  }
  const backend = args.flags.aws
    ? loadAwsBackend(env).awsBackend(args.subject, args.flags)
    : kubeBackend(args.subject, args.flags, kubeTarget(args.flags, env));
  const read = () => backend.read().catch((e) => {
    if (e instanceof HttpError && e.status === 404) {
      throw errors.rolloutNotFound(args.subject!, specConfigMapName(args.subject!));
    }
    throw e;
  });
  if (args.verb === 'status') return showStatus(args, read, backend.replicas?.bind(backend), out, now, sleep);
  if (args.verb === 'history') {
    const stored = await read();
    out(renderHistory(stored.spec, stored.state, args.flags.output === 'json'));
    return EXIT.ok;
  }
  const kind: Command['kind'] = args.verb === 'abort' || args.verb === 'rollback' ? 'cancel' : args.verb === 'promote' && !args.flags.full ? 'resume' : args.verb as Command['kind'];
  const stored = await read();
  const note = commandNote(kind, stored.spec, stored.state);
  if (note) out(`note: ${note}\n`);
  const stored2 = await backend.appendCommand(kind, randomUUID(), now());
  const what = `${args.verb}${kind !== args.verb ? ` (${kind})` : ''}: stored as #${stored2.seq} (${stored2.id})`;
  if (!backend.wake) {
    out(`${what}; the controller handles it at its next tick (within a minute)\n`);
    return EXIT.ok;
  }
  // AWS: the schedule is off once the rollout settled; the function is invoked so the command is handled now
  const woke = await backend.wake();
  if (woke.ok) {
    out(`${what}; the controller (${woke.target}) was invoked and handles it within seconds\n`);
    return EXIT.ok;
  }
  out(`${what}, but the controller (${woke.target}) could not be invoked: ${woke.error}\n`
    + 'The command waits for the controller\'s next scheduled tick, and the schedule is off once a rollout is finished. Allow the\n'
    + `caller lambda:InvokeFunction on ${woke.target}, or run: aws lambda invoke --function-name ${woke.target} --invocation-type Event /dev/null\n`);
  return EXIT.error;
}

/** What the controller will do with `kind` in the rollout's phase, when it is not the obvious. */
function commandNote(kind: Command['kind'], spec: RolloutSpec, state: ControllerState | undefined): string | undefined {
  const phase = state?.phase ?? 'not started';
  if (kind === 'cancel' && state?.phase === 'promoted') {
    const previous = state.previousVersion;
    if (!previous || state.previousScaledDown) {
      return `${spec.name} is promoted and ${previous ? `${previous} was scaled down when its keep-warm window ended` : 'no previous version is kept warm'}: `
        + `the controller will refuse this cancel (traffic stays on ${state.servingVersion ?? 'the promoted version'}). To go back, roll ${previous ?? 'the previous version'} out again as a canary`;
    }
    return `${spec.name} is promoted and ${previous} is still warm: the controller rolls back, ${previous} takes the traffic back as its ready replicas carry it`;
  }
  if (kind === 'cancel' && state?.phase === 'aborted') return `${spec.name} is already aborted: the controller records the cancel and changes nothing`;
  if (kind === 'retry' && state?.phase !== 'aborted') return `${spec.name} is ${phase}, not aborted: the controller will ignore this retry`;
  if (kind === 'retry') return `${spec.name} is aborted: the controller restarts it from the first step; the canary gets traffic again once its replicas are ready`;
  return undefined;
}

/** `history`: the state's decision trail, as a table or JSON. */
function renderHistory(spec: RolloutSpec, state: ControllerState | undefined, json: boolean): string {
  const entries = state?.history ?? [];
  if (json) return `${JSON.stringify(entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), null, 2)}\n`;
  if (entries.length === 0) return `${spec.name}: no decisions recorded yet${state ? ' (the controller records them from this version on)' : ' (not started)'}\n`;
  const rows = entries.map((e) => [
    new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    `${e.phase}${e.pauseReason ? `(${e.pauseReason})` : ''}`,
    `${Math.min(e.step + 1, spec.steps.length)}/${spec.steps.length}`,
    Object.entries(e.weights).map(([v, w]) => `${v}=${w}`).join(','),
    `${e.events?.length ? `[${e.events.join(',')}] ` : ''}${e.reason}`,
  ]);
  const head = ['TIME', 'PHASE', 'STEP', 'WEIGHTS', 'WHY'];
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r.slice(0, 4).map((c, i) => c.padEnd(widths[i])).join('  ')}  ${r[4]}`.trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

function printPlan(args: CliArgs, out: (s: string) => void): number {
  if (!args.subject) {
    out(`model-rollout: plan needs a <name>.rollout.json file\n\nusage: model-rollout ${COMMANDS.plan.usage}\n`);
    return EXIT.usage;
  }
  const file = planFile(args.subject);
  let doc: PlanDocument;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as PlanDocument;
  } catch {
    throw errors.planNotJson(file);
  }
  if (!doc || doc.kind !== 'RolloutPlan' || (!doc.plan && !doc.spec)) throw errors.notAPlan(file);
  // the plan of the spec the controller reads: recomputed from it, so an older file renders with today's wording
  const data = doc.spec ? computePlan(doc.spec) : doc.plan;
  const output = args.flags.output ?? 'text';
  // a terminal gets the table and the safety statements; the mermaid chart is for Markdown viewers (-o markdown)
  out(output === 'json' ? `${JSON.stringify(data, null, 2)}\n` : output === 'markdown' ? renderPlanMarkdown(data) : renderPlanText(data));
  return EXIT.ok;
}

/** The plan file a path names: the file itself, or the one `*.rollout.json` under a directory (a synth output). */
function planFile(subject: string): string {
  if (!fs.existsSync(subject)) throw errors.noPlanFile(subject);
  if (!fs.statSync(subject).isDirectory()) return subject;
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 3 && e.name !== 'node_modules') walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith(PLAN_JSON_SUFFIX)) found.push(p);
    }
  };
  walk(subject, 0);
  if (found.length !== 1) throw errors.planDirectory(subject, found.sort());
  return found[0];
}

/** The status of one rollout, as a document for `-o json` and scripts. */
function statusDocument(spec: RolloutSpec, state: ControllerState | undefined, now?: number, replicas?: Record<string, Replicas>) {
  const next = state && now !== undefined ? nextChange(spec, state, now) : undefined;
  return {
    rollout: spec.name,
    phase: state?.phase ?? 'not started',
    pauseReason: state?.pauseReason,
    reason: state?.reason,
    weights: state?.weights,
    step: state ? { index: state.stepIndex, of: spec.steps.length } : undefined,
    floors: state?.floors,
    ...(replicas ? { replicas } : {}),
    ...(state?.gate ? { gate: state.gate } : {}),
    ...(next ? { next: { at: next.at !== undefined ? new Date(next.at).toISOString() : undefined, what: next.what } } : {}),
    updatedAt: state ? new Date(state.updatedAt).toISOString() : undefined,
  };
}

async function showStatus(
  args: CliArgs,
  read: Backend['read'],
  replicasOf: Backend['replicas'],
  out: (s: string) => void,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): Promise<number> {
  const deadline = args.flags.timeout ? now() + seconds(String(args.flags.timeout), '--timeout') * 1000 : Infinity;
  const interval = args.flags.interval ? seconds(String(args.flags.interval), '--interval') * 1000 : 5000;
  for (;;) {
    const stored = await read();
    const phase = stored.state?.phase;
    const replicas = replicasOf ? await replicasOf(stored.spec, stored.target) : undefined;
    const queued = queuedCommands(stored.state, stored.commands, stored.command);
    const text = args.flags.output === 'json'
      ? JSON.stringify({
        ...statusDocument(stored.spec, stored.state, now(), replicas),
        queued: queued.map((c) => ({ kind: c.kind, seq: c.seq, at: new Date(c.at).toISOString() })),
      })
      : renderStatus(stored.spec, stored.state, now(), replicas, queued);
    // a live redraw on a terminal; one block per read otherwise (logs, pipes)
    const redraw = args.flags.watch && !args.flags['no-color'] && args.flags.output !== 'json' && process.stdout.isTTY;
    out(`${redraw ? '\x1b[2J\x1b[H' : ''}${text}\n`);
    if (phase === 'aborted') return EXIT.aborted;
    if (!args.flags.watch || phase === 'promoted' || phase === 'completed') return EXIT.ok;
    if (now() >= deadline) {
      out(`model-rollout: ${stored.spec.name} is still ${phase ?? 'not started'} after --timeout ${args.flags.timeout}\n`);
      return EXIT.timedOut;
    }
    await sleep(Math.min(interval, Math.max(0, deadline - now())));
  }
}

/** The rollouts of a namespace: one per spec ConfigMap (labelled `LABEL_ROLLOUT`). */
async function rolloutNames(cluster: { kube: KubeClient; namespace: string }): Promise<string[]> {
  const cms = await cluster.kube.get(`/api/v1/namespaces/${cluster.namespace}/configmaps?labelSelector=${encodeURIComponent(LABEL_ROLLOUT)}`);
  return ((cms as any).items ?? []).map((o: any) => rolloutOfSpecConfigMap(String(o.metadata.name)))
    .filter((n: string | undefined): n is string => n !== undefined).sort();
}

/** `completion bash|zsh`: the script for the shell. */
function completion(args: CliArgs, out: (s: string) => void): number {
  const words = {
    commands: Object.keys(COMMANDS),
    options: Object.fromEntries(Object.entries(COMMANDS).map(([name, c]) => [name, [...new Set(c.usage.match(/--?[a-z][a-z-]*/g) ?? [])]
      .concat(['plan', 'completion', 'list', 'dashboard'].includes(name) ? [] : ['--kube', '--aws', '-n', '--namespace', '--context', '--kubeconfig', '--region'])])),
  };
  if (args.subject === 'bash') {out(bashCompletion(words));} else if (args.subject === 'zsh') {out(zshCompletion(words));} else {
    out(`model-rollout: completion takes bash or zsh${args.subject ? `, not "${args.subject}"` : ''}\n\nusage: model-rollout ${COMMANDS.completion.usage}\n`);
    return EXIT.usage;
  }
  return EXIT.ok;
}

/**
 * `dashboard`: serve the namespace's rollouts on 127.0.0.1 until interrupted (`serveDashboard` returns the server
 * for tests; this waits for SIGINT/SIGTERM).
 */
async function dashboard(args: CliArgs, env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  if (!args.flags.kube) {
    out(`model-rollout: dashboard works with --kube (a namespace's rollouts)\n\nusage: model-rollout ${COMMANDS.dashboard.usage}\n`);
    return EXIT.usage;
  }
  const d = await serveDashboard(args.flags, env);
  out(`model-rollout dashboard: ${d.url} (namespace ${d.namespace}; Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
  return EXIT.ok;
}

/** The dashboard of the namespace the flags name, with the user's kubeconfig. */
export async function serveDashboard(flags: CliArgs['flags'], env: NodeJS.ProcessEnv, options: { readonly pollMs?: number; readonly now?: () => number } = {}) {
  const cluster = kubeTarget(flags, env);
  const port = typeof flags.port === 'string' ? Number(flags.port) : 7420;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is a TCP port (0 to 65535), not "${flags.port}"`);
  const d = await startDashboard({
    namespace: cluster.namespace,
    names: () => rolloutNames(cluster),
    backend: (name) => kubeBackend(name, {}, cluster),
  }, { port, ...options });
  return { ...d, namespace: cluster.namespace };
}

/** `list`: the rollouts of a namespace, one per spec ConfigMap. */
async function list(args: CliArgs, env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  if (!args.flags.kube) {
    out(`model-rollout: list works with --kube (a namespace's rollouts)\n\nusage: model-rollout ${COMMANDS.list.usage}\n`);
    return EXIT.usage;
  }
  const cluster = kubeTarget(args.flags, env);
  const names = await rolloutNames(cluster);
  const rows = [];
  for (const name of names) {
    const stored = await kubeBackend(name, {}, cluster).read().catch(() => undefined);
    rows.push(stored ? statusDocument(stored.spec, stored.state) : { rollout: name, phase: 'unreadable' });
  }
  if (args.flags.output === 'json') {
    out(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    out(`${['ROLLOUT'.padEnd(32), 'PHASE'.padEnd(12), 'WEIGHTS'].join(' ')}\n`);
    for (const r of rows) out(`${r.rollout.padEnd(32)} ${String(r.phase).padEnd(12)} ${Object.entries((r as any).weights ?? {}).map(([v, w]) => `${v} ${w}%`).join(', ')}\n`);
  }
  return EXIT.ok;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
    process.stderr.write(`model-rollout: ${e.message}\n`);
    process.exitCode = EXIT.error;
  });
}
