/**
 * The Kubernetes rollouts' plan files: `<name>.rollout.md` and `<name>.rollout.json` beside the app's manifests.
 */
import { App } from 'cdk8s';
import { IConstruct } from 'constructs';
import * as shared from '../../rollout/private/plan-files';
import { RolloutPlan } from '../../rollout/rollout-plan';

/**
 * Write `plan` into the app's output directory when the app synthesizes, once its validations pass. A tree whose
 * root is not an App has no output directory and writes no plan.
 */
export function writePlanOnSynth(scope: IConstruct, plan: () => RolloutPlan): void {
  const app = scope.node.root;
  if (app instanceof App) shared.writePlanOnSynth(app, () => app.outdir, '.', plan);
}
