/**
 * cdk-model-rollout.
 *
 * The root holds the target-neutral vocabulary (`Steps`, `Metric`, `Gpu`, `RolloutPlan`, ...). The targets are
 * submodules, each loaded only when first used:
 * - `k8s`: cdk8s constructs (`Model`, `Environment`, `CanaryRollout`, `GpuNodePools`); needs cdk8s only;
 * - `aws`: cdktf constructs (`AlbCanaryRollout`, `GpuNodeGroup`, `KubernetesManifests`); needs cdktf and the
 *   providers, which are optional peers of this package.
 * `import { k8s } from 'cdk-model-rollout'` or `import { Model } from 'cdk-model-rollout/k8s'`.
 */
export * from './rollout';
export * as k8s from './k8s';
export * as aws from './aws';
