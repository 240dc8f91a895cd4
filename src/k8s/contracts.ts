/**
 * What the constructs of this library need from each other, as narrow interfaces. A leaf: this file imports no
 * construct of the library, so constructs depend on it and not on each other's classes (no import cycles).
 *
 * Public (jsii) interfaces describe what users may pass around: a model (`IModel`), its versions
 * (`IModelVersion`) and an environment (`IEnvironment`). The library's own collaboration (a rollout rendering a
 * version in an environment, claiming its replica floor, owning the route) goes through `EnvironmentHost` in
 * `private/hosts.ts`, which is not part of the public API.
 */
import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { IConstruct } from 'constructs';
import { VersionAutoscalingOptions } from './autoscaling';
import { EnvironmentKind } from './environment-kind';
import { ManifestApplier } from './manifest-applier';
import { Gpu } from '../rollout/gpu';

/** A version of a model, as environments and rollouts see it. */
export interface IModelVersion {
  /** Name of the version. */
  readonly name: string;
  /** Container image. */
  readonly image: string;
  /** Port the server listens on. */
  readonly port: number;
  /** Health endpoint path. */
  readonly healthPath: string;
  /** Prediction endpoint path. */
  readonly predictPath: string;
  /** GPUs per replica, if any. */
  readonly gpu?: Gpu;
  /** GPUs per replica (0 when CPU only). */
  readonly gpusPerReplica: number;
  /** CPU per replica. */
  readonly cpu: Cpu;
  /** Memory per replica. */
  readonly memory: Size;
  /** Environment variables. */
  readonly env: { [name: string]: string };
  /** Container command, if set. */
  readonly command?: string[];
  /** Container arguments, if set. */
  readonly args?: string[];
  /** How long loading the model may take. */
  readonly loadTimeout: Duration;
  /** Its most replicas in every environment, if set (above or below the environment's). */
  readonly maxReplicas?: number;
  /** Its autoscaling over its environments', if set. */
  readonly autoscaling?: VersionAutoscalingOptions;
}

/** A model: its versions and the pod settings every version shares. */
export interface IModel extends IConstruct {
  /** Name of the model. */
  readonly name: string;
  /** Port the server listens on. */
  readonly port: number;
  /** Whether pods may run as root. */
  readonly allowRoot: boolean;
  /** User id of the container. */
  readonly runAsUser: number;
  /** Every version, in the order added. */
  readonly versions: IModelVersion[];
  /** The Prometheus that scrapes the model's pods, if given. */
  readonly prometheusUrl?: string;
  /** The version called `name`; throws when there is none. */
  version(name: string): IModelVersion;
}

/** An environment of a model: what a rollout, a node pool or the Terraform bridge may read of it. */
export interface IEnvironment extends IConstruct {
  /** The model. */
  readonly model: IModel;
  /** Name of the environment. */
  readonly name: string;
  /** Kind of the environment. */
  readonly kind: EnvironmentKind;
  /** Namespace of its objects, if set. */
  readonly namespace?: string;
  /** Fewest replicas (0: scale to zero). */
  readonly minReplicas: number;
  /** Most replicas. */
  readonly maxReplicas: number;
  /** The version the environment serves. */
  readonly currentVersion: string;
  /** Whether targets that can (Terraform) refuse to destroy the environment's resources. */
  readonly destroyProtection: boolean;
  /** Keep-warm window of the previous version after a promotion, if any. */
  readonly keepPreviousWarmFor?: Duration;
  /** How the manifests reach the cluster. */
  readonly appliedBy: ManifestApplier;
}

/** The Gateway an environment's HTTPRoute attaches to. */
export interface GatewayRef {
  /** Name of the Gateway. */
  readonly name: string;
  /**
   * Namespace of the Gateway.
   * @default - the route's namespace
   */
  readonly namespace?: string;
  /**
   * Listener of the Gateway.
   * @default - every listener that allows the route
   */
  readonly sectionName?: string;
}
