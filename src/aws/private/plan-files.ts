/**
 * The AWS rollouts' plan files: `<name>.rollout.md` and `<name>.rollout.json` beside their stack's Terraform JSON.
 */
import { App, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import * as shared from '../../rollout/private/plan-files';
import { RolloutPlan } from '../../rollout/rollout-plan';

/** Write `plan` into its stack's output directory (`stacks/<stack id>`) after `app.synth()` has written the stacks. */
export function writePlanOnSynth(scope: IConstruct, plan: () => RolloutPlan): void {
  const app = scope.node.root;
  // cdktf validates one stack at a time (`TerraformStack.runAllValidations`): the stack hosts the step
  const stack = TerraformStack.of(scope);
  if (app instanceof App) shared.writePlanOnSynth(stack, () => app.outdir, `stacks/${stack.node.id}`, plan);
}
