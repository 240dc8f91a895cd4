/**
 * The forward action of an ALB listener rule at given weights: rendered at synth time (initial weights)
 * and by the controller (ModifyRule). ALB allows at most 5 target groups in one forward action.
 */
import { AwsTarget } from '../contract/target';
import { RolloutSpec } from '../spec';
import { Weights } from '../weights';

/** ALB's limit of target groups per forward action. */
export const ALB_MAX_TARGET_GROUPS = 5;

/** ELBv2 ForwardActionConfig, as plain data (same field names as the API). */
export interface AlbForwardConfig {
  readonly TargetGroups: ReadonlyArray<{ readonly TargetGroupArn: string; readonly Weight: number }>;
  readonly TargetGroupStickinessConfig: { readonly Enabled: boolean; readonly DurationSeconds?: number };
}

/** The forward config of the rollout's listener rule at `weights` (stable first, then canaries). */
export function renderAlbForward(spec: Pick<RolloutSpec, 'stable' | 'canaries'>, target: AwsTarget, weights: Weights): AlbForwardConfig {
  const versions = [spec.stable, ...spec.canaries.map((c) => c.version)];
  return {
    TargetGroups: versions.map((v) => {
      const arn = target.targetGroups[v];
      if (!arn) throw new Error(`no target group for version "${v}" in the rollout target`);
      return { TargetGroupArn: arn, Weight: weights[v] ?? 0 };
    }),
    TargetGroupStickinessConfig: target.stickinessSeconds
      ? { Enabled: true, DurationSeconds: target.stickinessSeconds }
      : { Enabled: false },
  };
}
