/**
 * Where a rollout's traffic and workloads live: plain data that the constructs write beside the spec
 * (`target.json`) and the controller's adapters read. Provider-specific, but free of any SDK.
 */

/** Sticky or random split of requests between versions. */
export type RoutingSpec =
  | { readonly kind: 'random' }
  /** Hash of a request header's value picks a bucket 0..99; the same value always lands in the same bucket. */
  | { readonly kind: 'headerHash'; readonly header: string }
  /** Hash of a query parameter's value picks the bucket. */
  | { readonly kind: 'queryHash'; readonly param: string };

/** Requests carrying this header or query value always reach `version`, whatever the weights (for testers). */
export interface PinSpec {
  readonly version: string;
  /** A header's value: exact, or (`regex`) a regular expression the whole value must match (RE2). */
  readonly header?: { readonly name: string; readonly value: string; readonly regex?: boolean };
  /** A query parameter's value: exact, or (`regex`) a regular expression the whole value must match (RE2). */
  readonly query?: { readonly name: string; readonly value: string; readonly regex?: boolean };
  /** A cookie's exact value (browser A/B): rendered as a match on the `Cookie` header. */
  readonly cookie?: { readonly name: string; readonly value: string };
}

/** One version's Kubernetes objects. */
export interface KubernetesBackend {
  /** Service the route's backendRefs name. */
  readonly service: string;
  readonly port: number;
  /** Deployment whose replicas the controller reads and whose floor it raises. */
  readonly deployment: string;
  /** KEDA ScaledObject whose `minReplicaCount` is the replica floor, when the version autoscales with KEDA. */
  readonly scaledObject?: string;
  /** HorizontalPodAutoscaler whose `minReplicas` is the floor, when the version autoscales with an HPA. */
  readonly hpa?: string;
  /** Replicas the version runs with when no rollout raises its floor (the environment's minimum). */
  readonly baseReplicas: number;
}

/** A rollout on Kubernetes: the HTTPRoute the controller rewrites and every version's objects. */
export interface KubernetesTarget {
  readonly kind: 'kubernetes';
  readonly namespace: string;
  /** HTTPRoute whose `spec.rules` the controller owns during the rollout. */
  readonly httpRoute: string;
  /** Path prefix every rule matches (the environment's), if any. */
  readonly pathPrefix?: string;
  readonly backends: { readonly [version: string]: KubernetesBackend };
  readonly routing: RoutingSpec;
  readonly pins: readonly PinSpec[];
  /** Prometheus the rollout's metric gates query (the namespace's controller serves many rollouts). */
  readonly prometheusUrl?: string;
}

/** A rollout on AWS: the ALB listener rule whose forward action the controller rewrites. */
export interface AwsTarget {
  readonly kind: 'aws';
  readonly listenerRuleArn: string;
  /** Target group ARN of every version. */
  readonly targetGroups: { readonly [version: string]: string };
  /** Target-group stickiness duration; absent: no stickiness. */
  readonly stickinessSeconds?: number;
  /**
   * CloudWatch alarms of the rollout, for display (status, logs). The controller judges them through the spec's
   * `cloudwatchAlarm` metrics (continuous checks or gates), which name the same alarms.
   */
  readonly alarmNames: readonly string[];
  /**
   * The versions' Kubernetes workloads on EKS, whose replica floors the Lambda raises through the EKS API
   * (authenticated with its IAM role; the cluster needs an access entry for it). Absent: floors are not managed
   * and the capacity gate only waits for healthy targets.
   */
  readonly workloads?: { readonly namespace: string; readonly backends: KubernetesTarget['backends'] };
}
