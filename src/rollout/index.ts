/** Target-neutral vocabulary: schedules, gates, metrics, canaries, GPUs and the plan. */
export * from './analysis';
export * from './canary';
export * from './capacity';
export * from './gpu';
export * from './rollout-plan';
export * from './release-window';
export * from './serving-engine';
export * from './steps';
