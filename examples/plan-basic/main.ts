/**
 * plan-basic: the rollout engine on its own, without any target.
 *
 * Computes the plan of a GPU model's default promotion (10 equal steps over 10 minutes, Baseten's ramp) and of
 * a custom schedule with a metric gate, then writes `<name>.rollout.md` (table + mermaid chart) and
 * `<name>.rollout.json` into `examples/plan-basic/dist/`.
 *
 * Run: node -r ./test/support/register-ts.js examples/plan-basic/main.ts
 */
import * as path from 'path';
import { Duration } from 'cdk8s';
import { AnalysisGate, Metric, RolloutPlan, Step, Steps } from '../../src';

export const outdir = path.join(__dirname, 'dist');

// 1. The default: 10 % more every minute for 10 minutes. Four stable replicas with one A10G each.
const promotion = RolloutPlan.compute({
  name: 'llama-promotion',
  stableVersion: 'v1',
  canaries: [{ version: 'v2' }],
  steps: Steps.equal(),
  stableReplicas: 4,
  gpusPerReplica: { v1: 1, v2: 1 },
});

// 2. A cautious custom schedule: 5 % behind an error-rate gate, then 25 %, a manual hold, then all of it.
const errorRate = new AnalysisGate({
  name: 'error-rate',
  metrics: [Metric.prometheus({
    name: 'error-rate',
    query: 'sum(rate(http_requests_total{version="{{version}}",code=~"5.."}[2m])) / sum(rate(http_requests_total{version="{{version}}"}[2m]))',
    threshold: 0.01,
    sampleQuery: 'sum(increase(http_requests_total{version="{{version}}"}[2m]))',
    minSamples: 200,
  })],
  count: 3,
});
const cautious = RolloutPlan.compute({
  name: 'llama-cautious',
  stableVersion: 'v1',
  canaries: [{ version: 'v2' }],
  steps: Steps.custom([
    Step.setWeight(5, { note: 'first users' }),
    Step.analysis(errorRate),
    Step.setWeight(25),
    Step.pause(Duration.minutes(10)),
    Step.pauseUntilPromoted(),
    Step.setWeight(100),
  ]),
  stableReplicas: 4,
  gpusPerReplica: { v1: 1, v2: 1 },
});

for (const plan of [promotion, cautious]) {
  plan.writeFiles(outdir);
}
