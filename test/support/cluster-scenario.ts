/**
 * A cluster scenario: the manifests this library synthesizes, applied with the REAL kubectl (client-side or
 * server-side apply) to the kube twin; the REAL controller (`runNamespace`, the CronJob's entrypoint) ticking once
 * a minute with the synthesized ServiceAccount's RBAC; the REAL CLI for commands; and a world where Deployments
 * become ready a cold start after they scale up, KEDA-like autoscalers follow load, and a gateway routes synthetic
 * requests by the HTTPRoute (test/support/kube-twin). Every simulated second is checked: no request reaches a
 * version without a ready replica, and the canary's weight never exceeds the plan's.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { GatewayRequest, KubeTwin, kubectlCacheDir, RouteOutcome, World } from './kube-twin';
import { findResource } from './kube-twin/resources';
import { DeployResult, ManifestResource, TerraformKubernetesManifests } from './kube-twin/terraform';
import { main as cli } from '../../src/controller/cli/main';
import { runNamespace } from '../../src/controller/k8s/main';
import { ANNOTATION_CONTROLLER_OWNED } from '../../src/core/constants';
import { PlanData } from '../../src/core/plan/plan';

/** Flux's apply-behaviour annotation. */
const FLUX_SSA = 'kustomize.toolkit.fluxcd.io/ssa';

/**
 * How manifests reach the cluster: kubectl (client-side, server-side with and without force), `cdktf deploy`, or a
 * GitOps tool as it applies by default: `flux` (kustomize-controller: server-side apply as `kustomize-controller`
 * with ownership forced, fluxcd/pkg ssa/manager_apply.go; an object annotated
 * `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` is only created, never applied again:
 * https://fluxcd.io/flux/components/kustomize/kustomizations/#controlling-the-apply-behavior-of-resources) and
 * `argocd` (kubectl client-side apply; with the Application's `ignoreDifferences` on the fields the objects list
 * in `model-rollout.dev/controller-owned-fields` and `RespectIgnoreDifferences=true`, the live values of those
 * fields replace the desired ones before the apply: https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/).
 */
export type ApplyMode = 'client-side' | 'server-side' | 'server-side-force' | 'terraform' | 'flux' | 'argocd';

export interface ScenarioOptions {
  readonly namespace: string;
  readonly host: string;
  /** Requests a second. */
  readonly rps: number;
  /** Seconds from scale-up to ready, for every Deployment. */
  readonly coldStartSeconds: number;
  readonly kubectl: string;
  /** The requests of simulated second `t`. @default `rps` requests to `host` */
  readonly traffic?: (t: number) => readonly GatewayRequest[];
  /** Every routed request with its outcome (after the gateway's Lua filters). */
  readonly observe?: (t: number, requests: readonly GatewayRequest[], outcomes: readonly RouteOutcome[]) => void;
  /** Requests a second at simulated second `t` (a traffic curve); absent: `rps` throughout. */
  readonly rpsAt?: (t: number) => number;
  /**
   * Requests a second one ready replica serves: beyond, a Deployment's requests in a 10-second window count as
   * `overloaded` (they found no ready replica free). Absent: any ready replica serves any load.
   */
  readonly perReplicaRps?: number;
  /** GPUs the cluster can give pods (the world's `gpuQuota`); absent: unlimited. */
  readonly gpuQuota?: number;
  /** Seconds the autoscalers average load over (the world's `loadWindowSeconds`); absent: 1. */
  readonly loadWindowSeconds?: number;
}

/** What happened over a scenario. */
export interface ScenarioReport {
  requests: number;
  failed: number;
  /** Longest run of consecutive seconds in which some request found no ready replica. */
  longestOutageSeconds: number;
  /** Seconds in which the canary's weight was above the plan's at the same time since the rollout started. */
  overPlanSeconds: number;
  /** Requests beyond what the ready replicas of their Deployment serve, per 10-second window (with `perReplicaRps`). */
  overloaded: number;
  applies: Array<{ mode: ApplyMode; at: number; exitCode: number }>;
  /** Longest time the KEDA HTTP interceptor held a request while its target had no ready replica (scale to zero). */
  longestHoldSeconds?: number;
}

export class ClusterScenario {
  public static async start(options: ScenarioOptions): Promise<ClusterScenario> {
    const twin = await KubeTwin.start();
    twin.seedNamespaces(options.namespace, 'gateways');
    return new ClusterScenario(twin, options);
  }

  public readonly world: World;
  public readonly report: ScenarioReport = { requests: 0, failed: 0, longestOutageSeconds: 0, overPlanSeconds: 0, overloaded: 0, applies: [] };
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-scenario-'));
  private readonly kubeconfig: string;
  private outage = 0;
  /** Requests and ready capacity of each Deployment in the current 10-second window (`perReplicaRps`). */
  private window: Record<string, { requests: number; capacity: number }> = {};
  /** The controller's log lines, with the simulated time. */
  public readonly logs: Array<Record<string, unknown>> = [];
  private rolloutStartedAt?: number;
  private plan?: PlanData;
  private canary?: string;
  private routeName?: string;
  private readonly terraform: TerraformKubernetesManifests;
  /** What the last `deploy` did. */
  public lastDeploy?: DeployResult;

  private constructor(public readonly twin: KubeTwin, private readonly options: ScenarioOptions) {
    this.kubeconfig = twin.writeKubeconfig(this.dir, twin.adminToken, options.namespace);
    this.world = new World(twin, {
      traffic: options.traffic
        ?? ((t) => Array.from({ length: Math.round(options.rpsAt?.(t) ?? options.rps) }, () => ({ host: options.host, path: '/v1/completions' }))),
      observe: options.observe,
      ...(options.gpuQuota !== undefined ? { gpuQuota: options.gpuQuota } : {}),
      ...(options.loadWindowSeconds !== undefined ? { loadWindowSeconds: options.loadWindowSeconds } : {}),
    });
    this.terraform = new TerraformKubernetesManifests(twin.url, twin.adminToken);
  }

  /** The controller's connection: the namespace controller's ServiceAccount, so the synthesized RBAC applies. */
  private get conn() {
    return { server: this.twin.url, token: this.twin.serviceAccountToken(this.options.namespace, 'model-rollout-controller-chart') };
  }

  /** Watch a rollout against its plan from now on. */
  public watch(plan: PlanData, route: string): void {
    this.plan = plan;
    this.canary = plan.canaries[0];
    this.routeName = route;
    this.rolloutStartedAt = this.world.time;
  }

  /**
   * Apply `objects` with the real kubectl (asynchronously: the twin answers from this process). Returns kubectl's
   * exit code (server-side apply without force reports a conflict on the controller's fields).
   */
  public async apply(objects: readonly any[], mode: ApplyMode = 'client-side'): Promise<number> {
    const file = path.join(this.dir, `apply-${this.report.applies.length}.yaml`);
    fs.writeFileSync(file, Yaml.stringify(...this.asApplied(objects, mode)));
    const args = ['--kubeconfig', this.kubeconfig, '--cache-dir', kubectlCacheDir(), 'apply', '-f', file];
    if (mode === 'flux') args.push('--server-side', '--field-manager=kustomize-controller', '--force-conflicts');
    else if (mode !== 'client-side' && mode !== 'argocd') args.push('--server-side', '--field-manager=platform-team');
    if (mode === 'server-side-force') args.push('--force-conflicts');
    const exitCode = await new Promise<number>((resolve) => {
      execFile(this.options.kubectl, args, { timeout: 60_000 }, (error) => resolve(error ? (typeof error.code === 'number' ? error.code : 1) : 0));
    });
    this.report.applies.push({ mode, at: this.world.time, exitCode });
    this.world.reconcile();
    return exitCode;
  }

  /** The objects a GitOps tool sends (see `ApplyMode`); kubectl sends them as they are. */
  private asApplied(objects: readonly any[], mode: ApplyMode): any[] {
    const live = (o: any) => this.twin.object(o.apiVersion, o.kind, o.metadata.namespace ?? this.options.namespace, o.metadata.name) as any;
    if (mode === 'flux') return objects.filter((o) => o.metadata?.annotations?.[FLUX_SSA] !== 'IfNotPresent' || !live(o));
    if (mode !== 'argocd') return [...objects];
    return objects.map((o) => {
      const current = live(o);
      const owned = String(o.metadata?.annotations?.[ANNOTATION_CONTROLLER_OWNED] ?? '').split(',').map((f) => f.trim()).filter(Boolean);
      if (!current || owned.length === 0) return o;
      const copy = JSON.parse(JSON.stringify(o));
      for (const field of owned) {
        const [head, key] = field.split('.');
        if (head !== 'spec') continue;
        if (current.spec?.[key] === undefined) delete copy.spec[key];
        else copy.spec[key] = current.spec[key];
      }
      return copy;
    });
  }

  /**
   * `cdktf deploy` of the bridge's `kubernetes_manifest` resources (kube-twin/terraform.ts models the provider's
   * plan and server-side apply). Returns 0, or 1 when a resource failed (Terraform's exit code).
   */
  public async deploy(resources: Readonly<Record<string, ManifestResource>>): Promise<number> {
    this.lastDeploy = await this.terraform.deploy(resources);
    const exitCode = this.lastDeploy.errors.length > 0 ? 1 : 0;
    this.report.applies.push({ mode: 'terraform', at: this.world.time, exitCode });
    this.world.reconcile();
    return exitCode;
  }

  /**
   * A tick during which the CLI's `verb` lands just before the controller's request number `at` (0-based) is
   * served: that request waits until the command has been written. When the tick makes fewer than `at + 1`
   * requests, the command runs after the tick (`raced` false). Returns the number of requests the tick made and
   * the CLI's exit code.
   */
  public async tickRacing(verb: string, rollout: string, at: number): Promise<{ requests: number; exitCode: number; raced: boolean }> {
    const controller = `system:serviceaccount:${this.options.namespace}:model-rollout-controller-chart`;
    let seen = 0;
    let exitCode: number | undefined;
    this.twin.beforeRequest = async (r) => {
      if (r.user !== controller) return;
      if (seen++ === at) exitCode = await this.command(verb, rollout);
    };
    try {
      await this.tick();
    } finally {
      this.twin.beforeRequest = undefined;
    }
    const raced = exitCode !== undefined;
    return { requests: seen, exitCode: exitCode ?? await this.command(verb, rollout), raced };
  }

  /** One tick of the namespace's controller at the simulated time. */
  public async tick(): Promise<void> {
    const log = (line: Record<string, unknown>) => this.logs.push({ t: this.world.time, ...line });
    await runNamespace(this.conn, { ROLLOUT_NAMESPACE: this.options.namespace }, this.world.time * 1000, log);
    this.world.reconcile();
  }

  /** The real CLI, as an operator with the admin kubeconfig. */
  public async command(verb: string, rollout: string): Promise<number> {
    return cli([verb, rollout, '--kube', '--kubeconfig', this.kubeconfig, '--namespace', this.options.namespace], {}, () => undefined);
  }

  /** Run `minutes` minutes: a controller tick at the start of each, then 60 simulated seconds of traffic, checked. */
  public async run(minutes: number): Promise<void> {
    for (let m = 0; m < minutes; m++) {
      await this.tick();
      for (let s = 0; s < 60; s++) this.second();
    }
  }

  /** Simulated seconds of traffic without ticks. */
  public seconds(n: number): void {
    for (let s = 0; s < n; s++) this.second();
  }

  /** The state the controller recorded for `rollout`. */
  public state(rollout: string): any {
    const cm = this.twin.object('v1', 'ConfigMap', this.options.namespace, `${rollout}-rollout-state`) as any;
    return cm?.data?.['state.json'] ? JSON.parse(cm.data['state.json']) : undefined;
  }

  /** The canary's (or `version`'s) weight on the live route now. */
  public canaryWeight(version = this.canary): number {
    const route = this.twin.object('gateway.networking.k8s.io/v1', 'HTTPRoute', this.options.namespace, this.routeName!) as any;
    const refs: any[] = route?.spec?.rules?.flatMap((r: any) => r.backendRefs ?? []) ?? [];
    const total = refs.reduce((n, r) => n + (r.weight ?? 1), 0);
    const canary = refs.filter((r) => String(r.name).endsWith(`-${version}`)).reduce((n, r) => n + (r.weight ?? 1), 0);
    return total > 0 ? Math.round((canary * 100) / total) : 0;
  }

  /** `namespace/name` of every Deployment in the scenario's namespace. */
  private deploymentKeys(): Record<string, true> {
    const list = this.twin.store.list(findResource('apps', 'v1', 'deployments')!, this.options.namespace) as any[];
    return Object.fromEntries(list.filter((d) => d.metadata.namespace === this.options.namespace).map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, true]));
  }

  public async stop(): Promise<void> {
    await this.twin.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Ready replicas of a Deployment now (its status). */
  public readyReplicas(deployment: string): number {
    const d = this.twin.object('apps/v1', 'Deployment', this.options.namespace, deployment) as any;
    return d?.status?.readyReplicas ?? 0;
  }

  private second(): void {
    const before = { total: this.world.stats.total, failed: this.world.stats.failed };
    const served = { ...this.world.stats.byDeployment };
    const capacity = this.options.perReplicaRps;
    const ready = capacity === undefined ? {} : Object.fromEntries(Object.keys({ ...served, ...this.deploymentKeys() })
      .map((k) => [k, this.readyReplicas(k.split('/')[1])]));
    this.world.advance(1);
    if (capacity !== undefined) {
      // over 10-second windows: a server queues a burst within a second (vLLM batches); a window short of replicas is load lost
      for (const [k, n] of Object.entries(this.world.stats.byDeployment)) {
        const w = this.window[k] ?? (this.window[k] = { requests: 0, capacity: 0 });
        w.requests += n - (served[k] ?? 0);
      }
      for (const [k, r] of Object.entries(ready)) {
        const w = this.window[k] ?? (this.window[k] = { requests: 0, capacity: 0 });
        w.capacity += r * capacity;
      }
      if (this.world.time % 10 === 0) {
        for (const [k, w] of Object.entries(this.window)) {
          const over = Math.max(0, w.requests - w.capacity);
          this.report.overloaded += over;
          if (over > 0 && process.env.SCENARIO_DEBUG) console.log(`t=${this.world.time} ${k}: ${w.requests} requests in 10 s, capacity ${w.capacity}`);
        }
        this.window = {};
      }
    }
    const requests = this.world.stats.total - before.total;
    const failed = this.world.stats.failed - before.failed;
    this.report.requests += requests;
    this.report.failed += failed;
    this.outage = failed > 0 ? this.outage + 1 : 0;
    this.report.longestOutageSeconds = Math.max(this.report.longestOutageSeconds, this.outage);
    if (this.world.stats.longestHoldSeconds > 0) this.report.longestHoldSeconds = this.world.stats.longestHoldSeconds;
    if (this.plan && this.rolloutStartedAt !== undefined && this.routeName) {
      const elapsed = this.world.time - this.rolloutStartedAt;
      const over = this.plan.canaries.some((canary) => {
        const allowed = Math.max(0, ...this.plan!.rows.filter((r) => r.atSeconds <= elapsed).map((r) => r.weights[canary] ?? 0));
        return this.canaryWeight(canary) > allowed;
      });
      if (over) this.report.overPlanSeconds++;
    }
  }
}

/** No failed request, no second without a ready replica, no second over the plan, and enough traffic to tell. */
export function expectSafe(r: ScenarioReport, minRequests = 1000): void {
  const safety = { failed: r.failed, longestOutageSeconds: r.longestOutageSeconds, overPlanSeconds: r.overPlanSeconds };
  expect(safety).toEqual({ failed: 0, longestOutageSeconds: 0, overPlanSeconds: 0 });
  expect(r.requests).toBeGreaterThan(minRequests);
}

/**
 * `describe(name, body)` when kubectl is installed; otherwise one test that fails in CI (`.ci/run` installs the
 * Debian package kubernetes-client) and says loudly, locally, that the scenarios were skipped.
 */
export function describeWithKubectl(name: string, kubectl: string | undefined, body: () => void): void {
  if (kubectl) {
    describe(name, body);
    return;
  }
  test(`${name}: needs kubectl`, () => {
    if (process.env.CI) throw new Error('kubectl is not installed: .ci/run installs the Debian package kubernetes-client');
    console.warn(`SKIPPED: ${name} did not run (install the Debian package kubernetes-client)`);
    expect(kubectl).toBeUndefined();
  });
}
