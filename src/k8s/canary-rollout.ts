import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { GatewayRef, IEnvironment } from './contracts';
import * as errors from './errors';
import { GpuNodePools } from './gpu-node-pools';
import { ManifestApplier } from './manifest-applier';
import { Notifier } from './notifications';
import { FLUX_SSA_ANNOTATION, keepsControllerFields } from './private/applier';
import { GatewayBucketFilter, STICKY_IMPLEMENTATIONS } from './private/bucket-filter';
import { EndpointInfo, EnvironmentHost, environmentHost, registerMember } from './private/hosts';
import { validateHostname, validateHttpUrl } from './private/inputs';
import { validatePins } from './private/pins';
import { writePlanOnSynth } from './private/plan-files';
import { PrometheusConnectionMounts, prometheusConnectionMounts } from './private/prometheus-connection';
import { StepController } from './private/step-controller';
import { specScaling } from './private/version-scaling';
import { NODE_PROVISIONING_SECONDS } from './private/version-workload';
import { PrometheusConnectionOptions } from './prometheus-connection';
import { GatewayImplementation, Pin, Routing } from './routing';
import { mirrorReplicas, replicasForWeight, replicasOf } from '../core/capacity';
import { ANNOTATION_CONTROLLER_OWNED, DEFAULT_PROGRESS_DEADLINE_SECONDS, DEFAULT_TICK_SECONDS } from '../core/constants';
import { KubernetesBackend, KubernetesTarget, PinSpec, RoutingSpec } from '../core/contract/target';
import * as coreErrors from '../core/errors';
import { DEFAULT_NO_DATA } from '../core/gates';
import { environmentNotSelected, queriesWithoutEnvironment } from '../core/placeholders';
import { HTTPROUTE_MAX_MATCHES_PER_RULE, HTTPROUTE_MAX_RULES, HTTPROUTE_MAX_TOTAL_MATCHES, HttpRouteRule, renderHttpRouteRules, renderPinRules, routeLimits } from '../core/routes/gateway-api';
import { NoDataPolicySpec, rolloutVersions, RolloutSpec } from '../core/spec';
import { abortWeights, weightsAt } from '../core/weights';
import { Metric } from '../rollout/analysis';
import { CanaryOptions, MirrorOptions } from '../rollout/canary';
import { RolloutCapacity } from '../rollout/capacity';
import { buildRolloutSpec } from '../rollout/private/build-spec';
import { ReleaseWindow } from '../rollout/release-window';
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
   * Prometheus the checks and metric gates query.
   * @default - the environment's (its KEDA autoscaler's, else the Model's `prometheusUrl`); required when a check
   * or gate queries Prometheus
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
   * When steps may raise the canaries' share (and promote): outside every window the rollout holds where it is;
   * checks, pauses, cancel and abort always work. The plan lists them.
   * @default - any time
   */
  readonly allowedWindows?: ReleaseWindow[];
  /**
   * The Gateway API implementation of the environment's Gateway. Required by sticky splits (`Routing.headerHash`,
   * `Routing.queryHash`): their bucket filter is an Istio `EnvoyFilter` or an Envoy Gateway `EnvoyExtensionPolicy`;
   * other implementations are refused at synth.
   * @default - undeclared: random splits and pins only
   */
  readonly gatewayImplementation?: GatewayImplementation;
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
 * exactly those fields. The state ConfigMap carries no data, so no re-apply resets progress. After a promotion the
 * previous version goes to zero after the keep-warm window only where the environment's `appliedBy` leaves the
 * controller's fields alone on a re-apply (Flux create-only objects, Argo CD `ignoreDifferences` with
 * `RespectIgnoreDifferences`, the Terraform bridge's computed fields; objects are annotated
 * `model-rollout.dev/controller-owned-fields`); with kubectl it keeps its replicas until the code names the new
 * version. The README's "Who owns what" has a table per apply method and what the cluster-twin scenarios prove.
 */
export class CanaryRollout extends Construct {
  /**
   * Default image of the step controller: the official `node:22.22.1-alpine3.23` image, pinned by its multi-arch
   * index digest so a re-pushed tag never changes what runs. Its `node` user is uid 1000, which the pod's
   * restricted security context runs as. Check it against your registry with
   * `docker buildx imagetools inspect node:22.22.1-alpine3.23`, and override `controllerImage` to track newer patches
   * or a mirror.
   */
  public static readonly DEFAULT_CONTROLLER_IMAGE = 'node:22.22.1-alpine3.23@sha256:8094c002d08262dba12645a3b4a15cd6cd627d30bc782f53229a2ec13ee22a00';

  /** Name of the rollout. */
  public readonly name: string;
  /** Size of the bundled controller in the manifests, in bytes. */
  public readonly controllerBundleBytes: number;

  private specCache?: RolloutSpec;
  private readonly props: CanaryRolloutProps;
  private readonly host: EnvironmentHost;
  private readonly settings: RolloutSettings;
  private readonly target: KubernetesTarget;
  private readonly checks: Metric[] = [];
  /**
   * A fixed split (BentoCloud's weighted versions): every canary holds its weight from the start, so the split is
   * rendered into the route and the floors into the manifests, and no controller runs.
   */
  private readonly fixed: boolean;
  /** The version serving when the rollout is declared: its stable version. */
  private readonly stable: string;
  /** Seconds between ticks (60 for a fixed split: no controller, no window to read). */
  private readonly tickSeconds: number;
  private planCache?: RolloutPlan;

  constructor(scope: Construct, id: string, props: CanaryRolloutProps) {
    super(scope, id);
    const env = props.environment;
    this.props = props;
    this.host = environmentHost(env, this.node.path, 'environment');
    registerMember(this, env);
    const endpoint = this.validateEnvironment();
    this.name = props.name ?? `${env.model.name}-${env.name}`;
    this.stable = this.host.servingVersion();
    // a canary at weight 0 (pinned requests only) has nothing to ramp: a key split alone is a fixed split
    this.fixed = props.canaries.length > 0 && props.canaries.every((c) => c.ramp === false || c.weight === 0);
    const tickSeconds = props.tickInterval?.toSeconds() ?? DEFAULT_TICK_SECONDS;
    this.tickSeconds = this.fixed ? 60 : tickSeconds;
    this.settings = this.resolveSettings(tickSeconds);
    // validate the props now (errors at construction point at the caller), render from the same builder later
    const initial = this.spec();
    this.specCache = undefined;
    this.checkKeepWarm(initial, endpoint);

    // the environment attaches first: a development environment or a second rollout is refused here
    this.host.attachRollout({ node: this.node, rules: () => this.rules() });
    this.target = this.renderTarget(initial, endpoint);
    if (props.pinEndpoint) this.renderPinEndpoint(props.pinEndpoint, endpoint);
    this.controllerBundleBytes = this.fixed ? this.holdFixedSplit(initial) : this.renderController();
    const routing = this.settings.routing;
    if (routing.kind !== 'random') this.renderBucketFilter(endpoint, routing);
    // fields the controller owns are marked on the objects, for Argo CD ignoreDifferences and the Terraform bridge
    if (!this.fixed) {
      if (endpoint.route) this.markRouteOwned(ApiObject.of(endpoint.route));
      for (const v of Object.keys(this.target.backends)) this.host.claimFloor(v);
    }
    if (initial.capacity?.mode === 'surge') this.node.addValidation({ validate: () => this.checkSurgeBudget(initial) });
    // the plan goes beside the manifests when the app synthesizes
    writePlanOnSynth(this, () => this.plan);
  }

  /**
   * A keep-warm window the library cannot honour is refused: with kubectl a re-apply after the promotion routes
   * every request to the previous version, so it keeps its replicas until the code names the new one.
   */
  private checkKeepWarm(spec: RolloutSpec, endpoint: EndpointInfo): void {
    const warm = this.host.env.keepPreviousWarmFor;
    const promotes = spec.canaries.length === 1 && spec.canaries[0].targetWeight === 100 && spec.canaries[0].ramp;
    if (warm && promotes && !this.fixed && endpoint.route && !keepsControllerFields(this.applier)) {
      throw errors.keepWarmWithKubectl(this.node.path, 'environment.keepPreviousWarmFor', warm.toHumanString(), this.host.env.name);
    }
  }

  /** How the environment's manifests reach the cluster. */
  private get applier(): ManifestApplier {
    return this.host.env.appliedBy;
  }

  /**
   * The route's rules are the controller's: marked for Argo CD's ignoreDifferences and the Terraform bridge; with
   * Flux the route is created once and never applied again while the rollout is in the code (Flux applies every
   * field it carries with ownership forced, fluxcd/pkg ssa/manager_apply.go).
   */
  private markRouteOwned(route: ApiObject): void {
    route.metadata.addAnnotation(ANNOTATION_CONTROLLER_OWNED, 'spec.rules');
    if (this.applier === ManifestApplier.FLUX) route.metadata.addAnnotation(FLUX_SSA_ANNOTATION, 'IfNotPresent');
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

  /** A rollout needs an active environment that keeps replicas and has an HTTP endpoint. */
  private validateEnvironment(): EndpointInfo {
    const { env, active, scalesToZero, endpoint } = this.host;
    const p = this.node.path;
    if (!active) throw errors.rolloutOnInactive(p, 'environment', env.name);
    if (scalesToZero && !env.kind.isDevelopment) throw errors.rolloutOnScaleToZero(p, 'environment', env.name);
    if (!endpoint) throw errors.rolloutWithoutEndpoint(p, 'environment', env.name);
    return endpoint;
  }

  /** Check the props the spec builder does not, and resolve the settings the spec and the manifests render from. */
  private resolveSettings(tickSeconds: number): RolloutSettings {
    const { props, host } = this;
    const p = this.node.path;
    const routing = (props.routing ?? Routing.random())._bind(p);
    const pins = (props.pins ?? []).map((pin) => pin._spec());
    validatePins(p, pins);
    this.addDefaultChecks();
    if (!(Number.isInteger(tickSeconds) && tickSeconds >= 10 && 60 % tickSeconds === 0)) throw errors.tickIntervalInvalid(p, 'tickInterval', tickSeconds);
    const prometheusMounts = prometheusConnectionMounts(p, 'prometheusConnection', props.prometheusConnection);
    this.validateChecks();
    const noData = {
      holdAfterSeconds: props.noDataHoldAfter?.toSeconds() ?? DEFAULT_NO_DATA.holdAfterSeconds,
      abortAfterSeconds: props.noDataAbortAfter?.toSeconds() ?? DEFAULT_NO_DATA.abortAfterSeconds,
    };
    if (!(noData.holdAfterSeconds > 0 && noData.abortAfterSeconds >= noData.holdAfterSeconds)) {
      throw errors.noDataWindowsInvalid(p, 'noDataAbortAfter', noData.holdAfterSeconds, noData.abortAfterSeconds);
    }
    if (this.fixed && props.steps) throw errors.stepsWithFixedSplit(p, 'steps');
    const known = host.env.model.versions.map((v) => v.name);
    pins.forEach((pin, i) => {
      if (!known.includes(pin.version)) throw coreErrors.unknownVersion(p, `pins[${i}].version`, pin.version, known);
    });
    // `RequestMirror.percent` (a partial mirror: the rollout's shadow version, a shadow step below 100 %) is v1.3+
    const partialMirror = !olderThan(props.gatewayApiVersion ?? '1.3', [1, 3]);
    const progressDeadlineSeconds = this.progressDeadlineSeconds(known);
    if (props.mirror && props.mirror.percent < 100 && !partialMirror) {
      throw errors.mirrorPercentNeedsGatewayApi13(p, 'mirror.percent', props.mirror.percent);
    }
    return { routing, pins, prometheusMounts, noData, progressDeadlineSeconds, partialMirror };
  }

  /**
   * The serving engine's checks. No check at all would promote a canary returning 20 % errors: refused, unless the
   * user brings checks or says `defaultChecks: false`.
   */
  private addDefaultChecks(): void {
    const { props, host } = this;
    if (props.defaultChecks === false) return;
    const engine = host.servingEngine;
    if (engine) this.checks.push(engine.errorCheck(), engine.latencyCheck());
    else if ((props.checks ?? []).length === 0) throw errors.noServingEngine(this.node.path, 'defaultChecks', host.env.model.name);
  }

  /** Every check's window, and a PodMonitor that scrapes often enough for the sequential tests. */
  private validateChecks(): void {
    const engineChecks = this.checks.length;
    this.checks.push(...(this.props.checks ?? []));
    this.checks.forEach((m, i) => this.checkWindow(m, i < engineChecks ? 'servingEngine' : `checks[${i - engineChecks}]`));
    const p = this.node.path;
    (this.props.checks ?? []).forEach((m, i) => queriesWithoutEnvironment(m._spec()).forEach((q) => {
      // constructs' metadata entry of type `warning` (cdk8s has no Annotations class; aws-cdk and cdktf read this type)
      this.node.addMetadata('warning', environmentNotSelected(p, `checks[${i}].${q.property}`, m._spec().name, q.query));
    }));
    // increase() over one tick needs two samples in it: the PodMonitor must scrape at least twice per tick (a test on
    // raw counter totals takes differences and has no such need)
    const scrape = this.host.scrapeIntervalSeconds;
    if (scrape !== undefined && this.tickSeconds < 60 && scrape * 2 > this.tickSeconds && this.checks.some((m) => isSequential(m, 'window'))) {
      throw errors.scrapeSlowerThanTick(this.node.path, 'tickInterval', this.tickSeconds, scrape);
    }
  }

  /** The deadline covers a node launch and the slowest canary's load; shorter, every rollout would abort. */
  private progressDeadlineSeconds(known: string[]): number {
    const slowest = this.props.canaries
      .filter((c) => known.includes(c.version))
      .map((c) => ({ version: c.version, seconds: this.host.loadTimeoutSeconds(c.version) }))
      .sort((a, b) => b.seconds - a.seconds)[0];
    const seconds = this.props.progressDeadline?.toSeconds()
      ?? Math.max(DEFAULT_PROGRESS_DEADLINE_SECONDS, (slowest?.seconds ?? 0) + NODE_PROVISIONING_SECONDS);
    if (slowest && seconds < slowest.seconds) {
      throw errors.progressDeadlineBelowLoad(this.node.path, 'progressDeadline', seconds, slowest.version, slowest.seconds);
    }
    return seconds;
  }

  /** The spec, built once when first needed (render time), so checks added with `addCheck()` still count. */
  private spec(): RolloutSpec {
    if (!this.specCache) this.specCache = this.buildSpec();
    return this.specCache;
  }

  private buildSpec(): RolloutSpec {
    const { props, host, settings } = this;
    const env = host.env;
    const p = this.node.path;
    return {
      ...buildRolloutSpec(p, {
        name: this.name,
        stable: this.stable,
        canaries: props.canaries,
        steps: this.fixed ? Steps.custom([Step.setWeight(100)]) : props.steps,
        // the stable version's own minimum (per-version autoscaling) over the environment's
        stableReplicas: props.stableReplicas ?? Math.max(1, env.model.version(this.stable).autoscaling?.minReplicas ?? env.minReplicas),
        versions: env.model.versions.map((v) => ({
          name: v.name, gpusPerReplica: v.gpusPerReplica, gpuProduct: v.gpu?.product.name, ...specScaling(v),
        })),
        mirror: props.mirror,
        pinnedVersions: settings.pins.map((pin) => pin.version),
        allowedWindows: props.allowedWindows,
        checks: this.checks,
        checkFailureLimit: props.checkFailureLimit,
        progressDeadlineSeconds: settings.progressDeadlineSeconds,
        prewarmSeconds: props.prewarm?.toSeconds(),
        keepPreviousWarmSeconds: env.keepPreviousWarmFor?.toSeconds(),
        // the previous version may go to zero only where a re-apply of the unchanged manifests leaves the controller's
        // route rules alone; with kubectl it would send every request back to it (README "Who owns what")
        keepPreviousUntilSpecChanges: keepsControllerFields(this.applier) ? false : undefined,
        capacity: props.capacity,
        placeholders: { model: env.model.name, environment: env.name, namespace: host.namespace },
        // Gateway API mirrors (RequestMirror, standard); a share below 100 % needs `percent` (v1.3+)
        shadows: {
          canMirror: true,
          partialMirror: settings.partialMirror,
          unsupported: (prop) => coreErrors.shadowUnsupported(p, prop),
          partial: (prop, percent) => errors.mirrorPercentNeedsGatewayApi13(p, prop, percent),
        },
      }),
      // live sizing reads a falling version's replicas against its share over its autoscalers' scale-down window
      autoscalerWindowSeconds: host.autoscalerWindowSeconds,
      noData: settings.noData,
      ...(this.fixed ? {} : { tickSeconds: this.tickSeconds }),
    };
  }

  /** What the controller and the route renderers work on: the route, every version's backend, the pins. */
  private renderTarget(initial: RolloutSpec, endpoint: EndpointInfo): KubernetesTarget {
    const { props, host, settings } = this;
    const backends: Record<string, KubernetesBackend> = {};
    for (const v of rolloutVersions(initial, settings.pins.map((x) => x.version))) backends[v] = host.backendOf(v);
    const target: KubernetesTarget = {
      kind: 'kubernetes',
      namespace: host.namespace,
      httpRoute: endpoint.httpRouteName,
      pathPrefix: endpoint.pathPrefix,
      backends,
      routing: settings.routing,
      // with a pin endpoint, the public route carries no pin: testers reach pinned versions only there
      pins: props.pinEndpoint ? [] : settings.pins,
      // the namespace's controller serves many rollouts: each carries its own Prometheus
      ...(this.fixed ? {} : { prometheusUrl: this.prometheusUrl(initial) }),
    };
    const limits = routeLimits(initial.canaries.length, target);
    const overLimit = limits.rules > HTTPROUTE_MAX_RULES || limits.maxMatchesPerRule > HTTPROUTE_MAX_MATCHES_PER_RULE;
    if (overLimit || limits.matches > HTTPROUTE_MAX_TOTAL_MATCHES) {
      throw errors.tooManyRouteRules(this.node.path, 'pins', limits.rules, limits.matches);
    }
    return target;
  }

  /** The Prometheus the controller queries for this rollout: given, or the environment's; required by Prometheus checks. */
  private prometheusUrl(spec: RolloutSpec): string | undefined {
    const p = this.node.path;
    if (this.props.prometheusUrl !== undefined) validateHttpUrl(p, 'prometheusUrl', this.props.prometheusUrl);
    const url = this.props.prometheusUrl ?? this.host.prometheusUrl;
    const metrics = [...spec.checks, ...spec.steps.flatMap((s) => (s.kind === 'analysis' ? s.gate.metrics : []))];
    if (url === undefined && metrics.some((m) => m.provider === 'prometheus')) {
      throw errors.prometheusUrlMissing(p, 'prometheusUrl', `the checks of rollout "${spec.name}" query Prometheus`);
    }
    return url;
  }

  /** A fixed split: the manifests hold the split and the replicas it needs, nothing for a controller to do. */
  private holdFixedSplit(initial: RolloutSpec): number {
    const weights = weightsAt(initial, 100);
    for (const c of initial.canaries) this.host.holdFixedFloor(c.version, replicasOf(initial, c.version, weights[c.version], initial.stableReplicas));
    if (initial.mirror) this.host.holdFixedFloor(initial.mirror.version, mirrorReplicas(initial));
    // pinned requests reach their version at any weight (core/decide/pins.ts)
    for (const v of initial.pinned ?? []) this.host.holdFixedFloor(v, Math.max(1, replicasForWeight(weights[v] ?? 0, initial.stableReplicas)));
    return 0;
  }

  /**
   * One controller per chart and namespace ticks the chart's rollouts there (private/step-controller.ts): its CronJob
   * is `model-rollout-controller-<chart id>`, within the 52 characters CronJob names allow.
   * @returns the size of its bundle in the manifests
   */
  private renderController(): number {
    const controller = new StepController(this, 'Controller', {
      image: this.props.controllerImage ?? CanaryRollout.DEFAULT_CONTROLLER_IMAGE,
      prometheus: this.settings.prometheusMounts,
      rollout: {
        spec: () => this.spec(),
        target: this.target,
        notifications: (this.props.notifications ?? []).map((n, i) => n._toConfig(this.node.path, `notifications[${i}]`)),
      },
    });
    return controller.bundleBytes;
  }

  /** The pins-only HTTPRoute: static (the controller never writes it), on internal host names or a listener. */
  private renderPinEndpoint(options: PinEndpointOptions, endpoint: EndpointInfo): void {
    const p = this.node.path;
    const pins = this.settings.pins;
    if (pins.length === 0) throw errors.pinEndpointWithoutPins(p, 'pinEndpoint');
    if (options.hostnames.length === 0) throw errors.pinEndpointWithoutHostnames(p, 'pinEndpoint.hostnames');
    options.hostnames.forEach((h, i) => validateHostname(p, `pinEndpoint.hostnames[${i}]`, h));
    const g = options.gateway ?? endpoint.gateway;
    new ApiObject(this, 'PinRoute', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `${this.target.httpRoute}-pins`, namespace: this.target.namespace, labels: endpoint.route?.metadata.toJson().labels ?? {} },
      spec: {
        parentRefs: [{ name: g.name, namespace: g.namespace, sectionName: g.sectionName }],
        hostnames: options.hostnames,
        rules: renderPinRules({ ...this.target, pins }),
      },
    });
  }

  /** Sticky routing: this rollout's entry in its gateway's one bucket filter (private/bucket-filter.ts). */
  private renderBucketFilter(endpoint: EndpointInfo, routing: Exclude<RoutingSpec, { readonly kind: 'random' }>): void {
    const implementation = this.props.gatewayImplementation;
    if (implementation === undefined) throw errors.stickyWithoutImplementation(this.node.path, 'gatewayImplementation');
    if (!STICKY_IMPLEMENTATIONS.includes(implementation)) throw errors.stickyUnsupported(this.node.path, 'gatewayImplementation', implementation);
    const gatewayNamespace = endpoint.gateway.namespace ?? this.host.namespace;
    GatewayBucketFilter.of(this, {
      implementation,
      gateway: { name: endpoint.gateway.name, namespace: gatewayNamespace },
      podNamespace: this.props.gatewayNamespace ?? gatewayNamespace,
      podLabels: this.props.gatewayLabels ?? { 'gateway.networking.k8s.io/gateway-name': endpoint.gateway.name },
    }).addEntry({
      key: routing.kind === 'headerHash' ? { header: routing.header } : { query: routing.param },
      hosts: endpoint.hostnames ?? [],
      pathPrefix: endpoint.pathPrefix,
    });
  }

  /** A surge budget the node pool can never provide: the canary's pods would stay Pending until the deadline. */
  private checkSurgeBudget(initial: RolloutSpec): string[] {
    const extra = initial.capacity?.maxExtraGpus ?? 0;
    const current = initial.versions.find((v) => v.name === initial.stable);
    const product = initial.versions.find((v) => v.name === initial.canaries[0]?.version)?.gpuProduct;
    if (!product) return [];
    const stableGpus = current?.gpuProduct === product ? current.gpusPerReplica * initial.stableReplicas : 0;
    const pools = GpuNodePools.nodePools(this).filter((pool) => pool.products.some((x) => x.name === product));
    return pools.filter((pool) => stableGpus + extra > pool.maxGpus)
      .map((pool) => errors.budgetAboveNodePool(this.node.path, 'capacity.maxExtraGpus', extra, product, stableGpus, pool.maxGpus).withoutPath);
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

  /** The route rules the manifests carry: a fixed split is the route itself; a ramp starts with every canary at 0. */
  private rules(): HttpRouteRule[] {
    const spec = this.spec();
    return renderHttpRouteRules(spec, this.target, this.fixed ? weightsAt(spec, 100) : abortWeights(spec));
  }
}

/** The settings a rollout resolves from its props, checked. */
interface RolloutSettings {
  readonly routing: RoutingSpec;
  readonly pins: PinSpec[];
  readonly prometheusMounts?: PrometheusConnectionMounts;
  readonly noData: NoDataPolicySpec;
  readonly progressDeadlineSeconds: number;
  /** Whether the Gateway API CRDs have `RequestMirror.percent` (v1.3+). */
  readonly partialMirror: boolean;
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

