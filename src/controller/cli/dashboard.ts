/**
 * `model-rollout dashboard`: a local web page showing every rollout of a namespace, read with the user's own
 * kubeconfig (their RBAC), served on 127.0.0.1 only. It reads what `status` reads (the spec and state ConfigMaps,
 * the Deployments) and stores commands the way the CLI does (`appendCommand`, optimistic concurrency); the
 * controller handles them at its next tick. Nothing else is written.
 *
 * A page on another site must not be able to send commands through the user's browser: a command needs the
 * per-server token the page carries (a custom header, which a cross-site request cannot set without a CORS
 * preflight this server never grants), and requests whose Host is not the loopback address are refused (DNS
 * rebinding; https://owasp.org/www-community/attacks/DNS_Rebinding).
 */
import { randomBytes, randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { Backend, Replicas } from './backend';
import { dashboardPage } from './dashboard-page';
import { computePlan } from '../../core/plan/plan';
import { planSegments } from '../../core/plan/segments';
import { RolloutSpec } from '../../core/spec';
import { Command, ControllerState } from '../../core/state';

/** Where the dashboard reads rollouts: their names, and each one's store. */
export interface DashboardSource {
  readonly namespace: string;
  names(): Promise<string[]>;
  backend(rollout: string): Backend;
}

/** What the page shows of one rollout. */
export interface RolloutView {
  readonly name: string;
  readonly path?: string;
  readonly phase: string;
  readonly pauseReason?: string;
  readonly reason?: string;
  readonly weights?: Record<string, number>;
  readonly stable?: string;
  readonly canaries?: readonly string[];
  readonly step?: { readonly index: number; readonly of: number; readonly kind?: string };
  readonly replicas?: Record<string, Replicas>;
  /** Commands stored and not yet handled by the controller. */
  readonly queued: ReadonlyArray<{ readonly kind: string; readonly seq?: number; readonly at: string }>;
  /** Continuous checks and the current gate, as the state counts them. */
  readonly checks?: { readonly names: readonly string[]; readonly failures: number; readonly limit: number; readonly failing: boolean };
  readonly gate?: {
    readonly name: string; readonly measurements: number; readonly count: number; readonly failures: number; readonly inconclusive: number;
  };
  /** The plan's canary weight over time: seconds from the start, weight of the canaries together. */
  readonly plan?: ReadonlyArray<readonly [number, number]>;
  /** When the plan's 0:00 is (ms), aligned to the current step's start. */
  readonly planStartedAt?: number;
  readonly history: ReadonlyArray<{ readonly at: number; readonly phase: string; readonly weights: Record<string, number>; readonly reason: string }>;
  readonly updatedAt?: string;
  readonly error?: string;
}

/** Commands not yet handled: after the state's `commandSeq` (or, for the legacy slot, not its `lastCommandId`). */
export function queuedCommands(state: ControllerState | undefined, commands: readonly Command[] = [], legacy?: Command): Command[] {
  const handled = (c: Command) => (c.seq !== undefined ? c.seq <= (state?.commandSeq ?? 0) : c.id === state?.lastCommandId);
  return [...commands, ...(legacy ? [legacy] : [])].filter((c) => !handled(c));
}

function canaryWeight(spec: RolloutSpec, weights: Record<string, number>): number {
  return spec.canaries.reduce((sum, c) => sum + (weights[c.version] ?? 0), 0);
}

/** One rollout as the page shows it. */
export async function rolloutView(name: string, backend: Backend): Promise<RolloutView> {
  let stored;
  try {
    stored = await backend.read();
  } catch (e) {
    return { name, phase: 'unreadable', queued: [], history: [], error: (e as Error).message };
  }
  const { spec, state } = stored;
  const plan = computePlan(spec);
  const segments = planSegments(plan);
  const step = spec.steps[state?.stepIndex ?? 0];
  const row = plan.rows.find((r) => r.step === state?.stepIndex);
  const replicas = backend.replicas ? await backend.replicas(spec, stored.target).catch(() => undefined) : undefined;
  const gateStep = step?.kind === 'analysis' ? step : undefined;
  return {
    name,
    path: spec.path,
    phase: state?.phase ?? 'not started',
    ...(state?.pauseReason ? { pauseReason: state.pauseReason } : {}),
    ...(state?.reason ? { reason: state.reason } : {}),
    weights: state?.weights,
    stable: spec.stable,
    canaries: spec.canaries.map((c) => c.version),
    step: { index: state?.stepIndex ?? 0, of: spec.steps.length, ...(step ? { kind: step.kind } : {}) },
    ...(replicas ? { replicas } : {}),
    queued: queuedCommands(state, stored.commands, stored.command)
      .map((c) => ({ kind: c.kind, ...(c.seq !== undefined ? { seq: c.seq } : {}), at: new Date(c.at).toISOString() })),
    checks: {
      names: spec.checks.map((m) => m.name),
      failures: state?.checkFailures ?? 0,
      limit: spec.checkFailureLimit,
      failing: state?.checkFailing === true,
    },
    ...(gateStep ? {
      gate: {
        name: gateStep.gate.name,
        count: gateStep.gate.count,
        measurements: state?.gate?.measurements ?? 0,
        failures: state?.gate?.failures ?? 0,
        inconclusive: state?.gate?.inconclusive ?? 0,
      },
    } : {}),
    plan: segments.map((s) => [s.atSeconds, canaryWeight(spec, s.weights)] as const),
    ...(state && row ? { planStartedAt: state.stepStartedAt - row.atSeconds * 1000 } : {}),
    history: (state?.history ?? []).map((h) => ({ at: h.at, phase: h.phase, weights: h.weights, reason: h.reason })),
    ...(state ? { updatedAt: new Date(state.updatedAt).toISOString() } : {}),
  };
}

const COMMAND_KINDS: Record<string, Command['kind']> = { 'pause': 'pause', 'resume': 'resume', 'promote': 'resume', 'promote-full': 'promote', 'cancel': 'cancel', 'retry': 'retry' };

/** A running dashboard. */
export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve the dashboard on 127.0.0.1:`port` (0: any free port). */
export async function startDashboard(
  source: DashboardSource, options: { readonly port?: number; readonly pollMs?: number; readonly now?: () => number } = {},
): Promise<Dashboard> {
  const token = randomBytes(16).toString('hex');
  const now = options.now ?? Date.now;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, { error: (e as Error).message }));
  });
  let port = 0;
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    // only the loopback names this server listens on (a rebound DNS name is refused)
    if (![`127.0.0.1:${port}`, `localhost:${port}`].includes(req.headers.host ?? '')) return send(res, 403, { error: 'this dashboard answers on 127.0.0.1 only' });
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" });
      res.end(dashboardPage({ namespace: source.namespace, token, pollMs: options.pollMs ?? 3000 }));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/rollouts') {
      const names = await source.names();
      const rollouts = await Promise.all(names.map((n) => rolloutView(n, source.backend(n))));
      return send(res, 200, { namespace: source.namespace, now: now(), rollouts });
    }
    const m = /^\/api\/rollouts\/([a-z0-9.-]+)\/commands$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      if (req.headers['x-model-rollout-token'] !== token) return send(res, 403, { error: 'missing or wrong token: reload the page' });
      const body = JSON.parse((await readBody(req)) || '{}');
      const kind = COMMAND_KINDS[String(body.command)];
      if (!kind) return send(res, 400, { error: `unknown command "${body.command}": one of ${Object.keys(COMMAND_KINDS).join(', ')}` });
      const stored = await source.backend(m[1]).appendCommand(kind, randomUUID(), now());
      return send(res, 200, { stored: { kind: stored.kind, seq: stored.seq, id: stored.id } });
    }
    return send(res, 404, { error: 'not found' });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 10_000) req.destroy(new Error('request body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
