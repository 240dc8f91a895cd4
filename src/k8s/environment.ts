/**
 * Environment: a stable endpoint for a model with its own autoscaling, pointing at one version. It renders every
 * version it serves (`private/version-workload.ts`), its HTTP endpoint when it has a gateway
 * (`private/endpoint.ts`) and, with `minReplicas: 0`, scale to zero (`private/scale-to-zero.ts`). Rollouts reach
 * it through the narrow `EnvironmentHost` contract (`contracts.ts`), never through this class.
 */
import { ApiObject, Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { AutoscalingOptions, Autoscaler, ScaleToZeroApi } from './autoscaling';
import { CanaryRollout } from './canary-rollout';
import { GatewayRef, IEnvironment, IModel } from './contracts';
import { EnvironmentKind } from './environment-kind';
import * as errors from './errors';
import { GpuNodePools } from './gpu-node-pools';
import { ManifestApplier } from './manifest-applier';
import { PodMonitor } from './monitoring';
import { keepsReplicas } from './private/applier';
import { Endpoint } from './private/endpoint';
import { EndpointInfo, EnvironmentHost, modelRegistry, PodSettings, registerEnvironmentHost, RolloutRouter } from './private/hosts';
import { validateHostname, validateHttpUrl, validatePathPrefix } from './private/inputs';
import { KedaHttpAddOn, resolveKedaHttpAddOn, ScaleToZero } from './private/scale-to-zero';
import { scalingOf } from './private/version-scaling';
import { VersionRole, VersionWorkload } from './private/version-workload';
import { LABEL_ENVIRONMENT, LABEL_MANAGED_BY, LABEL_MODEL, MANAGED_BY } from '../core/constants';
import { KubernetesBackend, KubernetesTarget } from '../core/contract/target';
import * as coreErrors from '../core/errors';
import { validateDns1123Label, pascalCase } from '../core/names';
import { HttpRouteRule, renderHttpRouteRules } from '../core/routes/gateway-api';
import { Metric } from '../rollout/analysis';
import { Step, Steps } from '../rollout/steps';

/** Props of an `Environment`. */
export interface EnvironmentProps {
  /** The version the environment serves. */
  readonly version: string;
  /**
   * Name of the environment (DNS-1123 label; reaches the pods as `MODEL_ENVIRONMENT`).
   * @default - the construct id, lowercased
   */
  readonly name?: string;
  /**
   * Kind of the environment.
   * @default - from the name: production, staging, development, otherwise custom
   */
  readonly kind?: EnvironmentKind;
  /**
   * The Gateway the environment's HTTPRoute attaches to.
   * @default - no HTTPRoute: the environment is reached some other way (behind an ALB through `AlbCanaryRollout`)
   */
  readonly gateway?: GatewayRef;
  /**
   * Host names of the endpoint. Required to scale to zero (the KEDA interceptor routes by host).
   * @default - any host the Gateway accepts
   */
  readonly hostnames?: string[];
  /**
   * Path prefix of the endpoint.
   * @default - every path
   */
  readonly pathPrefix?: string;
  /**
   * Autoscaling of the environment.
   * @default - 1..4 replicas, 4 in-flight requests per replica, 60 s up, 900 s down (development: 0..1)
   */
  readonly autoscaling?: AutoscalingOptions;
  /**
   * false keeps every object's configuration but scales to zero and removes the route (requests get 404).
   * @default true
   */
  readonly active?: boolean;
  /**
   * After a promotion the previous version stays at the environment's minimum this long (the rollback window), then
   * the step controller scales it to zero and keeps it deployed. Needs an `appliedBy` whose re-applies leave the
   * controller's route alone (Flux, Argo CD, Terraform): with kubectl a rollout on a Gateway route refuses it, and
   * the previous version keeps its replicas until the code names the new one.
   * @default - scaled to zero after promotion where `appliedBy` allows; kept until the code moves on with kubectl
   */
  readonly keepPreviousWarmFor?: Duration;
  /**
   * How the manifests reach the cluster: decides whether a re-apply after a promotion can route to the previous
   * version, and so whether it may be scaled to zero while the code still names it (README "Who owns what").
   * @default ManifestApplier.KUBECTL - the previous version keeps its replicas until the code names the new one
   */
  readonly appliedBy?: ManifestApplier;
  /**
   * Refuse to destroy the environment's resources where the target can (Terraform `prevent_destroy` on the
   * objects the bridge renders and on the AWS rollout's resources). The one switch for destroy protection.
   * @default - true for a production environment, false otherwise
   */
  readonly destroyProtection?: boolean;
  /**
   * Namespace of the environment's objects.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/**
 * A stable endpoint for a model, independent of the version serving it, with its own autoscaling.
 */
/** Options of `Environment.promote()`. */
export interface PromoteOptions {
  /**
   * The ramp (Baseten's rolling promotion: for example `Steps.equal({ count: 10, over: Duration.minutes(10) })`).
   * @default - all traffic at once, when the new version's replicas are ready
   */
  readonly steps?: Steps;
  /**
   * Metrics checked at every tick of the promotion (as `CanaryRolloutProps.checks`): a failure holds the traffic,
   * more than the limit sends it back.
   * @default - none
   */
  readonly checks?: Metric[];
  /**
   * The serving engine's default checks (as `CanaryRolloutProps.defaultChecks`). A model whose engine is not
   * recognisable from its image (Truss, BentoML, a custom server) has none: its promotion is refused unless it has
   * `checks` or `defaultChecks: false`.
   * @default true
   */
  readonly defaultChecks?: boolean;
}

export class Environment extends Construct implements IEnvironment {
  /** The model. */
  public readonly model: IModel;
  /** Name of the environment. */
  public readonly name: string;
  /** Kind of the environment. */
  public readonly kind: EnvironmentKind;
  /** Namespace of its objects, if set. */
  public readonly namespace?: string;
  /** Fewest replicas (0: scale to zero). */
  public readonly minReplicas: number;
  /** Most replicas. */
  public readonly maxReplicas: number;
  /** In-flight requests per replica the autoscaler aims at. */
  public readonly concurrencyTarget: number;
  /** Scale-up stabilization window. */
  public readonly scaleUpWindow: Duration;
  /** Scale-down delay. */
  public readonly scaleDownDelay: Duration;
  /** What scales the replicas. */
  public readonly autoscaler: Autoscaler;
  /** The Prometheus its KEDA autoscalers query: the autoscaler's, else the model's. */
  public readonly prometheusUrl?: string;
  private readonly kedaHttpAddOn: KedaHttpAddOn;
  /** Whether the environment serves traffic. */
  public readonly active: boolean;
  /** Whether targets that can refuse to destroy the environment's resources. */
  public readonly destroyProtection: boolean;
  /** Name of the HTTPRoute, when the environment has a gateway. */
  public readonly httpRouteName?: string;
  /** Path prefix, if any. */
  public readonly pathPrefix?: string;
  /** Host names, if any. */
  public readonly hostnames?: string[];
  /** Keep-warm window of the previous version after a promotion, if any. */
  public readonly keepPreviousWarmFor?: Duration;
  /** How the manifests reach the cluster. */
  public readonly appliedBy: ManifestApplier;
  /** The Gateway the route attaches to, if any. */
  public readonly gateway?: GatewayRef;

  private _current: string;
  private _previous?: string;
  /** The version the route serves before any rollout moves traffic (a promotion's stable version). */
  private _serving: string;
  /** Replica floors the manifests hold for versions of a fixed split (no controller sets them). */
  private readonly fixedFloors = new Map<string, number>();
  private readonly _workloads = new Map<string, VersionWorkload>();
  private readonly endpoint?: EndpointInfo;
  private rollout?: RolloutRouter;
  private readonly pod: PodSettings;

  constructor(scope: IModel, id: string, props: EnvironmentProps) {
    super(scope, id);
    this.model = scope;
    const p = this.node.path;
    this.name = props.name ?? id.toLowerCase();
    validateDns1123Label(p, 'name', this.name);
    this.kind = validateKind(p, this.name, props.kind);
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const scaling = resolveAutoscaling(p, props.autoscaling ?? {}, this.kind.isDevelopment);
    this.minReplicas = scaling.minReplicas;
    this.maxReplicas = scaling.maxReplicas;
    this.concurrencyTarget = scaling.concurrencyTarget;
    this.scaleUpWindow = scaling.scaleUpWindow;
    this.scaleDownDelay = scaling.scaleDownDelay;
    this.autoscaler = scaling.autoscaler;
    this.active = props.active ?? true;
    this.destroyProtection = props.destroyProtection ?? this.kind.isProduction;
    this.pathPrefix = props.pathPrefix;
    if (props.pathPrefix !== undefined) validatePathPrefix(p, 'pathPrefix', props.pathPrefix);
    this.hostnames = props.hostnames;
    (props.hostnames ?? []).forEach((h, i) => validateHostname(p, `hostnames[${i}]`, h));
    this.keepPreviousWarmFor = props.keepPreviousWarmFor;
    this.appliedBy = props.appliedBy ?? ManifestApplier.KUBECTL;
    this.gateway = props.gateway;
    const objectName = `${scope.name}-${this.name}`;
    if (props.gateway) {
      this.httpRouteName = objectName;
      if (objectName.length > 63) throw errors.nameTooLong(p, 'name', objectName, 63);
    }
    if (this.scalesToZero && !props.gateway) throw errors.scaleToZeroNeedsGateway(p, 'gateway');
    if (this.scalesToZero && !(props.hostnames && props.hostnames.length > 0)) throw errors.scaleToZeroNeedsHostname(p, 'hostnames');

    const registry = modelRegistry(scope, p);
    registry.register(this);
    this.pod = registry.pod;
    // an unknown version is reported here, at the environment's `version`, not inside the model
    this._current = this.versionName(p, 'version', props.version);
    this._serving = this._current;
    // after the version (a more basic mistake) and before any workload renders with them
    this.prometheusUrl = this.resolvePrometheusUrl(scope);
    this.kedaHttpAddOn = resolveKedaHttpAddOn(p, props.autoscaling?.kedaHttpAddOn);
    this.ensureVersion(this._current);
    if (this.scalesToZero) this.node.addValidation({ validate: () => this.checkNodePoolForZero() });

    this.endpoint = this.renderEndpoint(props, objectName);
    if (this.pod.monitoring) this.renderMonitor(this.pod.monitoring, objectName);
    registerEnvironmentHost(this, this.host());
  }

  /** Whether the environment scales to zero (through the KEDA HTTP add-on). */
  public get scalesToZero(): boolean {
    return this.minReplicas === 0;
  }

  /** The version the environment serves. */
  public get currentVersion(): string {
    return this._current;
  }

  /** The version it served before the last `promote()`, if any. */
  public get previousVersion(): string | undefined {
    return this._previous;
  }

  /**
   * Point the environment at another version (Baseten's promotion): the new version is raised to the stable
   * replica count and traffic moves once its replicas are ready, at once or along `options.steps`; `cancel` sends
   * it all back. Afterwards `currentVersion` is the new version and `previousVersion` the old one.
   *
   * With replicas always up, the step controller runs it (a rollout named `<model>-<environment>-promote`); both
   * versions keep the environment's minimum in the manifests while the code says `promote()`, so re-applying them at
   * any moment never leaves traffic on a version without replicas: the controller keeps the previous version's
   * replicas until the code names the new version as the environment's `version` (then, without it in the code,
   * its objects are pruned, or left for you to delete). One promotion per environment at a time. In environments that scale to zero (and development ones)
   * the switch is immediate: the KEDA interceptor holds requests until the new version is ready.
   */
  public promote(version: string, options: PromoteOptions = {}): void {
    const v = this.versionName(this.node.path, 'promote(version)', version);
    if (v === this._current) return;
    const previous = this._current;
    if (this.scalesToZero || this.kind.isDevelopment) {
      if (options.steps) throw errors.promoteStepsWithoutController(this.node.path, 'promote(options.steps)', this.name);
      this._previous = previous;
      this._current = v;
      this._serving = v;
      this.ensureVersion(v);
      return;
    }
    // refused here, so the fix names this call rather than the promotion rollout's props
    if (!this.pod.servingEngine && options.defaultChecks !== false && (options.checks ?? []).length === 0) {
      throw errors.noServingEngine(this.node.path, 'promote(options.defaultChecks)', this.model.name,
        `\`checks\` of your own (\`promote('${v}', { checks: [...] })\`), or \`promote('${v}', { defaultChecks: false })\``);
    }
    // the rollout reads the serving version as its stable one: switch current/previous only after it exists
    new CanaryRollout(this, `Promote${pascalCase(v)}`, {
      environment: this,
      canaries: [{ version: v }],
      checks: options.checks,
      defaultChecks: options.defaultChecks,
      steps: options.steps ?? Steps.custom([Step.setWeight(100)]),
      name: `${this.model.name}-${this.name}-promote`,
    });
    this._previous = previous;
    this._current = v;
  }

  /**
   * The Deployment of `version` in this environment (rendered if it was not yet): the escape hatch to fields this
   * library does not model, e.g. `env.deploymentOf('v1').addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', 'gpu'))`.
   * Its Service, PodDisruptionBudget and autoscaler are siblings: `env.node.findChild('Version<V>')`.
   */
  public deploymentOf(version: string): ApiObject {
    return this.ensureVersion(this.versionName(this.node.path, 'deploymentOf(version)', version)).deployment;
  }

  /** Labels of every object of this environment. */
  public labels(): { [key: string]: string } {
    return {
      'app.kubernetes.io/name': this.model.name,
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_MODEL]: this.model.name,
      [LABEL_ENVIRONMENT]: this.name,
    };
  }

  /** The HTTPRoute (and, scaling to zero, the KEDA HTTP add-on's objects) of an environment with a Gateway. */
  private renderEndpoint(props: EnvironmentProps, objectName: string): EndpointInfo | undefined {
    if (!props.gateway) return undefined;
    const info = { httpRouteName: objectName, gateway: props.gateway, hostnames: props.hostnames, pathPrefix: props.pathPrefix };
    if (!this.active) return info;
    const endpoint = new Endpoint(this, 'Endpoint', {
      name: objectName,
      namespace: this.namespace,
      labels: this.labels(),
      gateway: props.gateway,
      hostnames: props.hostnames,
      rules: () => this.routeRules(),
    });
    if (this.scalesToZero) {
      new ScaleToZero(this, 'ScaleToZero', {
        name: objectName,
        namespace: this.namespace,
        labels: this.labels(),
        hostnames: props.hostnames!,
        pathPrefix: this.pathPrefix,
        port: this.model.port,
        concurrencyTarget: this.concurrencyTarget,
        scaleDownDelay: this.scaleDownDelay,
        currentObjectName: () => this._workloads.get(this._current)!.objectName,
        loadTimeout: () => this.model.version(this._current).loadTimeout,
        responseTimeout: Duration.seconds(this.pod.terminationGracePeriodSeconds),
        api: props.autoscaling?.scaleToZeroApi ?? ScaleToZeroApi.HTTP_SCALED_OBJECT,
        addOn: this.kedaHttpAddOn,
        maxReplicas: () => scalingOf(this.workloadSettings(), this.model.version(this._current)).maxReplicas,
      });
    }
    return { ...info, route: endpoint.route };
  }

  /** The PodMonitor that scrapes every version's pods with `model`, `environment` and `version` labels. */
  private renderMonitor(m: NonNullable<PodSettings['monitoring']>, objectName: string): void {
    new PodMonitor(this, 'Monitor', {
      name: objectName,
      namespace: this.namespace,
      labels: { ...this.labels(), ...m.labels },
      model: this.model.name,
      environment: this.name,
      port: m.port,
      path: m.path,
      intervalSeconds: m.intervalSeconds,
    });
  }

  /** The name of a known version, or an error at this environment's `property`. */
  private versionName(path: string, property: string, version: string): string {
    const known = this.model.versions.map((v) => v.name);
    if (!known.includes(version)) throw coreErrors.unknownVersion(path, property, version, known);
    return version;
  }

  /** What rollouts need from this environment (see `contracts.ts`). */
  private host(): EnvironmentHost {
    return {
      env: this,
      active: this.active,
      loadTimeoutSeconds: (version) => this.model.version(version).loadTimeout.toSeconds(),
      namespace: this.namespace ?? 'default',
      scalesToZero: this.scalesToZero,
      endpoint: this.endpoint,
      prometheusUrl: this.prometheusUrl,
      servingVersion: () => this._serving,
      holdFixedFloor: (version, replicas) => {
        this.ensureVersion(version);
        this.fixedFloors.set(version, replicas);
      },
      servingEngine: this.pod.servingEngine,
      scrapeIntervalSeconds: this.pod.monitoring?.intervalSeconds,
      autoscalerWindowSeconds: this.scaleDownDelay.toSeconds(),
      backendOf: (version) => this.ensureVersion(version).backend,
      claimFloor: (version) => this.ensureVersion(version).markFloorOwned(),
      attachRollout: (router) => {
        if (this.kind.isDevelopment) throw errors.rolloutOnDevelopment(router.node.path, 'environment', this.name);
        if (this.rollout) throw errors.secondRollout(router.node.path, 'environment', this.name, this.rollout.node.path);
        this.rollout = router;
      },
    };
  }

  /** The role of a version in this environment. */
  private roleOf(version: string): VersionRole {
    // the version the route serves keeps its replicas too: during a promotion, and until the code moves on
    if (version === this._current || version === this._serving) return VersionRole.CURRENT;
    if (version === this._previous) return this.keepPreviousWarmFor ? VersionRole.WARM : VersionRole.IDLE;
    return VersionRole.IDLE;
  }

  /** Render `version`'s workload in this environment, once. */
  private ensureVersion(version: string): VersionWorkload {
    const v = this.model.version(version);
    let w = this._workloads.get(v.name);
    if (!w) {
      w = new VersionWorkload(this, `Version${pascalCase(v.name)}`, {
        model: this.model,
        version: v,
        environment: { ...this.workloadSettings(), labels: this.labels() },
        role: () => this.roleOf(v.name),
        fixedFloor: () => this.fixedFloors.get(v.name),
        pod: this.pod,
      });
      this._workloads.set(v.name, w);
    }
    return w;
  }

  private workloadSettings() {
    const { name, namespace, active, minReplicas, maxReplicas, scalesToZero, autoscaler, concurrencyTarget, scaleUpWindow, scaleDownDelay } = this;
    const scaling = { minReplicas, maxReplicas, scalesToZero, autoscaler, concurrencyTarget, scaleUpWindow, scaleDownDelay };
    const applied = { replicasKept: keepsReplicas(this.appliedBy), createOnlyFloors: this.appliedBy === ManifestApplier.FLUX };
    return { name, namespace, active, ...scaling, ...applied, prometheusUrl: this.prometheusUrl, development: this.kind.isDevelopment };
  }

  /**
   * The address KEDA's Prometheus trigger queries: the autoscaler's, else the model's. Required when a ScaledObject
   * with that trigger renders (KEDA, not scaling to zero): no address is guessed.
   */
  private resolvePrometheusUrl(model: IModel): string | undefined {
    const url = this.autoscaler.prometheusUrl ?? model.prometheusUrl;
    const p = this.node.path;
    if (this.autoscaler.prometheusUrl !== undefined) validateHttpUrl(p, 'autoscaling.autoscaler.prometheusUrl', this.autoscaler.prometheusUrl);
    if (url === undefined && this.autoscaler.kind === 'keda' && !this.scalesToZero) {
      throw errors.prometheusUrlMissing(p, 'autoscaling.autoscaler.prometheusUrl', `the KEDA autoscaler of environment "${this.name}" queries Prometheus`);
    }
    return url;
  }

  /** Waking from zero needs a node autoscaler able to create the version's GPU nodes from nothing. */
  private checkNodePoolForZero(): string[] {
    const gpu = this.model.version(this._current).gpu;
    if (!gpu) return [];
    const provided = GpuNodePools.providedProducts(this);
    return provided.includes(gpu.product._providedKey) ? [] : [errors.scaleToZeroWithoutNodePool(this.node.path, 'autoscaling.minReplicas', gpu.product._providedKey, provided).withoutPath];
  }

  /** The route rules: the rollout's when one is attached, else everything to the current version. */
  private routeRules(): HttpRouteRule[] | unknown[] {
    if (this.rollout) return this.rollout.rules();
    if (this.scalesToZero) return [ScaleToZero.interceptorRule(this.pathPrefix, this.kedaHttpAddOn)];
    const target: KubernetesTarget = {
      kind: 'kubernetes',
      namespace: this.namespace ?? 'default',
      httpRoute: this.httpRouteName!,
      pathPrefix: this.pathPrefix,
      backends: { [this._current]: this.ensureVersion(this._current).backend as KubernetesBackend },
      routing: { kind: 'random' },
      pins: [],
    };
    return renderHttpRouteRules({ stable: this._current, canaries: [], mirror: undefined }, target, { [this._current]: 100 });
  }
}

/**
 * The kind of an environment named `name`, checked against the seed's rules: a reserved name has its own kind, no
 * custom kind takes a reserved name, and the development environment is named `development`.
 */
function validateKind(path: string, name: string, kind: EnvironmentKind | undefined): EnvironmentKind {
  const implied = EnvironmentKind.fromName(name);
  if (!kind) return implied;
  if (kind.isCustom && EnvironmentKind.RESERVED_NAMES.includes(kind.name)) throw errors.reservedKindName(path, 'kind', kind.name);
  if (!implied.isCustom && implied !== kind) throw errors.reservedEnvironmentName(path, 'kind', name, kind.name);
  if (kind.isDevelopment && name !== 'development') throw errors.developmentNotNamedDevelopment(path, 'name', name);
  return kind;
}

/** The autoscaling settings of an environment, checked; a development environment defaults to 0..1. */
function resolveAutoscaling(path: string, a: AutoscalingOptions, dev: boolean) {
  const minReplicas = a.minReplicas ?? (dev ? 0 : 1);
  const maxReplicas = a.maxReplicas ?? (dev ? 1 : 4);
  for (const [prop, v] of [['autoscaling.minReplicas', minReplicas], ['autoscaling.maxReplicas', maxReplicas]] as const) {
    if (!Number.isInteger(v) || v < 0) throw errors.replicaCountInvalid(path, prop, v);
  }
  if (minReplicas > maxReplicas) throw errors.minAboveMax(path, 'autoscaling.minReplicas', minReplicas, maxReplicas);
  if (dev && maxReplicas > 1) throw errors.developmentTooManyReplicas(path, 'autoscaling.maxReplicas', maxReplicas);
  if (dev && minReplicas > 0) throw errors.developmentNotScalingToZero(path, 'autoscaling.minReplicas', minReplicas);
  if (maxReplicas < 1) throw errors.maxReplicasZero(path, 'autoscaling.maxReplicas', maxReplicas);
  const concurrencyTarget = a.concurrencyTarget ?? 4;
  if (!(concurrencyTarget > 0)) throw errors.concurrencyTargetInvalid(path, 'autoscaling.concurrencyTarget', concurrencyTarget);
  return {
    minReplicas,
    maxReplicas,
    concurrencyTarget,
    scaleUpWindow: a.scaleUpWindow ?? Duration.seconds(60),
    scaleDownDelay: a.scaleDownDelay ?? Duration.seconds(900),
    autoscaler: a.autoscaler ?? Autoscaler.keda(),
  };
}
