export * from './common/steps';
export * from './common/analysis';
export * from './common/canary';
export * from './common/rollout-plan';
export * from './common/gpu';
