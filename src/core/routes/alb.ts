/**
 * The forward action of an ALB listener rule at given weights, and its read-back: rendered at synth time (initial
 * weights) and by the controller (ModifyRule), read back from DescribeRules. ALB allows at most 5 target groups in
 * one forward action.
 */
import { AwsTarget } from '../contract/target';
import { noTargetGroupForVersion } from '../runtime-errors';
import { RolloutSpec } from '../spec';
import { UNKNOWN_BACKEND } from '../state';
import { Weights } from '../weights';

/** ALB's limit of target groups per forward action. */
export const ALB_MAX_TARGET_GROUPS = 5;

/** ELBv2 ForwardActionConfig, as plain data (same field names as the API). */
export interface AlbForwardConfig {
  readonly TargetGroups: ReadonlyArray<{ readonly TargetGroupArn: string; readonly Weight: number }>;
  readonly TargetGroupStickinessConfig: { readonly Enabled: boolean; readonly DurationSeconds?: number };
}

/**
 * The forward config of the rollout's listener rule at `weights` (stable first, then canaries), listing only the
 * target groups with weight: a group at 0 takes no request either way, and a rule that still names one keeps
 * Terraform from deleting it once the code drops its version (DeleteTargetGroup answers `ResourceInUse` while "a
 * listener or a rule" uses it, and terraform-provider-aws retries that for 2 minutes, then fails the apply:
 * internal/service/elbv2/target_group.go `resourceTargetGroupDelete`). A version that gets weight again is added
 * back by the send that gives it weight (ModifyRule replaces the whole action).
 */
export function renderAlbForward(spec: Pick<RolloutSpec, 'stable' | 'canaries'>, target: AwsTarget, weights: Weights): AlbForwardConfig {
  const versions = [spec.stable, ...spec.canaries.map((c) => c.version)];
  const groups = versions.map((v) => {
    const arn = target.targetGroups[v];
    if (!arn) throw noTargetGroupForVersion(v);
    return { TargetGroupArn: arn, Weight: weights[v] ?? 0 };
  });
  const weighted = groups.filter((g) => g.Weight > 0);
  return {
    // a forward action needs a target group: all at 0 (never sent by the engine) keeps the stable version's
    TargetGroups: weighted.length > 0 ? weighted : groups.slice(0, 1),
    TargetGroupStickinessConfig: target.stickinessSeconds
      ? { Enabled: true, DurationSeconds: target.stickinessSeconds }
      : { Enabled: false },
  };
}

/**
 * The weights a forward action serves, by version (read back from DescribeRules). Every target group it forwards
 * to is reported: one outside the target is `UNKNOWN_BACKEND`, so a replaced canary still on the rule is not
 * taken for "served".
 */
export function weightsFromForward(
  spec: Pick<RolloutSpec, 'stable' | 'canaries'>,
  target: Pick<AwsTarget, 'targetGroups'>,
  targetGroups: ReadonlyArray<{ readonly TargetGroupArn?: string; readonly Weight?: number }>,
): Weights {
  const byArn = new Map(Object.entries(target.targetGroups).map(([v, arn]) => [arn, v]));
  const weights: Weights = Object.fromEntries([spec.stable, ...spec.canaries.map((c) => c.version)].map((v) => [v, 0]));
  for (const tg of targetGroups) {
    const v = byArn.get(tg.TargetGroupArn ?? '') ?? UNKNOWN_BACKEND;
    if ((tg.Weight ?? 0) > 0 || v in weights) weights[v] = (weights[v] ?? 0) + (tg.Weight ?? 0);
  }
  return weights;
}
