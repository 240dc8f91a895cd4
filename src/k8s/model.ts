import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { VersionAutoscalingOptions } from './autoscaling';
import { IEnvironment, IModel, IModelVersion } from './contracts';
import { Environment, EnvironmentProps } from './environment';
import * as errors from './errors';
import { PodSettings, registerModel } from './private/hosts';
import { versionAutoscaling } from './private/version-scaling';
import * as coreErrors from '../core/errors';
import { pascalCase, validateDns1123Label } from '../core/names';
import { validateDns1123Subdomain, validateDuration, validateHttpUrl, validateImage, validatePort } from './private/inputs';
import { Gpu } from '../rollout/gpu';
import { ServingEngine } from '../rollout/serving-engine';

/** A value of an environment variable read from a Secret (`HF_TOKEN` for gated models). */
export interface SecretKeyRef {
  /** Name of the Secret, in the environment's namespace. */
  readonly secretName: string;
  /** Key in the Secret. */
  readonly key: string;
}

/**
 * Where the model server's HOME and caches live (Hugging Face downloads, vLLM/Triton/torch compile caches).
 *
 * The pods run as a non-root user (1000 by default) with no home directory in the image: HOME is `/`, which is
 * not writable, and vLLM, Hugging Face and Triton crash-loop writing `/.cache`
 * (https://github.com/vllm-project/vllm/issues/10185, https://github.com/vllm-project/vllm/issues/9118).
 * The cache volume is mounted at `/cache`, and HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME, HF_HOME, VLLM_CACHE_ROOT,
 * VLLM_CONFIG_ROOT and TRITON_CACHE_DIR point into it.
 */
export class ModelCache {
  /**
   * A pod-local emptyDir of `size`, with an equal `ephemeral-storage` request so the pod only lands on a node with
   * room for the weights (the kubelet evicts a pod whose emptyDir outgrows its sizeLimit). Downloaded again by
   * every new pod.
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
   */
  public static emptyDir(size: Size): ModelCache {
    return new ModelCache(size, undefined);
  }

  /**
   * An existing PersistentVolumeClaim (ReadWriteMany, for example EFS or FSx for Lustre, when several replicas share
   * it): weights survive restarts, so only the first pod downloads.
   */
  public static persistentVolumeClaim(claimName: string): ModelCache {
    return new ModelCache(undefined, claimName);
  }

  private constructor(
    /** Size of the emptyDir, if one. */
    public readonly size?: Size,
    /** Name of the claim, if one. */
    public readonly claimName?: string,
  ) {}
}

/** Options of the synthesized PodMonitor (on the Model: `monitoring`). */
export interface MonitoringOptions {
  /**
   * Synthesize a PodMonitor for every environment of the model.
   * @default true when the model has a serving engine (set or recognised from its image), false otherwise
   */
  readonly enabled?: boolean;
  /**
   * Labels of the PodMonitor, so that your Prometheus' `podMonitorSelector` picks it up
   * (kube-prometheus-stack selects `release: <its release name>` by default).
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Scrape interval. At most half the rollouts' `tickInterval`: the sequential error test reads one tick of counts
   * (`increase(...[{{window}}])`), and Prometheus needs two samples in a window to see an increase.
   * @default Duration.seconds(5)
   */
  readonly interval?: Duration;
}

/**
 * How a model's pods serve: resources, GPUs, command and environment. A `Model` takes them as its defaults, and
 * each version may override any of them (BentoCloud's per-version overrides); a field a version leaves unset is its
 * model's.
 */
export interface ServingOptions {
  /**
   * Environment variables. A version's are merged over its model's.
   * @default - none; a version: the model's
   */
  readonly env?: { [name: string]: string };
  /**
   * CPU request and limit per replica.
   * @default Cpu.units(4); a version: the model's
   */
  readonly cpu?: Cpu;
  /**
   * Memory request and limit per replica.
   * @default Size.gibibytes(16); a version: the model's
   */
  readonly memory?: Size;
  /**
   * GPUs per replica.
   * @default - CPU only; a version: the model's
   */
  readonly gpu?: Gpu;
  /**
   * Container command.
   * @default - the image's entrypoint; a version: the model's
   */
  readonly command?: string[];
  /**
   * Container arguments.
   * @default - the image's; a version: the model's
   */
  readonly args?: string[];
  /**
   * How long loading the model may take: the startup probe allows this long before Kubernetes restarts the
   * container, so large models are not killed while they load.
   * @default Duration.minutes(15); a version: the model's
   */
  readonly loadTimeout?: Duration;
}

/** What a version sets beyond the `ServingOptions` it may override: its image and a cap on its replicas. */
export interface VersionOptions extends ServingOptions {
  /**
   * Container image of this version.
   * @default - the model's image
   */
  readonly image?: string;
  /**
   * Most replicas of this version in every environment, above or below the environment's maximum (the same as
   * `autoscaling.maxReplicas`).
   * @default - the environment's maximum
   */
  readonly maxReplicas?: number;
  /**
   * This version's autoscaling over its environments' (minimum, maximum, target, windows).
   * @default - the environment's
   */
  readonly autoscaling?: VersionAutoscalingOptions;
}

/** Props of a `Model`. */
export interface ModelProps extends ServingOptions {
  /**
   * Name of the model: a DNS-1123 label, used in every object name.
   * @default - the construct id, lowercased
   */
  readonly name?: string;
  /** Container image of the first version. */
  readonly image: string;
  /**
   * Name of the first version.
   * @default 'v1'
   */
  readonly version?: string;
  /**
   * Port the model server listens on.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Path of the prediction endpoint (documentation, route examples and the KEDA HTTP add-on).
   * @default '/v1/completions'
   */
  readonly predictPath?: string;
  /**
   * Path of the health endpoint: readiness and startup probes, load balancer health checks.
   * @default '/health'
   */
  readonly healthPath?: string;
  /**
   * Run as root and without the restricted security context. Only for images that cannot run as non-root;
   * namespaces enforcing the `restricted` Pod Security Standard will reject such pods.
   * @default false - non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp
   */
  readonly allowRoot?: boolean;
  /**
   * User id the container runs as (with the restricted security context).
   * @default 1000
   */
  readonly runAsUser?: number;
  /**
   * Where HOME and the caches (weights, compile caches) live; see `ModelCache`.
   * @default ModelCache.emptyDir(Size.gibibytes(100))
   */
  readonly modelCache?: ModelCache;
  /**
   * Environment variables read from Secrets, by variable name: `{ HF_TOKEN: { secretName: 'hf-token', key: 'token' } }`
   * for gated models such as Llama 3.1.
   * @default - none
   */
  readonly secretEnv?: { [name: string]: SecretKeyRef };
  /**
   * Secrets whose every key becomes an environment variable (`envFrom`).
   * @default - none
   */
  readonly envFromSecrets?: string[];
  /**
   * ConfigMaps whose every key becomes an environment variable (`envFrom`).
   * @default - none
   */
  readonly envFromConfigMaps?: string[];
  /**
   * Secrets of type `kubernetes.io/dockerconfigjson` to pull the image with.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * ServiceAccount the pods run as, for example one bound to an IAM role (IRSA or EKS Pod Identity) that reads the
   * weights from S3. Its token is mounted; without it the pods mount no token.
   * @default - the namespace's `default` ServiceAccount, no token mounted
   */
  readonly serviceAccountName?: string;
  /**
   * Annotations of the pods (metrics scraping, sidecar injection).
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
  /**
   * Timeout of every probe request. A saturated vLLM answers `/health` late; Kubernetes' 1 s default marks busy
   * pods unready (https://github.com/scaleapi/llm-engine/issues/255).
   * @default Duration.seconds(10)
   */
  readonly probeTimeout?: Duration;
  /**
   * How long a stopping pod may finish its in-flight generations before it is killed
   * (`terminationGracePeriodSeconds`; Kubernetes' default of 30 s cuts long completions).
   * @default Duration.minutes(5)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * How long a stopping pod keeps serving before it gets SIGTERM (a `preStop` sleep), so that gateways and
   * kube-proxy have removed it from their endpoints before the server stops accepting requests.
   * @default Duration.seconds(15)
   */
  readonly drainDelay?: Duration;
  /**
   * The serving engine: its metrics scale the environments (KEDA) and give every rollout its default checks.
   * @default - recognised from `image` (vLLM, TGI, Triton); none when not recognisable
   */
  readonly servingEngine?: ServingEngine;
  /**
   * The PodMonitor (prometheus-operator) that scrapes the pods with `model`, `environment` and `version` labels.
   * @default - a PodMonitor per environment when the model has a serving engine
   */
  readonly monitoring?: MonitoringOptions;
  /**
   * Address of the Prometheus that scrapes this model's pods (through the PodMonitor, so a prometheus-operator
   * Prometheus: `http://prometheus-operated.<namespace>.svc:9090` for the operator's governing Service, or
   * kube-prometheus-stack's `http://<release>-kube-prometheus-prometheus.<namespace>.svc:9090`). The environments'
   * KEDA autoscalers and the rollouts' checks query it.
   * @default - none: an environment autoscaled by KEDA, or a rollout with Prometheus checks, then needs it from
   * `Autoscaler.keda({ prometheusUrl })` or `CanaryRollout`'s `prometheusUrl`, and refuses to synthesize without
   */
  readonly prometheusUrl?: string;
}

/** A version of a model: the unit environments point at and rollouts move traffic between. */
export class ModelVersion implements IModelVersion {
  /** @internal */
  public static _of(model: Model, name: string, o: VersionOptions): ModelVersion {
    return new ModelVersion(model, name, o);
  }

  /** Name of the version. */
  public readonly name: string;
  /** Container image. */
  public readonly image: string;
  /** Port the server listens on. */
  public readonly port: number;
  /** Health endpoint path. */
  public readonly healthPath: string;
  /** Prediction endpoint path. */
  public readonly predictPath: string;
  /** GPUs per replica, if any. */
  public readonly gpu?: Gpu;
  /** CPU per replica. */
  public readonly cpu: Cpu;
  /** Memory per replica. */
  public readonly memory: Size;
  /** Environment variables. */
  public readonly env: { [name: string]: string };
  /** Container command, if set. */
  public readonly command?: string[];
  /** Container arguments, if set. */
  public readonly args?: string[];
  /** Model load timeout. */
  public readonly loadTimeout: Duration;
  /** Its most replicas in every environment, if set. */
  public readonly maxReplicas?: number;
  /** Its autoscaling over its environments', checked (`maxReplicas` included). */
  public readonly autoscaling?: VersionAutoscalingOptions;

  private constructor(
    /** The model. */
    public readonly model: Model,
    name: string,
    o: VersionOptions,
  ) {
    this.name = name;
    this.image = o.image ?? model.image;
    this.port = model.port;
    this.healthPath = model.healthPath;
    this.predictPath = model.predictPath;
    this.gpu = o.gpu ?? model.gpu;
    this.cpu = o.cpu ?? model.cpu;
    this.memory = o.memory ?? model.memory;
    this.env = { ...model.env, ...(o.env ?? {}) };
    this.command = o.command ?? model.command;
    this.args = o.args ?? model.args;
    this.loadTimeout = o.loadTimeout ?? model.loadTimeout;
    this.autoscaling = versionAutoscaling(`${model.node.path}`, `versions.${name}`, o);
    this.maxReplicas = this.autoscaling?.maxReplicas;
  }

  /** GPUs per replica (0 when CPU only). */
  public get gpusPerReplica(): number {
    return this.gpu?.count ?? 0;
  }
}

/**
 * A servable model: its image, resources, GPUs and probes, and its versions and environments.
 *
 * Each environment renders, for every version it serves (its current version, canaries, shadows and the demoted
 * previous version), a Deployment, a Service, a PodDisruptionBudget and an autoscaler; and an HTTPRoute as its
 * stable endpoint. Versions are rendered per environment so each environment scales on its own.
 */
export class Model extends Construct implements IModel {
  /** Name of the model. */
  public readonly name: string;
  /** Default image. */
  public readonly image: string;
  /** Port the server listens on. */
  public readonly port: number;
  /** Health endpoint path. */
  public readonly healthPath: string;
  /** Prediction endpoint path. */
  public readonly predictPath: string;
  /** GPUs per replica, if any. */
  public readonly gpu?: Gpu;
  /** CPU per replica. */
  public readonly cpu: Cpu;
  /** Memory per replica. */
  public readonly memory: Size;
  /** Environment variables of every version. */
  public readonly env: { [name: string]: string };
  /** Container command, if set. */
  public readonly command?: string[];
  /** Container arguments, if set. */
  public readonly args?: string[];
  /** Model load timeout. */
  public readonly loadTimeout: Duration;
  /** Whether pods may run as root. */
  public readonly allowRoot: boolean;
  /** User id of the container. */
  public readonly runAsUser: number;
  /** The serving engine (metrics presets), if set or recognised from the image. */
  public readonly servingEngine?: ServingEngine;
  /** The Prometheus that scrapes the model's pods, if given. */
  public readonly prometheusUrl?: string;

  /** Pod settings shared by every version (internal). */
  private readonly pod: PodSettings;
  private readonly _versions = new Map<string, IModelVersion>();
  private readonly _environments: IEnvironment[] = [];

  constructor(scope: Construct, id: string, props: ModelProps) {
    super(scope, id);
    const p = this.node.path;
    this.name = props.name ?? id.toLowerCase();
    validateDns1123Label(p, 'name', this.name);
    // every object name starts with the model's name, and Service names are DNS-1035 labels: they must start with
    // a letter (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names)
    if (!/^[a-z]/.test(this.name)) throw errors.serviceNameNotDns1035(p, 'name', this.name);
    this.image = props.image;
    validateImage(p, 'image', this.image);
    this.port = props.port ?? 8080;
    validatePort(p, 'port', this.port);
    this.healthPath = props.healthPath ?? '/health';
    this.predictPath = props.predictPath ?? '/v1/completions';
    for (const [prop, v] of [['healthPath', this.healthPath], ['predictPath', this.predictPath]] as const) {
      if (!v.startsWith('/')) throw errors.pathInvalid(p, prop, v);
    }
    this.gpu = props.gpu;
    this.gpu?._validate(this.node.path, 'gpu');
    this.prometheusUrl = props.prometheusUrl;
    if (props.prometheusUrl !== undefined) validateHttpUrl(p, 'prometheusUrl', props.prometheusUrl);
    this.cpu = props.cpu ?? Cpu.units(4);
    this.memory = props.memory ?? Size.gibibytes(16);
    this.env = { ...(props.env ?? {}) };
    this.command = props.command;
    this.args = props.args;
    this.loadTimeout = props.loadTimeout ?? Duration.minutes(15);
    validateDuration(p, 'loadTimeout', this.loadTimeout);
    this.allowRoot = props.allowRoot ?? false;
    this.runAsUser = props.runAsUser ?? 1000;
    this.servingEngine = props.servingEngine ?? ServingEngine.fromImage(props.image);
    this.pod = podSettings(p, props, this.servingEngine);
    registerModel(this, { register: (env) => this.registerEnvironment(env), pod: this.pod });
    this.addVersion(props.version ?? 'v1');
  }

  /** Add a version with per-version overrides. */
  public addVersion(name: string, options: VersionOptions = {}): ModelVersion {
    validateDns1123Label(this.node.path, `versions.${name}`, name);
    if (this._versions.has(name)) throw coreErrors.duplicateVersion(this.node.path, 'versions', name);
    options.gpu?._validate(this.node.path, `versions.${name}.gpu`);
    if (options.image !== undefined) validateImage(this.node.path, `versions.${name}.image`, options.image);
    if (options.loadTimeout) validateDuration(this.node.path, `versions.${name}.loadTimeout`, options.loadTimeout);
    const version = ModelVersion._of(this, name, options);
    this._versions.set(name, version);
    return version;
  }

  /** The version called `name`; throws when there is none. */
  public version(name: string): IModelVersion {
    const v = this._versions.get(name);
    if (!v) throw coreErrors.unknownVersion(this.node.path, 'version', name, [...this._versions.keys()]);
    return v;
  }

  /** Every version, in the order added. */
  public get versions(): IModelVersion[] {
    return [...this._versions.values()];
  }

  /** Every environment, in the order added. */
  public get environments(): IEnvironment[] {
    return [...this._environments];
  }

  /** Add an environment: a stable endpoint with its own autoscaling, pointing at one version. */
  public addEnvironment(environmentName: string, props: EnvironmentProps): Environment {
    const name = props.name ?? environmentName;
    // checked here too, so a duplicate is reported by this library and not as the constructs library's id clash
    if (this._environments.some((e) => e.name === name)) throw errors.duplicateEnvironment(`${this.node.path}/${pascalCase(environmentName, 'Environment')}`, 'name', name);
    return new Environment(this, pascalCase(environmentName, 'Environment'), { ...props, name });
  }

  /** Record an environment (through the registry its constructor looks up). */
  private registerEnvironment(env: IEnvironment): void {
    if (env.kind.isProduction) {
      const existing = this._environments.find((e) => e.kind.isProduction);
      if (existing) throw errors.secondProduction(env.node.path, 'kind', env.name, existing.name);
    }
    const development = env.kind.isDevelopment ? this._environments.find((e) => e.kind.isDevelopment) : undefined;
    if (development) throw errors.secondDevelopment(env.node.path, 'kind', env.name, development.name);
    if (this._environments.some((e) => e.name === env.name)) throw errors.duplicateEnvironment(env.node.path, 'name', env.name);
    this._environments.push(env);
  }
}

/** Resolve and check the pod settings of a model. */
function podSettings(path: string, props: ModelProps, engine: ServingEngine | undefined): PodSettings {
  const cache = props.modelCache ?? ModelCache.emptyDir(Size.gibibytes(100));
  if (cache.size && !(cache.size.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) > 0)) throw errors.cacheSizeInvalid(path, 'modelCache', cache.size.toGibibytes({ rounding: SizeRoundingBehavior.NONE }));
  if (cache.claimName !== undefined) validateDns1123Subdomain(path, 'modelCache.claimName', cache.claimName);
  const secretEnv = Object.entries(props.secretEnv ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, ref]) => {
    validateDns1123Subdomain(path, `secretEnv.${name}.secretName`, ref.secretName);
    if (!ref.key) throw errors.secretKeyEmpty(path, `secretEnv.${name}.key`);
    return { name, secretName: ref.secretName, key: ref.key };
  });
  for (const [prop, names] of [['envFromSecrets', props.envFromSecrets], ['envFromConfigMaps', props.envFromConfigMaps], ['imagePullSecrets', props.imagePullSecrets]] as const) {
    (names ?? []).forEach((n, i) => validateDns1123Subdomain(path, `${prop}[${i}]`, n));
  }
  if (props.serviceAccountName !== undefined) validateDns1123Subdomain(path, 'serviceAccountName', props.serviceAccountName);
  const probeTimeout = props.probeTimeout ?? Duration.seconds(10);
  const grace = props.terminationGracePeriod ?? Duration.minutes(5);
  const drain = props.drainDelay ?? Duration.seconds(15);
  validateDuration(path, 'probeTimeout', probeTimeout);
  validateDuration(path, 'terminationGracePeriod', grace);
  validateDuration(path, 'drainDelay', drain);
  if (drain.toSeconds() >= grace.toSeconds()) throw errors.drainDelayNotBelowGrace(path, 'drainDelay', drain.toSeconds(), grace.toSeconds());
  return {
    cache: cache.claimName ? { claimName: cache.claimName } : { sizeGiB: cache.size!.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) },
    secretEnv,
    envFromSecrets: [...(props.envFromSecrets ?? [])],
    envFromConfigMaps: [...(props.envFromConfigMaps ?? [])],
    imagePullSecrets: [...(props.imagePullSecrets ?? [])],
    serviceAccountName: props.serviceAccountName,
    annotations: { ...(props.podAnnotations ?? {}) },
    probeTimeoutSeconds: probeTimeout.toSeconds(),
    terminationGracePeriodSeconds: grace.toSeconds(),
    drainDelaySeconds: drain.toSeconds(),
    servingEngine: engine,
    monitoring: monitoringSettings(path, props.monitoring, engine),
  };
}

/** The PodMonitor's settings, when enabled (by default whenever the model has a serving engine). */
function monitoringSettings(path: string, o: MonitoringOptions | undefined, engine: ServingEngine | undefined): PodSettings['monitoring'] {
  if (!(o?.enabled ?? engine !== undefined)) return undefined;
  const interval = o?.interval ?? Duration.seconds(5);
  validateDuration(path, 'monitoring.interval', interval);
  return {
    labels: { ...(o?.labels ?? {}) },
    intervalSeconds: interval.toSeconds(),
    port: engine?.metricsPort !== undefined ? 'metrics' : 'http',
    path: engine?.metricsPath ?? '/metrics',
  };
}
