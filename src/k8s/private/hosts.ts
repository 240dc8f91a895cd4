/**
 * The library's internal collaboration between constructs, as narrow interfaces looked up in registries: what a
 * rollout needs from an environment (`EnvironmentHost`) and what an environment needs from its model
 * (`ModelRegistry`). A leaf: it imports no construct of the library. Not part of the public API.
 */
import { ApiObject } from 'cdk8s';
import { IConstruct, Node } from 'constructs';
import { KubernetesBackend } from '../../core/contract/target';
import { HttpRouteRule } from '../../core/routes/gateway-api';
import type { ServingEngine } from '../../rollout/serving-engine';
import { GatewayRef, IEnvironment, IModel } from '../contracts';
import * as errors from '../errors';

/** A construct that owns an environment's route rules while it exists (a rollout). */
export interface RolloutRouter {
  readonly node: Node;
  rules(): HttpRouteRule[];
}

/** An environment's HTTP endpoint, when it has a Gateway. */
export interface EndpointInfo {
  readonly httpRouteName: string;
  readonly gateway: GatewayRef;
  readonly hostnames?: string[];
  readonly pathPrefix?: string;
  /** The HTTPRoute object (absent when the environment is inactive). */
  readonly route?: ApiObject;
}

/** What a rollout needs from an environment (internal collaboration, not public API). */
export interface EnvironmentHost {
  readonly env: IEnvironment;
  /** false: the environment keeps its objects but serves nothing (no route, no replicas). */
  readonly active: boolean;
  /** Namespace of the environment's objects (`default` when the chart has none). */
  readonly namespace: string;
  readonly scalesToZero: boolean;
  /** The HTTP endpoint, when the environment has a Gateway. */
  readonly endpoint?: EndpointInfo;
  /** Prometheus of the environment's autoscaler, if any. */
  readonly prometheusUrl?: string;
  /** The model's serving engine (default checks), if any. */
  readonly servingEngine?: ServingEngine;
  /** Scale-down stabilization window of the environment's autoscalers, in seconds. */
  readonly autoscalerWindowSeconds: number;
  /** Scrape interval of the environment's PodMonitor, when one is synthesized. */
  readonly scrapeIntervalSeconds?: number;
  /** How long `version` may take to load (its `loadTimeout`). */
  loadTimeoutSeconds(version: string): number;
  /** The version the route serves before a rollout moves traffic: a rollout's stable version. */
  servingVersion(): string;
  /** A fixed split: the manifests hold `version` at `replicas` (no controller sets its floor). */
  holdFixedFloor(version: string, replicas: number): void;
  /** Render `version`'s workload in this environment (once) and return its objects' names. */
  backendOf(version: string): KubernetesBackend;
  /** The step controller owns `version`'s replica floor from now on (marked for Argo CD and the bridge). */
  claimFloor(version: string): void;
  /** Hand the route's rules to a rollout; refused in development environments and for a second rollout. */
  attachRollout(router: RolloutRouter): void;
}

const HOSTS = new WeakMap<IEnvironment, EnvironmentHost>();

/** Record the host of an environment (called by its constructor). */
export function registerEnvironmentHost(env: IEnvironment, host: EnvironmentHost): void {
  HOSTS.set(env, host);
}

/** The host of an environment created by this library. */
export function environmentHost(env: IEnvironment, path: string, property: string): EnvironmentHost {
  const host = HOSTS.get(env);
  if (!host) throw errors.notFromThisLibrary(path, property, env.node.path);
  return host;
}

const MEMBERS = new WeakMap<IConstruct, IEnvironment>();

/** Record that `scope` (a rollout declared elsewhere in the tree) belongs to `env`. */
export function registerMember(scope: IConstruct, env: IEnvironment): void {
  MEMBERS.set(scope, env);
}

/** The environment a construct belongs to: its nearest ancestor that is an environment or one of its rollouts. */
export function enclosingEnvironment(scope: IConstruct): IEnvironment | undefined {
  for (const s of [...scope.node.scopes].reverse()) {
    if (HOSTS.has(s as IEnvironment)) return s as IEnvironment;
    const env = MEMBERS.get(s);
    if (env) return env;
  }
  return undefined;
}

/** Pod settings every version of a model shares, resolved (internal data of the model). */
export interface PodSettings {
  /** Where HOME and every cache live: an emptyDir (sized, with an ephemeral-storage request) or a PVC. */
  readonly cache: { readonly sizeGiB?: number; readonly claimName?: string };
  readonly secretEnv: ReadonlyArray<{ readonly name: string; readonly secretName: string; readonly key: string }>;
  readonly envFromSecrets: readonly string[];
  readonly envFromConfigMaps: readonly string[];
  readonly imagePullSecrets: readonly string[];
  readonly serviceAccountName?: string;
  readonly annotations: { readonly [key: string]: string };
  readonly probeTimeoutSeconds: number;
  readonly terminationGracePeriodSeconds: number;
  readonly drainDelaySeconds: number;
  /** The model's serving engine (metrics presets), if set or recognised from its image. */
  readonly servingEngine?: ServingEngine;
  /** The PodMonitor every environment synthesizes, when enabled. */
  readonly monitoring?: {
    readonly labels: { readonly [key: string]: string };
    readonly intervalSeconds: number;
    readonly port: string;
    readonly path: string;
  };
}

/** What an environment needs from its model: a place to register (unique names, one production), pod settings. */
export interface ModelRegistry {
  readonly pod: PodSettings;
  register(env: IEnvironment): void;
}

const REGISTRIES = new WeakMap<IModel, ModelRegistry>();

/** Record a model's registry (called by the model's constructor). */
export function registerModel(model: IModel, registry: ModelRegistry): void {
  REGISTRIES.set(model, registry);
}

/** The registry of a model created by this library. */
export function modelRegistry(model: IModel, path: string): ModelRegistry {
  const r = REGISTRIES.get(model);
  if (!r) throw errors.notFromThisLibrary(path, 'scope', model.node.path);
  return r;
}
