/**
 * The TypeScript twin of plan_app.py: same input. test/flavors/python.test.ts runs both and compares the files they
 * write. Run: node -r ./test/support/register-ts.js flavors/python/apps/plan_app.ts [outdir]
 */
import { Duration } from 'cdk8s';
import { AnalysisGate, Metric, RolloutPlan, Step, Steps } from '../../../src';

export function synth(outdir: string): void {
  const errorRate = new AnalysisGate({
    name: 'error-rate',
    metrics: [Metric.prometheus({
      name: 'error-rate',
      query: 'sum(rate(http_requests_total{version="{{version}}",code=~"5.."}[2m]))'
        + ' / sum(rate(http_requests_total{version="{{version}}"}[2m]))',
      threshold: 0.01,
    })],
    count: 3,
  });

  const plan = RolloutPlan.compute({
    name: 'llama-cautious',
    stableVersion: 'v1',
    canaries: [{ version: 'v2' }],
    steps: Steps.custom([
      Step.setWeight(5, { note: 'first users' }),
      Step.analysis(errorRate),
      Step.setWeight(25),
      Step.pause(Duration.minutes(10)),
      Step.setWeight(100),
    ]),
    stableReplicas: 4,
    gpusPerReplica: { v1: 1, v2: 1 },
  });
  plan.writeFiles(outdir);
}

if (require.main === module) synth(process.argv[2] ?? 'dist');
