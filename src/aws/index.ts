/**
 * The AWS target (cdktf): GPU node groups, ALB canary rollouts with a Lambda step controller, and the bridge that
 * ships cdk8s charts as `kubernetes_manifest` resources. Needs `cdktf`, `@cdktf/provider-aws` and
 * `@cdktf/provider-kubernetes` (optional peers of the package: install them to use this entry point). The
 * constructs a rollout is composed of live in private/, which no index re-exports.
 */
export * from './alb-canary-rollout';
export * from './alb-route';
export * from './gpu-node-group';
export * from './kubernetes-manifests';
export * from './options';
