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
   * p99 target response time above which the canary fails.
   * @default Duration.seconds(5)
   */
  readonly p99Latency?: Duration;
  /**
   * Consecutive one-minute periods over the threshold before the alarm fires.
   * @default 2
   */
  readonly evaluationPeriods?: number;
}

/** The EKS cluster whose workloads' replica floors the controller raises. */
export interface EksAccess {
  /** Cluster name. */
  readonly clusterName: string;
  /** API server endpoint. */
  readonly endpoint: string;
  /** Base64 certificate authority data. */
  readonly certificateAuthority: string;
}
