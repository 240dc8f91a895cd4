/**
 * A deterministic simulation over the twin's objects, on a clock the test moves with `advance(seconds)` (no
 * timers). Each simulated second: the traffic of that second goes through the Envoy Lua filters and the
 * Gateway router; autoscalers set Deployment replicas from the per-Deployment load; Deployments reconcile pods.
 * Why a world of its own: it plays the cluster's controllers (Deployments, KEDA, HPA, the gateway) over the objects
 * the library synthesizes and kubectl applies, for the cluster scenarios (test/cluster); the controller's in-memory
 * ports (../rollout-world.ts) and the AWS services (../aws-world.ts) have no Kubernetes objects.
 *
 * Follows (simplified, documented per item):
 * - Deployment status (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status):
 *   `replicas`, `readyReplicas`, `availableReplicas`, `updatedReplicas`, `observedGeneration`; a pod created at t
 *   becomes ready at t + coldStart (per Deployment, default 0); scale-down removes not-ready pods first, at once
 *   (no termination grace).
 * - KEDA ScaledObject (https://keda.sh/docs/latest/reference/scaledobject-spec/): target
 *   `spec.scaleTargetRef.name`, `minReplicaCount` (default 0), `maxReplicaCount` (default 100), the first
 *   trigger's `metadata.threshold`/`targetValue`/`value` as per-replica target; the
 *   `autoscaling.keda.sh/paused-replicas` annotation pins the replicas
 *   (https://keda.sh/docs/latest/concepts/scaling-deployments/#pause-autoscaling). No cooldown/stabilisation.
 * - HPA autoscaling/v2 (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details):
 *   desired = ceil(current * metric / target); with a per-pod average metric (load / current) that is
 *   ceil(load / target), clamped to minReplicas (default 1)..maxReplicas; target from the first metric's
 *   `averageValue`/`value`. No stabilisation window.
 * - KEDA HTTP add-on HTTPScaledObject (https://github.com/kedacore/http-add-on docs/ref/v0.8.0/http_scaled_object.md):
 *   `spec.scaleTargetRef.name`, `spec.replicas.min/max`, target `spec.scalingMetric.concurrency.targetValue` or
 *   `requestRate.targetValue` (or legacy `targetPendingRequests`), scale to zero once idle for `scaledownPeriod`.
 * - Istio EnvoyFilter (https://istio.io/latest/docs/reference/config/networking/envoy-filter/): the inline Lua of
 *   `envoy.filters.http.lua` patches runs on every request before routing, in EnvoyFilter namespace/name order;
 *   an EnvoyFilter applies to the gateway pods of its own namespace ("the namespace of the workloads it selects"),
 *   so the filters that run are those in the namespaces of the Gateways the HTTPRoutes attach to (`parentRefs`,
 *   namespace defaulting to the route's) and of the routes themselves.
 * - KEDA HTTP add-on interceptor (kedacore/http-add-on interceptor/middleware/endpoint_resolver.go; the
 *   per-object HTTPScaledObject `spec.timeouts.conditionWait` came with v0.11, kedacore/http-add-on#1285): a request routed to the
 *   interceptor's Service is matched to the HTTPScaledObject by `hosts` and `pathPrefixes`; with no ready replica
 *   of the target it is HELD (counted as in-flight load, which scales the target from zero) until a replica is
 *   ready, then forwarded; a hold longer than `conditionWait` answers 504 (`waitCtx` expired -> Gateway Timeout).
 *   Without `spec.timeouts` the interceptor's global default applies (KEDA_CONDITION_WAIT_TIMEOUT, 20 s).
 * Load is "requests routed to the Deployment in the last simulated second", whether or not they were served.
 * - A GPU quota (optional, `gpuQuota`): a pod asks for its template's `nvidia.com/gpu` limit; pods past the quota
 *   stay Pending (not ready, no GPUs) until GPUs free up, oldest first, as the scheduler leaves pods unschedulable
 *   when no node fits (https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/), here with a
 *   cluster-wide limit like a Karpenter NodePool's `limits` (https://karpenter.sh/docs/concepts/nodepools/#speclimits).
 */
import { LuaRequest, runLuaFilterChain } from './lua';
import { isObject, Json, JsonObject } from './patch';
import { findResource } from './resources';
import { Backend, GatewayRequest, GatewayRouter, prng, readyReplicas, RouteOutcome } from './router';
import { KubeTwin } from './server';
import { KubeObject } from './store';

export interface WorldStats {
  total: number;
  ok: number;
  failed: number;
  /** Requests held by the KEDA HTTP interceptor right now (neither ok nor failed yet). */
  held: number;
  /** Longest time a request was held by the interceptor before it was served or failed (seconds). */
  longestHoldSeconds: number;
  notFound: number;
  byDeployment: Record<string, number>; // namespace/name -> requests served
  mirrored: Record<string, number>; // namespace/service -> mirrored copies
}

export interface WorldOptions {
  readonly seed?: number;
  /** Wall-clock start of the simulation (creationTimestamps and managedFields times follow the simulated clock). */
  readonly start?: Date;
  /** Requests sent during simulated second `t` (t counts from 0). */
  readonly traffic?: (t: number) => readonly GatewayRequest[];
  readonly luajit?: string;
  /** Called with every request of a simulated second after the Lua filters, and its outcome. */
  readonly observe?: (t: number, requests: readonly GatewayRequest[], outcomes: readonly RouteOutcome[]) => void;
  /** The KEDA HTTP add-on interceptor's Service. @default keda/keda-add-ons-http-interceptor-proxy */
  readonly interceptor?: { readonly namespace: string; readonly service: string };
  /** GPUs the cluster can give pods (`nvidia.com/gpu`); absent: unlimited (pods never wait for GPUs). */
  readonly gpuQuota?: number;
  /**
   * Seconds the autoscalers' load is averaged over, as KEDA's Prometheus trigger reads a `rate(...[1m])`
   * (https://keda.sh/docs/latest/scalers/prometheus/); absent: 1 (the last second's requests).
   */
  readonly loadWindowSeconds?: number;
}

interface Held { readonly backend: Backend; readonly since: number; readonly deadline: number }

/** The interceptor's default condition wait (KEDA_CONDITION_WAIT_TIMEOUT, interceptor/config/timeouts.go). */
const DEFAULT_CONDITION_WAIT_SECONDS = 20;

interface Pod { readyAt: number; readonly gpus?: number; pending?: boolean }

const D = (g: string, v: string, r: string) => findResource(g, v, r)!;
const DEPLOYMENTS = D('apps', 'v1', 'deployments');
const SCALED_OBJECTS = D('keda.sh', 'v1alpha1', 'scaledobjects');
const HPAS = D('autoscaling', 'v2', 'horizontalpodautoscalers');
const HTTP_SCALED = D('http.keda.sh', 'v1alpha1', 'httpscaledobjects');
const ENVOY_FILTERS = D('networking.istio.io', 'v1alpha3', 'envoyfilters');
const EXTENSION_POLICIES = D('gateway.envoyproxy.io', 'v1alpha1', 'envoyextensionpolicies');
const HTTPROUTES = D('gateway.networking.k8s.io', 'v1', 'httproutes');
const PAUSED = 'autoscaling.keda.sh/paused-replicas';

export class World {
  /** Seconds since the start. */
  public time = 0;
  public readonly stats: WorldStats = { total: 0, ok: 0, failed: 0, held: 0, longestHoldSeconds: 0, notFound: 0, byDeployment: {}, mirrored: {} };
  private held: Held[] = [];
  private readonly pods = new Map<string, Pod[]>();
  private readonly coldStarts = new Map<string, number>();
  private readonly router: GatewayRouter;
  private readonly start: Date;
  private readonly seed: number;
  private batch = 0;
  private lastLoad = new Map<string, number>();
  private loadHistory: Array<Map<string, number>> = [];
  private readonly recommendations = new Map<string, Array<{ at: number; replicas: number }>>();
  /** GPUs held by scheduled pods now, the most ever held, and GPU-seconds so far (with a `gpuQuota`, or always). */
  public gpusInUse = 0;
  public peakGpus = 0;
  public gpuSeconds = 0;

  constructor(private readonly twin: KubeTwin, private readonly options: WorldOptions = {}) {
    this.seed = options.seed ?? 1;
    this.start = options.start ?? new Date('2025-01-01T00:00:00Z');
    this.router = new GatewayRouter(twin.store, prng(this.seed));
    twin.store.now = () => new Date(this.start.getTime() + this.time * 1000);
  }

  /** Cold start (seconds until a new pod is ready) of one Deployment. */
  public setColdStart(namespace: string, deployment: string, seconds: number): void {
    this.coldStarts.set(`${namespace}/${deployment}`, seconds);
  }

  /** Moves the clock `seconds` forward, one simulated second at a time. */
  public advance(seconds: number): void {
    for (let i = 0; i < seconds; i++) {
      // changes made between steps (a test scaling a Deployment) take effect at the current time
      this.reconcile();
      const requests = this.options.traffic?.(this.time) ?? [];
      this.lastLoad = new Map();
      // requests the interceptor still holds are in flight: they count as load on their target
      for (const h of this.held) {
        const d = `${h.backend.namespace}/${h.backend.deployments[0]}`;
        this.lastLoad.set(d, (this.lastLoad.get(d) ?? 0) + 1);
      }
      for (const o of this.routeBatch(requests)) {
        if (o.backend && o.backend.deployments.length > 0) {
          // demand counts on the Deployment the request was routed to, served or not (a version at zero
          // replicas must see its queued requests to wake up, like the KEDA HTTP add-on's interceptor)
          const d = `${o.backend.namespace}/${o.backend.deployments[0]}`;
          this.lastLoad.set(d, (this.lastLoad.get(d) ?? 0) + 1);
        }
      }
      this.time += 1;
      this.gpuSeconds += this.gpusInUse;
      if ((this.options.loadWindowSeconds ?? 1) > 1) {
        this.loadHistory = [...this.loadHistory, this.lastLoad].slice(-this.options.loadWindowSeconds!);
      }
      this.autoscale();
      this.reconcile();
      this.settleHeld();
    }
  }

  /** Routes requests through the Lua filters (one LuaJIT run per batch) and the router; updates `stats`. */
  public routeBatch(requests: readonly GatewayRequest[]): RouteOutcome[] {
    const filtered = this.applyFilters(requests);
    const outcomes = filtered.map((r) => this.record(r));
    this.options.observe?.(this.time, filtered, outcomes);
    return outcomes;
  }

  /** Reconciles Deployment status now (call after creating Deployments so time-0 pods exist). */
  public reconcile(): void {
    const deployments = this.twin.store.listView(DEPLOYMENTS) as KubeObject[];
    if (this.options.gpuQuota !== undefined) {
      // sizes first, then the scheduler places Pending pods within the quota, then the statuses
      for (const d of deployments) this.resizePods(d);
      this.schedule();
    }
    for (const d of deployments) this.reconcileDeployment(d);
    this.gpusInUse = [...this.pods.values()].flat().filter((p) => !p.pending).reduce((n, p) => n + (p.gpus ?? 0), 0);
    this.peakGpus = Math.max(this.peakGpus, this.gpusInUse);
  }

  /** With a GPU quota: the Deployment's pods follow its replicas; new ones are Pending until scheduled. */
  private resizePods(d: KubeObject): void {
    const key = `${String(d.metadata.namespace)}/${String(d.metadata.name)}`;
    const want = isObject(d.spec) && typeof d.spec.replicas === 'number' ? d.spec.replicas : 1;
    const pods = this.pods.get(key) ?? [];
    const gpus = gpusOf(d);
    while (pods.length < want) pods.push({ readyAt: Infinity, gpus, pending: true });
    if (pods.length > want) {
      // Pending and not-ready (latest readyAt) pods go first
      pods.sort((a, b) => a.readyAt - b.readyAt);
      pods.length = want;
    }
    this.pods.set(key, pods);
  }

  /** Pending pods, in creation order per Deployment, get GPUs while the quota allows; ready a cold start later. */
  private schedule(): void {
    let used = [...this.pods.values()].flat().filter((p) => !p.pending).reduce((n, p) => n + (p.gpus ?? 0), 0);
    for (const [key, pods] of this.pods) {
      for (const p of pods) {
        if (!p.pending) continue;
        if (used + (p.gpus ?? 0) > this.options.gpuQuota!) continue;
        p.pending = false;
        p.readyAt = this.time + (this.coldStarts.get(key) ?? 0);
        used += p.gpus ?? 0;
      }
    }
  }

  private record(req: GatewayRequest | undefined): RouteOutcome {
    let o: RouteOutcome = req ? this.router.route(req) : { status: 200, mirrors: [] };
    const icp = this.options.interceptor ?? { namespace: 'keda', service: 'keda-add-ons-http-interceptor-proxy' };
    if (req && o.backend && o.backend.namespace === icp.namespace && o.backend.service === icp.service) o = this.intercept(req, o);
    this.stats.total++;
    if (o.status === 0) return o; // held by the interceptor: settled later
    for (const m of o.mirrors) this.stats.mirrored[`${m.namespace}/${m.service}`] = (this.stats.mirrored[`${m.namespace}/${m.service}`] ?? 0) + 1;
    if (o.status === 404) this.stats.notFound++;
    if (o.status === 200 && o.backend) {
      this.stats.ok++;
      const d = `${o.backend.namespace}/${o.backend.deployments[0]}`;
      this.stats.byDeployment[d] = (this.stats.byDeployment[d] ?? 0) + 1;
    } else {
      this.stats.failed++;
    }
    return o;
  }

  /**
   * The KEDA HTTP interceptor: the HTTPScaledObject serving the request's host and path names the target Service;
   * a ready target serves at once, otherwise the request is held (status 0) until `settleHeld` serves or fails it.
   */
  private intercept(req: GatewayRequest, o: RouteOutcome): RouteOutcome {
    const host = req.host.toLowerCase().replace(/:\d+$/, '');
    const path = req.path.split('?')[0];
    const hso = this.twin.store.listView(HTTP_SCALED).find((h) => {
      const spec = specOf(h);
      const hosts = Array.isArray(spec.hosts) ? spec.hosts.map(String) : [];
      const prefixes = Array.isArray(spec.pathPrefixes) ? spec.pathPrefixes.map(String) : ['/'];
      return hosts.includes(host) && prefixes.some((p) => path.startsWith(p));
    });
    if (!hso) return { status: 404, mirrors: o.mirrors };
    const ref = isObject(specOf(hso).scaleTargetRef) ? specOf(hso).scaleTargetRef as JsonObject : {};
    const backend = this.router.resolveService(String(hso.metadata.namespace), String(ref.service ?? ref.name));
    if (!backend || backend.deployments.length === 0) return { status: 502, mirrors: o.mirrors };
    if (this.readyOf(backend) > 0) return { ...o, status: 200, backend };
    const timeouts = isObject(specOf(hso).timeouts) ? specOf(hso).timeouts as JsonObject : {};
    const wait = typeof timeouts.conditionWait === 'string' ? goDurationSeconds(timeouts.conditionWait) : DEFAULT_CONDITION_WAIT_SECONDS;
    this.held.push({ backend, since: this.time, deadline: this.time + wait });
    this.stats.held++;
    return { ...o, status: 0, backend };
  }

  /** Serves the held requests whose target is ready now; fails those held longer than their condition wait. */
  private settleHeld(): void {
    const still: Held[] = [];
    for (const h of this.held) {
      const ready = this.readyOf(h.backend) > 0;
      if (!ready && this.time < h.deadline) {
        still.push(h);
        continue;
      }
      this.stats.held--;
      this.stats.longestHoldSeconds = Math.max(this.stats.longestHoldSeconds, this.time - h.since);
      if (ready) {
        this.stats.ok++;
        const d = `${h.backend.namespace}/${h.backend.deployments[0]}`;
        this.stats.byDeployment[d] = (this.stats.byDeployment[d] ?? 0) + 1;
      } else {
        this.stats.failed++;
      }
    }
    this.held = still;
  }

  private readyOf(b: Backend): number {
    return b.deployments.reduce((n, d) => n + readyReplicas(this.twin.store.view(DEPLOYMENTS, b.namespace, d)), 0);
  }

  /**
   * The Lua of every EnvoyFilter in a namespace of the routes or of their Gateways, then of every Envoy Gateway
   * EnvoyExtensionPolicy (`spec.lua[]` of `type: Inline`, https://gateway.envoyproxy.io/docs/api/extension_types/)
   * whose `targetRefs` name a Gateway the routes attach to (a policy targets resources of its own namespace), run in
   * order as one filter chain: one stream per request, its dynamic metadata shared; a `respond()` ends the request.
   */
  private applyFilters(requests: readonly GatewayRequest[]): GatewayRequest[] {
    const routes = this.twin.store.listView(HTTPROUTES);
    const parentsOf = (r: KubeObject) => {
      const ns = String(r.metadata.namespace);
      const parents = isObject(r.spec) && Array.isArray(r.spec.parentRefs) ? r.spec.parentRefs.filter(isObject) : [];
      return parents.map((p) => ({ namespace: String(p.namespace ?? ns), name: String(p.name) }));
    };
    const routeNamespaces = new Set(routes.flatMap((r) => [String(r.metadata.namespace), ...parentsOf(r).map((p) => p.namespace)]));
    const gateways = new Set(routes.flatMap((r) => parentsOf(r).map((p) => `${p.namespace}/${p.name}`)));
    const sources = [
      ...this.twin.store.listView(ENVOY_FILTERS).filter((f) => routeNamespaces.has(String(f.metadata.namespace))).flatMap(luaSources),
      ...this.twin.store.listView(EXTENSION_POLICIES).filter((p) => policyTargets(p).some((g) => gateways.has(g))).flatMap(policyLuaSources),
    ];
    const current: GatewayRequest[] = [...requests];
    if (requests.length === 0 || sources.length === 0) return current;
    const results = runLuaFilterChain(sources, current.map(toLua), this.seed * 1000 + this.batch++, this.options.luajit);
    return current.map((r, i) => {
      const res = results[i];
      if (res.error) throw new Error(`Lua filter failed: ${res.error}`);
      const headers: Record<string, string> = {};
      for (const [k, vs] of Object.entries(res.headers)) if (!k.startsWith(':')) headers[k] = vs.join(',');
      return { host: res.headers[':authority']?.[0] ?? r.host, path: res.headers[':path']?.[0] ?? r.path, method: res.headers[':method']?.[0] ?? r.method, headers };
    });
  }

  private autoscale(): void {
    const store = this.twin.store;
    for (const so of store.listView(SCALED_OBJECTS)) {
      const spec = specOf(so);
      const annotations = isObject(so.metadata.annotations) ? so.metadata.annotations : {};
      const target = numberIn(firstOf(spec.triggers), ['metadata', 'threshold'], ['metadata', 'targetValue'], ['metadata', 'value']) ?? 1;
      const paused = annotations[PAUSED];
      const desired = paused !== undefined
        ? Number(paused)
        : this.stabilized(so, this.desired(so, target, num(spec.minReplicaCount, 0), num(spec.maxReplicaCount, 100)), scaleDownWindow(spec.advanced));
      this.setReplicas(so, desired, 'keda-operator');
    }
    for (const hpa of store.listView(HPAS)) {
      const spec = specOf(hpa);
      const m = firstOf(spec.metrics);
      const kind = isObject(m) ? String(m.type ?? '').replace(/^./, (c) => c.toLowerCase()) : '';
      const target = numberIn(isObject(m) ? m[kind] : undefined, ['target', 'averageValue'], ['target', 'value']) ?? 1;
      const desired = this.desired(hpa, target, num(spec.minReplicas, 1), num(spec.maxReplicas, 1));
      this.setReplicas(hpa, this.stabilized(hpa, desired, scaleDownWindow({ horizontalPodAutoscalerConfig: { behavior: spec.behavior } })), 'horizontal-pod-autoscaler');
    }
    for (const hso of store.listView(HTTP_SCALED)) {
      const spec = specOf(hso);
      const target = numberIn(spec, ['scalingMetric', 'concurrency', 'targetValue'], ['scalingMetric', 'requestRate', 'targetValue'], ['targetPendingRequests']) ?? 100;
      const replicas = isObject(spec.replicas) ? spec.replicas : {};
      // `scaledownPeriod` (default 300 s): the replicas stay until the load has been gone that long
      const desired = this.desired(hso, target, num(replicas.min, 0), num(replicas.max, 100));
      this.setReplicas(hso, this.stabilized(hso, desired, num(spec.scaledownPeriod, 300)), 'keda-add-ons-http');
    }
  }

  /**
   * The HPA's scale-down stabilization: "the autoscaler considers the highest recommendation within the window"
   * (default 300 s), so a drop in load (or a lower minimum) takes effect only after the window; scale-ups are at once.
   * https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#stabilization-window
   * KEDA's ScaledObject passes `advanced.horizontalPodAutoscalerConfig.behavior` to the HPA it creates.
   */
  private stabilized(scaler: KubeObject, desired: number, windowSeconds: number): number {
    const key = `${String(scaler.metadata.namespace)}/${String(scaler.metadata.name)}/${String(scaler.kind)}`;
    // the highest recommendation of the window, kept as a sliding-window maximum (time only moves forward, one
    // second per step): a recommendation no higher than a later one can never be the maximum again, so it is dropped
    // at once, and the first one left is the window's highest (the plain filter-then-max was O(window) a second)
    let history = this.recommendations.get(key);
    if (!history) this.recommendations.set(key, history = []);
    while (history.length > 0 && history[history.length - 1].replicas <= desired) history.pop();
    history.push({ at: this.time, replicas: desired });
    let expired = 0;
    while (expired < history.length - 1 && history[expired].at <= this.time - windowSeconds) expired++;
    if (expired > 0) history.splice(0, expired);
    return history[0].replicas;
  }

  private desired(scaler: KubeObject, target: number, min: number, max: number): number {
    const key = `${String(scaler.metadata.namespace)}/${targetName(scaler)}`;
    const load = (this.options.loadWindowSeconds ?? 1) > 1
      ? this.loadHistory.reduce((n, m) => n + (m.get(key) ?? 0), 0) / Math.max(1, this.loadHistory.length)
      : this.lastLoad.get(key) ?? 0;
    return Math.min(max, Math.max(min, Math.ceil(load / target)));
  }

  private setReplicas(scaler: KubeObject, replicas: number, manager: string): void {
    const ns = String(scaler.metadata.namespace);
    const name = targetName(scaler);
    const d = this.twin.store.view(DEPLOYMENTS, ns, name);
    if (!d || (isObject(d.spec) && d.spec.replicas === replicas)) return;
    this.twin.modify('apps/v1', 'Deployment', ns, name, (o) => {
      o.spec = { ...(isObject(o.spec) ? o.spec : {}), replicas };
    }, manager, 'scale');
  }

  private reconcileDeployment(d: KubeObject): void {
    const ns = String(d.metadata.namespace);
    const name = String(d.metadata.name);
    const key = `${ns}/${name}`;
    const want = isObject(d.spec) && typeof d.spec.replicas === 'number' ? d.spec.replicas : 1;
    const pods = this.pods.get(key) ?? [];
    const cold = this.coldStarts.get(key) ?? 0;
    while (pods.length < want) pods.push({ readyAt: this.time + cold, gpus: gpusOf(d) });
    if (pods.length > want) {
      // not-ready (latest readyAt) pods go first
      pods.sort((a, b) => a.readyAt - b.readyAt);
      pods.length = want;
    }
    this.pods.set(key, pods);
    const ready = pods.filter((p) => p.readyAt <= this.time).length;
    const status = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: pods.length,
      updatedReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: pods.length - ready,
    };
    const old = isObject(d.status) ? d.status : {};
    if (Object.entries(status).every(([k, v]) => old[k] === v)) return;
    this.twin.modify('apps/v1', 'Deployment', ns, name, (o) => {
      o.status = status;
    }, 'kube-controller-manager', 'status');
  }
}

/** GPUs one pod of a Deployment asks for: the `nvidia.com/gpu` limits of its containers. */
function gpusOf(d: KubeObject): number {
  const template = isObject(d.spec) && isObject(d.spec.template) && isObject(d.spec.template.spec) ? d.spec.template.spec : {};
  const containers = Array.isArray(template.containers) ? template.containers.filter(isObject) : [];
  return containers.reduce((n, c) => {
    const limits = isObject(c.resources) && isObject(c.resources.limits) ? c.resources.limits : {};
    const g = Number(limits['nvidia.com/gpu'] ?? 0);
    return n + (Number.isFinite(g) ? g : 0);
  }, 0);
}

function luaSources(filter: KubeObject): string[] {
  const patches = isObject(filter.spec) && Array.isArray(filter.spec.configPatches) ? filter.spec.configPatches.filter(isObject) : [];
  return patches.flatMap((p) => {
    const value = isObject(p.patch) && isObject(p.patch.value) ? p.patch.value : {};
    if (value.name !== 'envoy.filters.http.lua' || !isObject(value.typed_config)) return [];
    const tc = value.typed_config;
    const src = isObject(tc.default_source_code) ? tc.default_source_code.inline_string : tc.inline_code;
    return typeof src === 'string' && src.length > 0 ? [src] : [];
  });
}

/** `namespace/name` of the Gateways an EnvoyExtensionPolicy targets (`targetRefs`, or the older single `targetRef`). */
function policyTargets(policy: KubeObject): string[] {
  const spec = isObject(policy.spec) ? policy.spec : {};
  const refs = [...(Array.isArray(spec.targetRefs) ? spec.targetRefs : []), ...(isObject(spec.targetRef) ? [spec.targetRef] : [])].filter(isObject);
  return refs.filter((r) => r.kind === 'Gateway').map((r) => `${String(policy.metadata.namespace)}/${String(r.name)}`);
}

function policyLuaSources(policy: KubeObject): string[] {
  const lua = isObject(policy.spec) && Array.isArray(policy.spec.lua) ? policy.spec.lua.filter(isObject) : [];
  return lua.filter((l) => l.type === 'Inline' && typeof l.inline === 'string').map((l) => String(l.inline));
}

function toLua(r: GatewayRequest): LuaRequest {
  return { headers: { ':authority': r.host, ':path': r.path, ':method': r.method ?? 'GET', ...(r.headers ?? {}) } };
}

const specOf = (o: KubeObject): JsonObject => (isObject(o.spec) ? o.spec : {});
const firstOf = (v: Json | undefined): Json | undefined => (Array.isArray(v) ? v[0] : undefined);
const num = (v: Json | undefined, dflt: number): number => (typeof v === 'number' ? v : dflt);

function targetName(scaler: KubeObject): string {
  const ref = specOf(scaler).scaleTargetRef;
  return isObject(ref) ? String(ref.name ?? ref.deployment) : '';
}

/** The first of several paths holding a number (or numeric string / quantity like "10"). */
function numberIn(v: Json | undefined, ...paths: string[][]): number | undefined {
  for (const p of paths) {
    let cur: Json | undefined = v;
    for (const k of p) cur = isObject(cur) ? cur[k] : undefined;
    const n = typeof cur === 'number' ? cur : typeof cur === 'string' ? Number(cur) : NaN;
    if (Number.isFinite(n) && n > 0) return n;
  }
  return undefined;
}

/** Seconds of a Go duration ("1h2m3.5s", "250ms"). */
export function goDurationSeconds(d: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  let total = 0;
  for (const [, n, u] of d.matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) total += Number(n) * units[u];
  return total;
}

/** The scale-down stabilization window of an HPA behavior (`advanced` of a ScaledObject); the HPA default is 300 s. */
function scaleDownWindow(advanced: any): number {
  const w = numberIn(advanced, ['horizontalPodAutoscalerConfig', 'behavior', 'scaleDown', 'stabilizationWindowSeconds']);
  return w ?? 300;
}
