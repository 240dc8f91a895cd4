/** kube-twin: a loopback Kubernetes API server for tests (server.ts) and a deterministic world over it (world.ts). */
export { KubeTwin } from './server';
export type { Fault, PolicyRule, TwinRequestLog, WriteEvent } from './server';
export { World } from './world';
export type { WorldOptions, WorldStats } from './world';
export { GatewayRouter, prng } from './router';
export type { GatewayRequest, RouteOutcome, Backend } from './router';
export { runLuaFilter, runLuaFilterChain } from './lua';
export type { LuaRequest, LuaResult } from './lua';
export { findTool, kubectlCacheDir } from './tools';
