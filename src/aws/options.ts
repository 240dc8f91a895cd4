/** Option types of the AWS constructs, shared by the public constructs and their private parts. */
import { Duration } from 'cdk8s';

/** Alarm thresholds on the canary's target group. */
export interface CanaryAlarmOptions {
  /**
   * Share of 5xx answers (0..1) above which the canary fails.
   * @default 0.02
   */
  readonly errorRate?: number;
  /**
   * Requests a minute below which the 5xx share and the p99 latency count as 0: one error or a few long
   * generations among a handful of requests must not abort.
   * @default 20
   */
  readonly minRequests?: number;
  /**
   * p99 target response time above which the canary fails (from `minRequests` requests a minute on, and while it
   * is also `p99LatencyVsStable` times stable's).
   * @default Duration.seconds(5)
   */
  readonly p99Latency?: Duration;
  /**
   * How many times stable's p99 over the same minute the canary's p99 must also be to fail: a slow minute both
   * versions share (long generations) is not the canary's. Without stable traffic, `p99Latency` alone.
   * @default 1.5
   */
  readonly p99LatencyVsStable?: number;
  /**
   * Connections the load balancer could not open to the canary's pods in a minute above which the canary fails.
   * A crashing or OOM-killed model server shows here and as ALB-generated 502/503/504, which
   * `HTTPCode_Target_5XX_Count` does not count.
   * @default 5
   */
  readonly connectionErrors?: number;
  /**
   * Consecutive one-minute periods over the threshold before an alarm fires.
   * @default 2
   */
  readonly evaluationPeriods?: number;
}

/** Subnets and security groups of the controller's Lambda, for an EKS API endpoint that is private. */
export interface LambdaVpcOptions {
  /**
   * Subnets with a route to the cluster's private endpoint, and to the AWS APIs the function calls (SSM, DynamoDB,
   * Elastic Load Balancing, CloudWatch, EventBridge Scheduler, STS, and SNS with a notification topic) through VPC
   * endpoints or a NAT gateway: a function in a VPC has no internet access of its own.
   */
  readonly subnetIds: string[];
  /** Security groups of the function's network interfaces. */
  readonly securityGroupIds: string[];
  /**
   * The cluster security group (`aws_eks_cluster.vpc_config[0].cluster_security_group_id`): the rollout adds an
   * ingress rule for HTTPS (443) from each of `securityGroupIds` to it, so the private endpoint accepts the function.
   * @default - no rule: the cluster's security groups must already accept `securityGroupIds` on 443
   */
  readonly clusterSecurityGroupId?: string;
}

/**
 * The EKS cluster whose workloads' replica floors the controller raises. The rollout creates an EKS access entry
 * for the controller's role and a namespaced Role for it, so the cluster's `authentication_mode` must include
 * the access-entry API (`API` or `API_AND_CONFIG_MAP`).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
 */
export interface EksAccess {
  /** Cluster name. */
  readonly clusterName: string;
  /** API server endpoint. */
  readonly endpoint: string;
  /** Base64 certificate authority data (as `aws_eks_cluster.certificate_authority[0].data` gives it). */
  readonly certificateAuthority: string;
  /**
   * Run the controller in the VPC, for a cluster whose API endpoint is private.
   * @default - outside any VPC: the cluster's public endpoint must allow the controller
   */
  readonly vpc?: LambdaVpcOptions;
}
