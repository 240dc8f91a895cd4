import * as path from 'path';
import { ApiObject, App, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { GatewayRef, IEnvironment } from './contracts';
import * as errors from './errors';
import { GpuNodePools } from './gpu-node-pools';
import { Notifier } from './notifications';
import { BucketFilter } from './private/bucket-filter';
import { environmentHost, registerMember } from './private/hosts';
import { validateHostname } from './private/inputs';
import { validatePins } from './private/pins';
import { prometheusConnectionMounts } from './private/prometheus-connection';
import { StepController } from './private/step-controller';
import { NODE_PROVISIONING_SECONDS } from './private/version-workload';
import { PrometheusConnectionOptions } from './prometheus-connection';
import { Pin, Routing } from './routing';
import { mirrorReplicas, replicasForWeight } from '../core/capacity';
import { ANNOTATION_CONTROLLER_OWNED, DEFAULT_PROGRESS_DEADLINE_SECONDS, DEFAULT_TICK_SECONDS } from '../core/constants';
import { KubernetesBackend, KubernetesTarget, PinSpec } from '../core/contract/target';
import * as coreErrors from '../core/errors';
import { DEFAULT_NO_DATA } from '../core/gates';
import { environmentNotSelected, queriesWithoutEnvironment } from '../core/placeholders';
import { HTTPROUTE_MAX_MATCHES_PER_RULE, HTTPROUTE_MAX_RULES, HTTPROUTE_MAX_TOTAL_MATCHES, HttpRouteRule, renderHttpRouteRules, renderPinRules, routeLimits } from '../core/routes/gateway-api';
import { rolloutVersions, RolloutSpec } from '../core/spec';
import { abortWeights, weightsAt } from '../core/weights';
import { Metric } from '../rollout/analysis';
import { CanaryOptions, MirrorOptions } from '../rollout/canary';
import { RolloutCapacity } from '../rollout/capacity';
import { buildRolloutSpec } from '../rollout/private/build-spec';
import { budgetAboveNodePool } from '../rollout/private/capacity-rules';
import { RolloutPlan } from '../rollout/rollout-plan';
import { Step, Steps } from '../rollout/steps';

/** Where a rollout's pins are honoured: a pins-only HTTPRoute on internal host names or an internal listener. */
export interface PinEndpointOptions {
  /** Host names of the pins-only route (for example `llm.internal.example.com`). */
  readonly hostnames: string[];
  /**
   * The Gateway (or its internal listener, `sectionName`) of the pins-only route.
   * @default - the environment's Gateway
   */
  readonly gateway?: GatewayRef;
}

/** Props of a `CanaryRollout`. */
export interface CanaryRolloutProps {
  /** The environment whose traffic moves from its current version to the canaries. */
  readonly environment: IEnvironment;
  /** The canaries: one, or several each with a weight (total 100 at most; the rest stays on stable). */
  readonly canaries: CanaryOptions[];
  /**
   * The schedule.
   * @default Steps.equal() - 10 equal steps over 10 minutes
   */
  readonly steps?: Steps;
  /**
   * How requests are split.
   * @default Routing.random()
   */
  readonly routing?: Routing;
  /**
   * Requests that always reach a given version (testers).
   * @default - none
   */
  readonly pins?: Pin[];
  /**
   * Where pins are honoured. Without it, pins are rules of the environment's route, so any client that sends the
   * header or query value reaches the pinned version. With it, pins go to a separate HTTPRoute on these host names
   * (an internal host, or an internal listener through `gateway`), and the public route ignores them.
   * @default - pins on the environment's route, for every client
   */
  readonly pinEndpoint?: PinEndpointOptions;
  /**
   * Shadow traffic to a version whose answers are discarded (Gateway API RequestMirror).
   * @default - none
   */
  readonly mirror?: MirrorOptions;
  /**
   * Metrics checked at every tick; a failure holds the weights, more than `checkFailureLimit` roll back.
   * @default - none
   */
  readonly checks?: Metric[];
  /**
   * The serving engine's default checks, added to `checks`: a sequential test of the canary's errors against the
   * stable version's (SPRT, at most 1 % false aborts) and its latency against stable's. Only an explicit `false`
   * removes them. A model whose engine is not recognisable from its image (and not set with `servingEngine`) has
   * none: the rollout is then refused at synth unless it has `checks` of its own or `defaultChecks: false`.
   * @default true
   */
  readonly defaultChecks?: boolean;
  /**
   * A canary with weight that reports no requests this long holds the weights.
   * @default Duration.minutes(2)
   */
  readonly noDataHoldAfter?: Duration;
  /**
   * A canary with weight that reports no requests this long rolls back. Measurement errors (Prometheus down) only hold.
   * @default Duration.minutes(10)
   */
  readonly noDataAbortAfter?: Duration;
  /**
   * Failed check measurements tolerated: the default rolls back at the first conclusive failure (the minimum-sample
   * guard keeps low traffic from counting as failure). Checks are measured once per tick (`tickInterval`), so a
   * limit of 2 tolerates about 20 s of failures at 10 s ticks.
   * @default 0
   */
  readonly checkFailureLimit?: number;
  /**
   * A canary not ready this long after its replica floor rose rolls the rollout back (GPU loads are slow).
   * Must be at least the slowest canary's `loadTimeout`.
   * @default - the slowest canary's loadTimeout plus 10 minutes of node provisioning, at least 15 minutes
   */
  readonly progressDeadline?: Duration;
  /**
   * How far ahead the controller raises replica floors, so GPU cold starts overlap the steps.
   * @default Duration.minutes(5)
   */
  readonly prewarm?: Duration;
  /**
   * Replicas of the stable version the capacity arithmetic starts from. At run time the controller sizes floors
   * from the live load (what the autoscalers want now), never below this.
   * @default - the environment's minimum replicas
   */
  readonly stableReplicas?: number;
  /**
   * How the rollout uses GPUs: `RolloutCapacity.full()` keeps the stable version at full size until promotion (up
   * to twice the GPUs); `RolloutCapacity.surge({ maxExtraGpus })` shrinks it as the canary grows, within a budget
   * above its current GPUs (checked against the GpuNodePools' `maxGpus` at synth). See README "Capacity during a
   * rollout".
   * @default RolloutCapacity.full()
   */
  readonly capacity?: RolloutCapacity;
  /**
   * Prometheus the metric gates query.
   * @default - the environment's KEDA Prometheus, if any
   */
  readonly prometheusUrl?: string;
  /**
   * The CA that signed Prometheus' certificate and the credentials the controller sends (a bearer token from a
   * Secret key or a file, or basic auth), mounted into the namespace's controller pod. The rollouts of a
   * namespace share that pod, so they must agree on it.
   * @default - the system's CAs, no credentials
   */
  readonly prometheusConnection?: PrometheusConnectionOptions;
  /**
   * How often the controller looks at a rollout in progress: the CronJob runs once a minute and the controller
   * ticks again every `tickInterval` within the run (weights, checks, aborts). Must divide a minute and be at least
   * 10 s. Shorter ticks judge a faulty canary sooner (bench/results/rollout-sim.md) and keep the controller's pod
   * up about 55 s a minute while a rollout is in progress (an idle namespace's pod exits after one tick); the
   * sequential test reads one tick of counts (`{{window}}`), so Prometheus must scrape the pods at least twice per
   * tick (the PodMonitor's `monitoring.interval`, 5 s by default).
   * @default Duration.seconds(10)
   */
  readonly tickInterval?: Duration;
  /**
   * Stock Node image running the bundled controller. The default is pinned by digest, so a re-pushed tag never
   * changes what runs; override it to follow your own patch cadence or registry mirror (for example
   * `'123456789012.dkr.ecr.us-east-1.amazonaws.com/node:22-alpine@sha256:...'`).
   * @default CanaryRollout.DEFAULT_CONTROLLER_IMAGE
   */
  readonly controllerImage?: string;
  /**
   * Gateway API version of the cluster's CRDs (`major.minor`). A partial mirror (`mirror.percent` below 100)
   * needs `RequestMirror.percent`, standard since v1.3 (Istio 1.24+); on older CRDs the API server prunes it and
   * the shadow receives every request. Declaring an older version refuses such a mirror at synth.
   * @default '1.3'
   */
  readonly gatewayApiVersion?: string;
  /**
   * Labels of the Istio gateway pods that run the bucket filter (sticky routing only).
   * @default { 'gateway.networking.k8s.io/gateway-name': <the environment's Gateway> }
   */
  readonly gatewayLabels?: { [key: string]: string };
  /**
   * Namespace of the gateway pods (where the bucket filter goes).
   * @default - the Gateway's namespace
   */
  readonly gatewayNamespace?: string;

  /**
   * Where the controller posts the rollout's phase changes (started, step, paused, gate failed, aborted, promoted):
   * `Notifier.webhook(...)`, `Notifier.slack(...)`. URLs kept in Secrets are read by the controller when it posts
   * (its Role gets `get` on those Secrets by name). Best-effort: a failing notifier never holds the rollout.
   * Every phase change is also a Kubernetes Event on the state ConfigMap, without any notifier.
   * @default - none (a fixed split has no controller and sends none)
   */
  readonly notifications?: Notifier[];
  /**
   * Name of the rollout (DNS-1123), used in object and plan file names.
   * @default '<model>-<environment>'
   */
  readonly name?: string;
}

/**
 * Moves an environment's traffic from its current version to one or more canaries on a schedule, never faster
 * than the canaries' GPUs become ready, and back out when a check fails.
 *
 * Ownership: the manifests carry the spec and a safe state (the route's rules send everything to the serving
 * version; every version the spec names as serving keeps its minimum replicas); the step controller owns the live
 * weights (the HTTPRoute's `spec.rules`) and the canaries' replica floors (ScaledObject `minReplicaCount`) and
 * re-asserts them at every tick in every phase. A client-side `kubectl apply` mid-rollout does write the manifest's
 * values (it patches every field the manifest carries), which sets the rollout back by at most one tick and never
 * sends traffic to a version without replicas; server-side apply without `--force-conflicts` reports a conflict on
 * exactly those fields. The state ConfigMap carries no data, so no re-apply resets progress. Argo CD: add
 * `ignoreDifferences` for those fields (objects are annotated `model-rollout.dev/controller-owned-fields`). The
 * README's "Who owns what" says what the cluster-twin scenarios prove.
 */
export class CanaryRollout extends Construct {
  /**
   * Default image of the step controller: the official `node:22.22.1-alpine3.23` image pinned by its multi-arch
   * index digest. This machine has no registry access, so the digest was cross-checked offline: the same
   * `sha256:8094c002…` is pinned for `node:22-alpine`, `node:22.22.1-alpine` and `node:22.22.1-alpine3.23` in ten
   * independent public repositories (Renovate-maintained Dockerfiles), one of them a BuildKit log of 2026-03-10
   * resolving `docker.io/library/node:22-alpine@sha256:8094c002…`. The image's `node` user is uid 1000, which the
   * pod's restricted security context runs as. Check it against your registry with
   * `docker buildx imagetools inspect node:22.22.1-alpine3.23`, and override `controllerImage` to track newer patches
   * or a mirror.
   */
  public static readonly DEFAULT_CONTROLLER_IMAGE = 'node:22.22.1-alpine3.23@sha256:8094c002d08262dba12645a3b4a15cd6cd627d30bc782f53229a2ec13ee22a00';

  /** Name of the rollout. */
  public readonly name: string;
  /** Size of the bundled controller in the manifests, in bytes. */
  public readonly controllerBundleBytes: number;

  private readonly spec: () => RolloutSpec;
  private specCache?: RolloutSpec;
  private readonly target: KubernetesTarget;
  private readonly checks: Metric[] = [];
  /** Seconds between ticks (60 for a fixed split: no controller, no window to read). */
  private readonly tickSeconds: number;
  private planWritten = false;
  private fixed = false;
  private planCache?: RolloutPlan;

  constructor(scope: Construct, id: string, props: CanaryRolloutProps) {
    super(scope, id);
    const env = props.environment;
    const p = this.node.path;
    const host = environmentHost(env, p, 'environment');
    registerMember(this, env);
    if (!host.active) throw errors.rolloutOnInactive(p, 'environment', env.name);
    if (host.scalesToZero && !env.kind.isDevelopment) throw errors.rolloutOnScaleToZero(p, 'environment', env.name);
    const endpoint = host.endpoint;
    if (!endpoint) throw errors.rolloutWithoutEndpoint(p, 'environment', env.name);
    this.name = props.name ?? `${env.model.name}-${env.name}`;
    const routing = (props.routing ?? Routing.random())._bind(p);
    const pins = (props.pins ?? []).map((pin) => pin._spec());
    validatePins(p, pins);
    const engine = host.servingEngine;
    if (props.defaultChecks !== false) {
      // no check at all would promote a canary returning 20 % errors: refuse, unless the user brings checks or
      // says `defaultChecks: false`
      if (engine) this.checks.push(engine.errorCheck(), engine.latencyCheck());
      else if ((props.checks ?? []).length === 0) throw errors.noServingEngine(p, 'defaultChecks', env.model.name);
    }
    const tickSeconds = props.tickInterval?.toSeconds() ?? DEFAULT_TICK_SECONDS;
    if (!(Number.isInteger(tickSeconds) && tickSeconds >= 10 && 60 % tickSeconds === 0)) throw errors.tickIntervalInvalid(p, 'tickInterval', tickSeconds);
    this.tickSeconds = props.canaries.length > 0 && props.canaries.every((c) => c.ramp === false) ? 60 : tickSeconds;
    const prometheusMounts = prometheusConnectionMounts(p, 'prometheusConnection', props.prometheusConnection);
    this.checks.push(...(props.checks ?? []));
    const engineChecks = this.checks.length - (props.checks ?? []).length;
    this.checks.forEach((m, i) => this.checkWindow(m, i < engineChecks ? 'servingEngine' : `checks[${i - engineChecks}]`));
    (props.checks ?? []).forEach((m, i) => queriesWithoutEnvironment(m._spec()).forEach((q) => {
      // constructs' metadata entry of type `warning` (cdk8s has no Annotations class; aws-cdk and cdktf read this type)
      this.node.addMetadata('warning', environmentNotSelected(p, `checks[${i}].${q.property}`, m._spec().name, q.query));
    }));
    // increase() over one tick needs two samples in it: the PodMonitor must scrape at least twice per tick
    const scrape = host.scrapeIntervalSeconds;
    if (scrape !== undefined && this.tickSeconds < 60 && scrape * 2 > this.tickSeconds && this.checks.some((m) => isSequential(m, 'window'))) {
      throw errors.scrapeSlowerThanTick(p, 'tickInterval', this.tickSeconds, scrape);
    }
    const noData = {
      holdAfterSeconds: props.noDataHoldAfter?.toSeconds() ?? DEFAULT_NO_DATA.holdAfterSeconds,
      abortAfterSeconds: props.noDataAbortAfter?.toSeconds() ?? DEFAULT_NO_DATA.abortAfterSeconds,
    };
    if (!(noData.holdAfterSeconds > 0 && noData.abortAfterSeconds >= noData.holdAfterSeconds)) {
      throw errors.noDataWindowsInvalid(p, 'noDataAbortAfter', noData.holdAfterSeconds, noData.abortAfterSeconds);
    }

    const model = env.model;
    const stable = host.servingVersion();
    // a fixed split (BentoCloud's weighted versions): every canary holds its weight from the start, so the split is
    // rendered into the route and the floors into the manifests, and no controller runs
    const fixed = props.canaries.length > 0 && props.canaries.every((c) => c.ramp === false);
    if (fixed && props.steps) throw errors.stepsWithFixedSplit(p, 'steps');
    const known = model.versions.map((v) => v.name);
    pins.forEach((pin, i) => {
      if (!known.includes(pin.version)) throw coreErrors.unknownVersion(p, `pins[${i}].version`, pin.version, known);
    });
    // the deadline covers a node launch and the slowest canary's load; shorter, every rollout would abort
    const slowest = props.canaries
      .filter((c) => known.includes(c.version))
      .map((c) => ({ version: c.version, seconds: host.loadTimeoutSeconds(c.version) }))
      .sort((a, b) => b.seconds - a.seconds)[0];
    const progressDeadlineSeconds = props.progressDeadline?.toSeconds()
      ?? Math.max(DEFAULT_PROGRESS_DEADLINE_SECONDS, (slowest?.seconds ?? 0) + NODE_PROVISIONING_SECONDS);
    if (slowest && progressDeadlineSeconds < slowest.seconds) {
      throw errors.progressDeadlineBelowLoad(p, 'progressDeadline', progressDeadlineSeconds, slowest.version, slowest.seconds);
    }
    // `RequestMirror.percent` (a partial mirror: the rollout's shadow version, a shadow step below 100 %) is v1.3+
    const partialMirror = !olderThan(props.gatewayApiVersion ?? '1.3', [1, 3]);
    if (props.mirror && props.mirror.percent < 100 && !partialMirror) {
      throw errors.mirrorPercentNeedsGatewayApi13(p, 'mirror.percent', props.mirror.percent);
    }
    const autoscalerWindow = (env as { readonly scaleDownDelay?: Duration }).scaleDownDelay?.toSeconds();
    // checks added later with addCheck() still count: the spec is built once, when first needed (render time)
    const spec = (): RolloutSpec => this.specCache ?? (this.specCache = {
      ...buildRolloutSpec(p, {
        name: this.name,
        stable,
        canaries: props.canaries,
        steps: fixed ? Steps.custom([Step.setWeight(100)]) : props.steps,
        stableReplicas: props.stableReplicas ?? Math.max(1, env.minReplicas),
        versions: model.versions.map((v) => ({ name: v.name, gpusPerReplica: v.gpusPerReplica, gpuProduct: v.gpu?.product.name })),
        mirror: props.mirror,
        checks: this.checks,
        checkFailureLimit: props.checkFailureLimit,
        progressDeadlineSeconds,
        prewarmSeconds: props.prewarm?.toSeconds(),
        keepPreviousWarmSeconds: env.keepPreviousWarmFor?.toSeconds(),
        capacity: props.capacity,
        placeholders: { model: model.name, environment: env.name, namespace: host.namespace },
        // Gateway API mirrors (RequestMirror, standard); a share below 100 % needs `percent` (v1.3+)
        shadows: {
          canMirror: true,
          partialMirror,
          unsupported: (prop) => coreErrors.shadowUnsupported(p, prop),
          partial: (prop, percent) => errors.mirrorPercentNeedsGatewayApi13(p, prop, percent),
        },
      }),
      // the versions' autoscalers hold a scale-down this long (their scale-down stabilization window: live sizing
      // reads a falling version's replicas against its share over it); `Environment` has it, IEnvironment does not
      ...(autoscalerWindow !== undefined ? { autoscalerWindowSeconds: autoscalerWindow } : {}),
      noData,
      ...(fixed ? {} : { tickSeconds }),
    });
    // validate the props now (errors at construction point at the caller), render from the same builder later
    const initial = spec();
    this.specCache = undefined;

    // the environment attaches first: a development environment or a second rollout is refused here
    host.attachRollout({ node: this.node, rules: () => this.rules() });
    const backends: Record<string, KubernetesBackend> = {};
    for (const v of rolloutVersions(initial, pins.map((x) => x.version))) backends[v] = host.backendOf(v);
    this.target = {
      kind: 'kubernetes',
      namespace: host.namespace,
      httpRoute: endpoint.httpRouteName,
      pathPrefix: endpoint.pathPrefix,
      backends,
      routing,
      // with a pin endpoint, the public route carries no pin: testers reach pinned versions only there
      pins: props.pinEndpoint ? [] : pins,
      // the namespace's controller serves many rollouts: each carries its own Prometheus
      ...(fixed ? {} : { prometheusUrl: props.prometheusUrl ?? host.prometheusUrl }),
    };
    this.spec = spec;
    const limits = routeLimits(initial.canaries.length, this.target);
    const overLimit = limits.rules > HTTPROUTE_MAX_RULES || limits.maxMatchesPerRule > HTTPROUTE_MAX_MATCHES_PER_RULE;
    if (overLimit || limits.matches > HTTPROUTE_MAX_TOTAL_MATCHES) {
      throw errors.tooManyRouteRules(p, 'pins', limits.rules, limits.matches);
    }

    if (props.pinEndpoint) this.renderPinEndpoint(props.pinEndpoint, pins, endpoint.gateway, endpoint.route?.metadata.toJson().labels ?? {});

    this.fixed = fixed;
    if (fixed) {
      // the manifests hold the split and the replicas it needs: nothing for a controller to do
      const weights = weightsAt(initial, 100);
      for (const c of initial.canaries) host.holdFixedFloor(c.version, replicasForWeight(weights[c.version], initial.stableReplicas));
      if (initial.mirror) host.holdFixedFloor(initial.mirror.version, mirrorReplicas(initial));
      this.controllerBundleBytes = 0;
    } else {
      // one controller per namespace ticks every rollout of it (private/step-controller.ts): its CronJob is
      // `model-rollout-controller`, within the 52 characters CronJob names allow
      const controller = new StepController(this, 'Controller', {
        image: props.controllerImage ?? CanaryRollout.DEFAULT_CONTROLLER_IMAGE,
        prometheus: prometheusMounts,
        rollout: {
          spec,
          target: this.target,
          notifications: (props.notifications ?? []).map((n, i) => n._toConfig(this.node.path, `notifications[${i}]`)),
        },
      });
      this.controllerBundleBytes = controller.bundleBytes;
    }

    if (routing.kind !== 'random') {
      new BucketFilter(this, 'BucketFilter', {
        name: `${this.name}-bucket`,
        namespace: props.gatewayNamespace ?? endpoint.gateway.namespace ?? env.namespace,
        gatewayLabels: props.gatewayLabels ?? { 'gateway.networking.k8s.io/gateway-name': endpoint.gateway.name },
        key: routing.kind === 'headerHash' ? { header: routing.header } : { query: routing.param },
        hostnames: endpoint.hostnames ?? [],
        pathPrefix: endpoint.pathPrefix,
      });
    }

    // fields the controller owns are marked on the objects, for Argo CD ignoreDifferences and the Terraform bridge
    if (!fixed) {
      if (endpoint.route) ApiObject.of(endpoint.route).metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, 'spec.rules');
      for (const v of Object.keys(backends)) host.claimFloor(v);
    }

    // a surge budget the node pool can never provide: the canary's pods would stay Pending until the deadline
    if (initial.capacity?.mode === 'surge') {
      this.node.addValidation({
        validate: () => {
          const extra = initial.capacity?.maxExtraGpus ?? 0;
          const current = initial.versions.find((v) => v.name === initial.stable);
          const product = initial.versions.find((v) => v.name === initial.canaries[0]?.version)?.gpuProduct;
          if (!product) return [];
          const stableGpus = current?.gpuProduct === product ? current.gpusPerReplica * initial.stableReplicas : 0;
          const pools = GpuNodePools.nodePools(this).filter((pool) => pool.products.some((x) => x.name === product));
          return pools.filter((pool) => stableGpus + extra > pool.maxGpus)
            .map((pool) => budgetAboveNodePool(p, 'capacity.maxExtraGpus', extra, product, stableGpus, pool.maxGpus).withoutPath);
        },
      });
    }

    // the plan goes beside the manifests, once, when the app synthesizes (validation runs once per synth)
    this.node.addValidation({
      validate: () => {
        const root = this.node.root;
        if (root instanceof App && !this.planWritten) {
          this.planWritten = true;
          this.plan.writeFiles(path.resolve(root.outdir));
        }
        return [];
      },
    });
  }

  /** The pins-only HTTPRoute: static (the controller never writes it), on internal host names or a listener. */
  private renderPinEndpoint(options: PinEndpointOptions, pins: PinSpec[], gateway: GatewayRef, labels: Record<string, string>): void {
    const p = this.node.path;
    if (pins.length === 0) throw errors.pinEndpointWithoutPins(p, 'pinEndpoint');
    if (options.hostnames.length === 0) throw errors.pinEndpointWithoutHostnames(p, 'pinEndpoint.hostnames');
    options.hostnames.forEach((h, i) => validateHostname(p, `pinEndpoint.hostnames[${i}]`, h));
    const g = options.gateway ?? gateway;
    new ApiObject(this, 'PinRoute', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `${this.target.httpRoute}-pins`, namespace: this.target.namespace, labels },
      spec: {
        parentRefs: [{ name: g.name, namespace: g.namespace, sectionName: g.sectionName }],
        hostnames: options.hostnames,
        rules: renderPinRules({ ...this.target, pins }),
      },
    });
  }

  /** The rollout's plan: timeline, duration, GPU-hours, spec hash (checks added with `addCheck()` included). */
  public get plan(): RolloutPlan {
    const spec = this.spec();
    if (this.planCache?._spec() !== spec) this.planCache = RolloutPlan._fromSpec(spec);
    return this.planCache;
  }

  /**
   * Check another metric at every tick of the rollout (like `checks`): a failure holds the weights, more than
   * `checkFailureLimit` roll back.
   */
  public addCheck(metric: Metric): void {
    this.checkWindow(metric, 'addCheck');
    this.checks.push(metric);
    this.specCache = undefined;
  }

  /**
   * A sequential test reads each tick's window once: with sub-minute ticks, counts over a fixed range (`[1m]`) would
   * count every request several times and abort healthy canaries. Their queries must range over `[{{window}}]`.
   */
  private checkWindow(metric: Metric, property: string): void {
    const m = metric._spec();
    // a test on raw counter totals takes differences, never a range: any tick and any scrape interval count exactly
    if (m.provider !== 'prometheus' || !m.sequential || m.sequential.totals || this.tickSeconds >= 60) return;
    for (const q of [m.sequential.errorsQuery, m.sequential.requestsQuery]) {
      if (!/\{\{\s*window\s*\}\}/.test(q)) throw errors.sequentialWindowFixed(this.node.path, property, m.name, q, this.tickSeconds);
    }
  }

  /** The route rules the manifests carry: every canary at 0 until the controller has their capacity ready. */
  private rules(): HttpRouteRule[] {
    const spec = this.spec();
    // a fixed split is the route itself; a ramp starts with every canary at 0 until its capacity is ready
    return renderHttpRouteRules(spec, this.target, this.fixed ? weightsAt(spec, 100) : abortWeights(spec));
  }
}

/** Whether a metric has a sequential test (on window queries only, with `'window'`). */
function isSequential(metric: Metric, kind?: 'window'): boolean {
  const m = metric._spec();
  return m.provider === 'prometheus' && m.sequential !== undefined && (kind !== 'window' || !m.sequential.totals);
}

/** Whether a `major.minor` version is older than `min`. */
function olderThan(version: string, min: [number, number]): boolean {
  const [major, minor] = version.replace(/^v/, '').split('.').map((x) => parseInt(x, 10));
  return major < min[0] || (major === min[0] && (minor ?? 0) < min[1]);
}

/** 8 hex digits of a polynomial hash mod 2^32: keeps a shortened name unique. */
