/**
 * The Kubernetes target (cdk8s): models, environments, canary rollouts, GPU node pools. Loads no Terraform
 * package: a Kubernetes-only app needs `cdk8s`, `cdk8s-plus-33` and `constructs` only. Internal helpers live
 * in private/, which no index re-exports.
 */
export * from './autoscaling';
export * from './canary-rollout';
export * from './contracts';
export * from './environment';
export * from './environment-kind';
export * from './gpu-node-pools';
export * from './manifest-applier';
export * from './model';
export * from './notifications';
export * from './prometheus-connection';
export * from './routing';
