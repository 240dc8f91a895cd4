import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { IEnvironment, IModel, IModelVersion } from './contracts';
import { Environment, EnvironmentProps } from './environment';
import * as errors from './errors';
import { registerModel } from './private/hosts';
import * as coreErrors from '../core/errors';
import { pascalCase, validateDns1123Label } from '../core/names';
import { Gpu } from '../rollout/gpu';

/** What a version may override (BentoCloud's per-version overrides). Everything defaults to the model's value. */
export interface VersionOptions {
  /**
   * Container image of this version.
   * @default - the model's image
   */
  readonly image?: string;
  /**
   * Environment variables, merged over the model's.
   * @default - the model's
   */
  readonly env?: { [name: string]: string };
  /**
   * CPU request (and limit).
   * @default - the model's
   */
  readonly cpu?: Cpu;
  /**
   * Memory request (and limit).
   * @default - the model's
   */
  readonly memory?: Size;
  /**
   * GPUs per replica.
   * @default - the model's
   */
  readonly gpu?: Gpu;
  /**
   * Container command.
   * @default - the model's
   */
  readonly command?: string[];
  /**
   * Container arguments.
   * @default - the model's
   */
  readonly args?: string[];
  /**
   * How long loading the model may take before the container is restarted.
   * @default - the model's
   */
  readonly loadTimeout?: Duration;
  /**
   * Most replicas of this version in any environment (caps the environment's maximum).
   * @default - the environment's maximum
   */
  readonly maxReplicas?: number;
}

/** Props of a `Model`. */
export interface ModelProps {
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
   * Container command.
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * Container arguments.
   * @default - the image's
   */
  readonly args?: string[];
  /**
   * Environment variables of every version.
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * CPU request and limit per replica.
   * @default Cpu.units(4)
   */
  readonly cpu?: Cpu;
  /**
   * Memory request and limit per replica.
   * @default Size.gibibytes(16)
   */
  readonly memory?: Size;
  /**
   * GPUs per replica.
   * @default - CPU only
   */
  readonly gpu?: Gpu;
  /**
   * How long loading the model may take: the startup probe allows this long before Kubernetes restarts the
   * container, so large models are not killed while they load.
   * @default Duration.minutes(15)
   */
  readonly loadTimeout?: Duration;
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
  /** Cap on replicas, if any. */
  public readonly maxReplicas?: number;

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
    this.maxReplicas = o.maxReplicas;
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

  private readonly _versions = new Map<string, IModelVersion>();
  private readonly _environments: IEnvironment[] = [];

  constructor(scope: Construct, id: string, props: ModelProps) {
    super(scope, id);
    this.name = props.name ?? id.toLowerCase();
    validateDns1123Label(this.node.path, 'name', this.name);
    this.image = props.image;
    this.port = props.port ?? 8080;
    this.healthPath = props.healthPath ?? '/health';
    this.predictPath = props.predictPath ?? '/v1/completions';
    this.gpu = props.gpu;
    this.gpu?._validate(this.node.path, 'gpu');
    this.cpu = props.cpu ?? Cpu.units(4);
    this.memory = props.memory ?? Size.gibibytes(16);
    this.env = { ...(props.env ?? {}) };
    this.command = props.command;
    this.args = props.args;
    this.loadTimeout = props.loadTimeout ?? Duration.minutes(15);
    this.allowRoot = props.allowRoot ?? false;
    this.runAsUser = props.runAsUser ?? 1000;
    registerModel(this, { register: (env) => this.registerEnvironment(env) });
    this.addVersion(props.version ?? 'v1');
    this.node.addValidation({
      validate: () => (this._environments.some((e) => e.kind.isProduction) ? [] : [errors.noProduction(this.node.path).withoutPath]),
    });
  }

  /** Add a version with per-version overrides. */
  public addVersion(name: string, options: VersionOptions = {}): ModelVersion {
    validateDns1123Label(this.node.path, `versions.${name}`, name);
    if (this._versions.has(name)) throw coreErrors.duplicateVersion(this.node.path, 'versions', name);
    options.gpu?._validate(this.node.path, `versions.${name}.gpu`);
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
    if (this._environments.some((e) => e.name === env.name)) throw errors.duplicateEnvironment(env.node.path, 'name', env.name);
    this._environments.push(env);
  }
}
