/**
 * The step controller's ports: the only I/O it does. Adapters implement them for Kubernetes (node:https) and
 * AWS (SDK v3); tests implement them in memory. Everything else is the pure `decide()`.
 */
import { RolloutRuntimeError } from '../core/runtime-errors';
import { RolloutSpec } from '../core/spec';
import { Command, ControllerState, MetricObservation, ShadowRoute } from '../core/state';
import { Weights } from '../core/weights';

/** What the state store holds: the spec (owned by the manifests / Terraform) and the controller's state. */
export interface StoredRollout {
  readonly spec: RolloutSpec;
  /** Where the traffic and workloads live (KubernetesTarget or AwsTarget). */
  readonly target: unknown;
  readonly state?: ControllerState;
  /** Legacy single command slot. */
  readonly command?: Command;
  /** The command queue (oldest first). */
  readonly commands?: readonly Command[];
  /** Opaque version of the state document for optimistic concurrency (resourceVersion, SSM version). */
  readonly version: string;
}

/** Raised by `writeState` when someone else wrote since `read()`: the tick backs off and acts on nothing. */
export class ConflictError extends RolloutRuntimeError {
  constructor(message: string) {
    super('conflict', message, 409);
    this.name = 'ConflictError';
  }
}

/** Spec, state and commands. */
export interface StateStore {
  read(): Promise<StoredRollout>;
  /**
   * Write the state if the stored version is still `version`; throws `ConflictError` otherwise, a `rejected`
   * `RolloutRuntimeError` when the store refuses the write for good. Resolves with the new version.
   */
  writeState(state: ControllerState, version: string): Promise<string | void>;
  /**
   * The stored version now (one cheap read), for fencing: before each action the tick checks nobody (a
   * command, another tick) wrote since its own write, and stops acting if someone did.
   */
  currentVersion?(): Promise<string>;
}

/** The router: weighted routes (HTTPRoute, ALB listener rule). */
export interface TrafficRouter {
  /** Weights served now, or undefined when they cannot be read. */
  readWeights(): Promise<Weights | undefined>;
  /**
   * The route's mirrors to the rollout's versions, when the router has mirrors (Gateway API): read with the weights
   * (the same read), so call after `readWeights`. Absent on routers without mirrors.
   */
  readMirrors?(): Promise<ShadowRoute[] | undefined>;
  /** Send the weights, with a shadow step's mirror to the canary when `shadow` is given (and none otherwise). */
  setWeights(weights: Weights, shadow?: ShadowRoute): Promise<void>;
}

/** Replicas: readiness and floors. */
export interface Capacity {
  readyReplicas(versions: readonly string[]): Promise<Record<string, number>>;
  /** Floors in place now, when the adapter can read them. */
  floors?(versions: readonly string[]): Promise<Record<string, number>>;
  /**
   * The lowest floor each version's workload can hold (`Observations.lowestFloors`), from what the target names:
   * no read. Absent: 1 for every version.
   */
  lowestFloors?(versions: readonly string[]): Record<string, number>;
  /**
   * Replicas each version's autoscaler wants now (the live load floors are sized from), when the adapter can
   * read them: on Kubernetes the HPA's `status.desiredReplicas` (KEDA's own HPA for a ScaledObject), else the
   * Deployment's `spec.replicas`.
   */
  desiredReplicas?(versions: readonly string[]): Promise<Record<string, number>>;
  setFloor(version: string, replicas: number): Promise<void>;
  scaleDown(version: string): Promise<void>;
}

/** Metric measurements of each canary. */
export interface Metrics {
  measure(spec: RolloutSpec, versions: readonly string[]): Promise<Record<string, Record<string, MetricObservation>>>;
}

/** Everything a tick needs. */
export interface Ports {
  readonly store: StateStore;
  readonly router: TrafficRouter;
  readonly capacity: Capacity;
  readonly metrics: Metrics;
  /** One structured log line. */
  readonly log: (line: Record<string, unknown>) => void;
}
