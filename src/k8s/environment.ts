/**
 * Environment: a stable endpoint for a model (a Gateway API HTTPRoute) with its own autoscaling, pointing at one
 * version. Contract used by CanaryRollout (src/k8s/canary-rollout.ts):
 * - `_ensureVersion(version)` renders that version's workload in this environment (a canary starts with a floor
 *   of 0 replicas; the step controller raises it) and returns its `KubernetesBackend`;
 * - `_attachRollout({ node, rules() })` hands the HTTPRoute's `spec.rules` to the rollout (rendered late).
 */
import { ApiObject, Chart, Duration, Lazy } from 'cdk8s';
import { Construct, Node } from 'constructs';
import { AutoscalingOptions, Autoscaler } from './autoscaling';
import { CanaryRollout } from './canary-rollout';
import { EnvironmentKind } from './environment-kind';
import { GpuNodePools } from './gpu-node-pools';
import type { Model, ModelVersion } from './model';
import { VersionRole, VersionWorkload } from './version-workload';
import { Step, Steps } from '../rollout/steps';
import { LABEL_ENVIRONMENT, LABEL_MODEL } from '../core/constants';
import * as errors from '../core/errors';
import { HttpRouteRule, renderHttpRouteRules } from '../core/routes/gateway-api';
import { validateDns1123Label } from '../core/names';
import { KubernetesBackend, KubernetesTarget } from '../core/contract/target';

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
  /** The Gateway the HTTPRoute attaches to. */
  readonly gateway: GatewayRef;
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
   * After a promotion the previous version stays at the environment's minimum this long (the step controller
   * scales it down after the window); without it, the previous version is scaled to zero at once.
   * @default - scaled to zero after promotion
   */
  readonly keepPreviousWarmFor?: Duration;
  /**
   * Namespace of the environment's objects.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/** The KEDA HTTP add-on's interceptor, which holds requests while a scaled-to-zero version starts. */
export const KEDA_INTERCEPTOR = { name: 'keda-add-ons-http-interceptor-proxy', namespace: 'keda', port: 8080 };

/** A rollout that owns an environment's route rules. */
interface AttachedRollout {
  readonly node: Node;
  rules(): HttpRouteRule[];
}

/**
 * A stable endpoint for a model, independent of the version serving it, with its own autoscaling.
 */
export class Environment extends Construct {
  /** The model. */
  public readonly model: Model;
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
  /** Whether the environment serves traffic. */
  public readonly active: boolean;
  /** Name of the HTTPRoute. */
  public readonly httpRouteName: string;
  /** Path prefix, if any. */
  public readonly pathPrefix?: string;
  /** Host names, if any. */
  public readonly hostnames?: string[];
  /** Keep-warm window of the previous version after a promotion, if any. */
  public readonly keepPreviousWarmFor?: Duration;
  /** The Gateway the route attaches to. */
  public readonly gateway: GatewayRef;
  /**
   * The HTTPRoute (absent when inactive).
   * @internal
   */
  public readonly _route?: ApiObject;

  private _current: string;
  private _previous?: string;
  private readonly _workloads = new Map<string, VersionWorkload>();
  private rollout?: AttachedRollout;

  constructor(scope: Model, id: string, props: EnvironmentProps) {
    super(scope, id);
    this.model = scope;
    this.name = props.name ?? id.toLowerCase();
    validateDns1123Label(this.node.path, 'name', this.name);
    this.kind = props.kind ?? EnvironmentKind.fromName(this.name);
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const a = props.autoscaling ?? {};
    const dev = this.kind.isDevelopment;
    this.minReplicas = a.minReplicas ?? (dev ? 0 : 1);
    this.maxReplicas = a.maxReplicas ?? (dev ? 1 : 4);
    for (const [prop, v] of [['autoscaling.minReplicas', this.minReplicas], ['autoscaling.maxReplicas', this.maxReplicas]] as const) {
      if (!Number.isInteger(v) || v < 0) throw errors.replicasInvalid(this.node.path, prop, v, 0);
    }
    if (this.minReplicas > this.maxReplicas) throw errors.minAboveMax(this.node.path, 'autoscaling.minReplicas', this.minReplicas, this.maxReplicas);
    if (dev && this.maxReplicas > 1) throw errors.developmentTooManyReplicas(this.node.path, 'autoscaling.maxReplicas', this.maxReplicas);
    if (this.maxReplicas < 1) throw errors.replicasInvalid(this.node.path, 'autoscaling.maxReplicas', this.maxReplicas, 1);
    this.concurrencyTarget = a.concurrencyTarget ?? 4;
    if (!(this.concurrencyTarget > 0)) throw errors.replicasInvalid(this.node.path, 'autoscaling.concurrencyTarget', this.concurrencyTarget, 1);
    this.scaleUpWindow = a.scaleUpWindow ?? Duration.seconds(60);
    this.scaleDownDelay = a.scaleDownDelay ?? Duration.seconds(900);
    this.autoscaler = a.autoscaler ?? Autoscaler.keda();
    this.active = props.active ?? true;
    this.pathPrefix = props.pathPrefix;
    this.hostnames = props.hostnames;
    this.keepPreviousWarmFor = props.keepPreviousWarmFor;
    this.gateway = props.gateway;
    this.httpRouteName = `${scope.name}-${this.name}`;
    if (this.httpRouteName.length > 63) throw errors.nameTooLong(this.node.path, 'name', this.httpRouteName, 63);
    if (this.scalesToZero && !(props.hostnames && props.hostnames.length > 0)) throw errors.scaleToZeroNeedsHostname(this.node.path, 'hostnames');

    scope._register(this);
    this._current = scope.version(props.version).name;
    this._ensureVersion(this._current);
    if (this.scalesToZero) {
      // waking from zero needs a node autoscaler able to create the version's GPU nodes from nothing
      this.node.addValidation({
        validate: () => {
          const gpu = this.model.version(this._current).gpu;
          if (!gpu) return [];
          const provided = GpuNodePools.providedProducts(this);
          return provided.includes(gpu.product.name) ? [] : [errors.scaleToZeroWithoutNodePool(this.node.path, 'autoscaling.minReplicas', gpu.product.name, provided).withoutPath];
        },
      });
    }

    if (this.active) {
      this._route = new ApiObject(this, 'Route', {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: this.httpRouteName, namespace: this.namespace, labels: this.labels() },
        spec: {
          parentRefs: [{ name: props.gateway.name, namespace: props.gateway.namespace, sectionName: props.gateway.sectionName }],
          hostnames: props.hostnames,
          rules: Lazy.any({ produce: () => this.routeRules() }),
        },
      });
      if (this.scalesToZero) {
        const current = () => this._workloads.get(this._current)!;
        new ApiObject(this, 'Autoscaler', {
          apiVersion: 'http.keda.sh/v1alpha1',
          kind: 'HTTPScaledObject',
          metadata: { name: this.httpRouteName, namespace: this.namespace, labels: this.labels() },
          spec: {
            hosts: props.hostnames,
            pathPrefixes: this.pathPrefix ? [this.pathPrefix] : undefined,
            // the interceptor holds requests while the current version wakes up, and routes to it once ready
            scaleTargetRef: Lazy.any({
              produce: () => {
                const name = current().objectName;
                return { name, kind: 'Deployment', apiVersion: 'apps/v1', service: name, port: this.model.port };
              },
            }),
            replicas: {
              min: 0,
              max: Lazy.any({ produce: () => Math.min(this.maxReplicas, this.model.version(this._current).maxReplicas ?? this.maxReplicas) }),
            },
            scalingMetric: { concurrency: { targetValue: this.concurrencyTarget } },
            scaledownPeriod: this.scaleDownDelay.toSeconds(),
          },
        });
        // the route sends requests to the interceptor in the keda namespace: that namespace must allow it
        new ApiObject(this, 'InterceptorGrant', {
          apiVersion: 'gateway.networking.k8s.io/v1beta1',
          kind: 'ReferenceGrant',
          metadata: { name: `${this.httpRouteName}-to-keda`, namespace: KEDA_INTERCEPTOR.namespace, labels: this.labels() },
          spec: {
            from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: this.namespace ?? 'default' }],
            to: [{ group: '', kind: 'Service', name: KEDA_INTERCEPTOR.name }],
          },
        });
      }
    }
  }

  /** Whether the environment scales to zero (through the KEDA HTTP add-on). */
  public get scalesToZero(): boolean {
    return this.minReplicas === 0;
  }

  /** The version the environment serves. */
  public get currentVersion(): string {
    return this._current;
  }

  /** The version it served before the last promotion, if any. */
  public get previousVersion(): string | undefined {
    return this._previous;
  }

  /** The versions the environment renders, current first. */
  public get renderedVersions(): string[] {
    return [this._current, ...[...this._workloads.keys()].filter((v) => v !== this._current)];
  }

  /**
   * Point the environment at another version: a blue/green switch once the new version is ready.
   *
   * With replicas always up, the step controller does it (a one-step rollout): it raises the new version to the
   * stable replica count, waits until those replicas are ready, then moves all traffic at once; the previous
   * version stays deployed with its settings and is scaled to zero, after `keepPreviousWarmFor` if set. One
   * promotion per environment at a time. In environments that scale to zero (and development ones), the switch is
   * immediate: the KEDA interceptor holds requests until the new version is ready.
   */
  public promote(version: string): void {
    const v = this.model.version(version).name;
    if (v === this._current) return;
    if (this.scalesToZero || this.kind.isDevelopment) {
      this._previous = this._current;
      this._current = v;
      this._ensureVersion(v);
      return;
    }
    new CanaryRollout(this, `Promote${pascal(v)}`, {
      environment: this,
      canaries: [{ version: v }],
      steps: Steps.custom([Step.setWeight(100)]),
      name: `${this.httpRouteName}-promote`,
    });
  }

  /** The role of a version in this environment. */
  public roleOf(version: string): VersionRole {
    if (version === this._current) return VersionRole.CURRENT;
    if (version === this._previous) return this.keepPreviousWarmFor ? VersionRole.WARM : VersionRole.IDLE;
    return VersionRole.IDLE;
  }

  /** @internal */
  public _ensureVersion(version: string): KubernetesBackend {
    const v = this.model.version(version);
    let w = this._workloads.get(v.name);
    if (!w) {
      w = new VersionWorkload(this, `Version${pascal(v.name)}`, { environment: this, version: v });
      this._workloads.set(v.name, w);
    }
    return w._backend;
  }

  /** @internal */
  public _attachRollout(rollout: AttachedRollout): void {
    if (this.kind.isDevelopment) throw errors.rolloutOnDevelopment(rollout.node.path, 'environment', this.name);
    if (this.rollout) throw errors.secondRollout(rollout.node.path, 'environment', this.name, this.rollout.node.path);
    this.rollout = rollout;
  }

  /** The workload of a version in this environment, if rendered. */
  public workloadOf(version: ModelVersion): VersionWorkload | undefined {
    return this._workloads.get(version.name);
  }

  /** Every version workload the environment renders. */
  public get workloads(): VersionWorkload[] {
    return [...this._workloads.values()];
  }

  /** Labels of every object of this environment. */
  public labels(): { [key: string]: string } {
    return {
      'app.kubernetes.io/name': this.model.name,
      'app.kubernetes.io/managed-by': 'cdk-model-rollout',
      [LABEL_MODEL]: this.model.name,
      [LABEL_ENVIRONMENT]: this.name,
    };
  }

  /** The route rules: the rollout's when one is attached, else everything to the current version. */
  private routeRules(): HttpRouteRule[] | unknown[] {
    if (this.rollout) return this.rollout.rules();
    if (this.scalesToZero) {
      return [{
        matches: [{ path: { type: 'PathPrefix', value: this.pathPrefix ?? '/' } }],
        backendRefs: [{ name: KEDA_INTERCEPTOR.name, namespace: KEDA_INTERCEPTOR.namespace, port: KEDA_INTERCEPTOR.port, weight: 1 }],
      }];
    }
    const target: KubernetesTarget = {
      kind: 'kubernetes',
      namespace: this.namespace ?? 'default',
      httpRoute: this.httpRouteName,
      pathPrefix: this.pathPrefix,
      backends: { [this._current]: this._workloads.get(this._current)!._backend },
      routing: { kind: 'random' },
      pins: [],
    };
    return renderHttpRouteRules({ stable: this._current, canaries: [], mirror: undefined }, target, { [this._current]: 100 });
  }
}

function pascal(s: string): string {
  return s.split(/[^a-zA-Z0-9]+/).filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join('');
}
