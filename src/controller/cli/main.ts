/**
 * `model-rollout`: plan, status and commands for rollouts on Kubernetes (kubeconfig) and AWS (SSM).
 *
 *   model-rollout plan <name>.rollout.json
 *   model-rollout status|pause|resume|promote|cancel <rollout> --kube [--context C] [--namespace N]
 *   model-rollout status|pause|resume|promote|cancel <rollout> --aws [--region R]
 *
 * Commands are appended to the rollout's command queue under optimistic concurrency (retried on a conflict) and
 * reported done only once stored; the controller handles every stored command, in order, at its next tick (within
 * a minute). `cancel` does not move the route itself: a route moved behind the controller's back was undone by a
 * tick in flight, and after promotion it sent all traffic to a version scaled to zero. Ticks are fenced instead:
 * a tick that wrote its state before the cancel stops acting as soon as the cancel is stored.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { parse as parseYaml } from 'yaml';
import {
  specConfigMapName, specParameterName, stateConfigMapName, stateParameterName,
} from '../../core/constants';
import { computePlan, formatSeconds } from '../../core/plan/plan';
import { PlanDocument, renderPlanMarkdown, renderPlanText } from '../../core/plan/render';
import { stepSeconds } from '../../core/schedule';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState } from '../../core/state';
import { SsmStore } from '../aws/adapter';
import { ConfigMapStore } from '../k8s/adapter';
import { KubeClient, KubeConnection } from '../k8s/kube-client';

const USAGE = `usage:
  model-rollout plan <name>.rollout.json
  model-rollout <status|pause|resume|promote|cancel> <rollout> --kube [--context NAME] [--kubeconfig PATH] [--namespace NS]
      [--spec-configmap NAME] [--state-configmap NAME]
  model-rollout <status|pause|resume|promote|cancel> <rollout> --aws [--region REGION]
      [--spec-parameter NAME] [--state-parameter NAME]`;

/** A rollout's store, whichever the target. */
interface Backend {
  read(): Promise<{ spec: RolloutSpec; state?: ControllerState; target: unknown }>;
  appendCommand(kind: Command['kind'], id: string, at: number): Promise<Command>;
}

/** Parsed command line. */
export interface CliArgs {
  readonly verb: string;
  readonly subject?: string;
  readonly flags: Record<string, string | true>;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [key, inline] = a.slice(2).split('=', 2);
      if (inline !== undefined) flags[key] = inline;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--') && !['kube', 'aws'].includes(key)) flags[key] = argv[++i];
      else flags[key] = true;
    } else {
      positional.push(a);
    }
  }
  return { verb: positional[0] ?? 'help', subject: positional[1], flags };
}

/** A kubeconfig context as a connection (token or client certificate; exec plugins are not supported). */
export function kubeconfigConnection(file: string, context?: string): { conn: KubeConnection; namespace?: string } {
  const config = parseYaml(fs.readFileSync(file, 'utf8')) as any;
  const name = context ?? config['current-context'];
  const ctx = (config.contexts ?? []).find((c: any) => c.name === name)?.context;
  if (!ctx) throw new Error(`no context "${name}" in ${file}`);
  const cluster = (config.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
  const user = (config.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
  if (!cluster) throw new Error(`no cluster "${ctx.cluster}" in ${file}`);
  if (user.exec) throw new Error(`context "${name}" authenticates with an exec plugin, which model-rollout does not run; use a token (kubectl create token) or a client certificate`);
  const b64 = (v?: string) => (v ? Buffer.from(v, 'base64') : undefined);
  const readFile = (p?: string) => (p ? fs.readFileSync(path.resolve(path.dirname(file), p)) : undefined);
  return {
    conn: {
      server: cluster.server,
      ca: b64(cluster['certificate-authority-data']) ?? readFile(cluster['certificate-authority']),
      insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
      token: user.token ?? (user.tokenFile ? fs.readFileSync(user.tokenFile, 'utf8').trim() : undefined),
      cert: b64(user['client-certificate-data']) ?? readFile(user['client-certificate']),
      key: b64(user['client-key-data']) ?? readFile(user['client-key']),
    },
    namespace: ctx.namespace,
  };
}

function kubeBackend(rollout: string, flags: CliArgs['flags'], env: NodeJS.ProcessEnv): Backend {
  const file = typeof flags.kubeconfig === 'string' ? flags.kubeconfig : (env.KUBECONFIG?.split(path.delimiter)[0] ?? path.join(os.homedir(), '.kube', 'config'));
  const { conn, namespace: ctxNamespace } = kubeconfigConnection(file, typeof flags.context === 'string' ? flags.context : undefined);
  const kube = new KubeClient(conn);
  const namespace = typeof flags.namespace === 'string' ? flags.namespace : ctxNamespace ?? 'default';
  const store = new ConfigMapStore(kube, {
    namespace,
    specConfigMap: typeof flags['spec-configmap'] === 'string' ? flags['spec-configmap'] : specConfigMapName(rollout),
    stateConfigMap: typeof flags['state-configmap'] === 'string' ? flags['state-configmap'] : stateConfigMapName(rollout),
  });
  return { read: async () => store.read(), appendCommand: (kind, id, at) => store.appendCommand(kind, id, at) };
}

function awsBackend(rollout: string, flags: CliArgs['flags']): Backend {
  const region = typeof flags.region === 'string' ? flags.region : undefined;
  const store = new SsmStore(new SSMClient({ region }),
    typeof flags['spec-parameter'] === 'string' ? flags['spec-parameter'] : specParameterName(rollout),
    typeof flags['state-parameter'] === 'string' ? flags['state-parameter'] : stateParameterName(rollout));
  return { read: async () => store.read(), appendCommand: (kind, id, at) => store.appendCommand(kind, id, at) };
}

/** `status`: phase, weights, step, next change and a progress bar. */
export function renderStatus(spec: RolloutSpec, state: ControllerState | undefined, now: number): string {
  if (!state) return `${spec.name}: not started (no state yet: the controller has not ticked)`;
  const canaryWeight = spec.canaries.reduce((sum, c) => sum + (state.weights[c.version] ?? 0), 0);
  const target = spec.canaries.reduce((sum, c) => sum + c.targetWeight, 0);
  const width = 30;
  const filled = Math.round((canaryWeight / Math.max(1, target)) * width);
  const step = spec.steps[state.stepIndex];
  let next = '-';
  if (state.phase === 'progressing' && step?.kind === 'pause') {
    next = new Date(state.stepStartedAt + stepSeconds(step) * 1000).toISOString();
  } else if (state.phase === 'progressing') {
    next = 'at the next tick, when its gate allows';
  }
  const plan = computePlan(spec);
  return [
    `rollout   ${spec.name} (${spec.path})`,
    `phase     ${state.phase}${state.pauseReason ? ` (${state.pauseReason})` : ''}${state.reason ? `: ${state.reason}` : ''}`,
    `weights   ${Object.entries(state.weights).map(([v, w]) => `${v} ${w}%`).join(', ')}`,
    `step      ${Math.min(state.stepIndex + 1, spec.steps.length)}/${spec.steps.length}${step ? ` (${step.kind})` : ''}`,
    `next      ${next}`,
    `progress  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${canaryWeight}% of ${target}%`,
    `plan      ${formatSeconds(plan.totalSeconds)} nominal, updated ${Math.round((now - state.updatedAt) / 1000)} s ago`,
  ].join('\n');
}

/** Run the CLI; returns the exit code. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
  now = Date.now,
): Promise<number> {
  const args = parseArgs(argv);
  if (args.verb === 'plan') {
    if (!args.subject) throw new Error(`plan needs a file\n${USAGE}`);
    const doc = JSON.parse(fs.readFileSync(args.subject, 'utf8')) as PlanDocument;
    const plan = doc.plan ?? computePlan(doc.spec);
    const md = renderPlanMarkdown(plan);
    out(`${renderPlanText(plan)}\n${md.slice(md.indexOf('```mermaid'))}`);
    return 0;
  }
  if (!['status', 'pause', 'resume', 'promote', 'cancel'].includes(args.verb) || !args.subject || (!args.flags.kube && !args.flags.aws)) {
    out(`${USAGE}\n`);
    return args.verb === 'help' ? 0 : 2;
  }
  const backend = args.flags.aws ? awsBackend(args.subject, args.flags) : kubeBackend(args.subject, args.flags, env);
  const stored = await backend.read();
  if (args.verb === 'status') {
    out(`${renderStatus(stored.spec, stored.state, now())}\n`);
    return 0;
  }
  const kind = args.verb as Command['kind'];
  const phase = stored.state?.phase;
  if (kind === 'cancel' && phase === 'promoted') {
    out(`note: ${stored.spec.name} is promoted: the controller ignores cancel now (traffic stays where it is); deploy the previous version as stable to go back\n`);
  }
  const command = await backend.appendCommand(kind, randomUUID(), now());
  out(`${command.kind}: stored as #${command.seq} (${command.id}); the controller handles it at its next tick (within a minute)\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
    process.stderr.write(`model-rollout: ${e.message}\n`);
    process.exitCode = 1;
  });
}
