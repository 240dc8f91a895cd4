import { Duration } from 'cdk8s';
import { AnalysisGate, Comparison, Metric, Step, Steps } from '../src';

describe('Steps', () => {
  test('the default is 10 equal steps over 10 minutes', () => {
    const steps = Steps.equal()._bind('App/R');
    expect(steps.filter((s) => s.kind === 'setWeight')).toHaveLength(10);
    expect(steps.filter((s) => s.kind === 'pause').every((s) => s.kind === 'pause' && s.seconds === 60)).toBe(true);
  });

  test('custom steps get a final 100% step when they do not reach it', () => {
    const steps = Steps.custom([Step.setWeight(20, { note: 'canary users' }), Step.pause(Duration.minutes(5))])._bind('App/R');
    expect(steps).toEqual([
      { kind: 'setWeight', weight: 20, note: 'canary users' },
      { kind: 'pause', seconds: 300 },
      { kind: 'setWeight', weight: 100 },
    ]);
  });

  test('an analysis step carries its gate with defaults', () => {
    const gate = new AnalysisGate({
      name: 'latency',
      metrics: [Metric.prometheus({ name: 'p99', query: 'histogram_quantile(0.99, x)', threshold: 2, comparison: Comparison.LESS_THAN_OR_EQUAL })],
    });
    const [step] = Steps.custom([Step.analysis(gate), Step.setWeight(100)])._bind('App/R');
    expect(step).toEqual({
      kind: 'analysis',
      gate: {
        name: 'latency',
        metrics: [{ provider: 'prometheus', name: 'p99', query: 'histogram_quantile(0.99, x)', threshold: 2, comparison: 'lte', sampleQuery: undefined, minSamples: undefined }],
        intervalSeconds: 60,
        count: 5,
        failureLimit: 1,
        inconclusiveLimit: 30,
      },
    });
  });

  test('errors are raised when the steps are bound to a construct, naming its path', () => {
    expect(() => Steps.equal({ count: 0 })._bind('App/Chart/Rollout')).toThrow(/^\[App\/Chart\/Rollout\] steps\.count:/);
    expect(() => Steps.custom([])._bind('App/Chart/Rollout')).toThrow(/^\[App\/Chart\/Rollout\] steps: a custom schedule needs at least one step/);
    expect(() => Steps.linear({ percent: 10, every: Duration.seconds(30) })._bind('App/R')).toThrow(/steps\.every: the controller ticks once every 60 s/);
  });

  test('a minimum-sample guard needs a query that counts the samples', () => {
    const gate = new AnalysisGate({ name: 'g', metrics: [Metric.prometheus({ name: 'e', query: 'x', threshold: 1, minSamples: 100 })] });
    expect(() => Steps.custom([Step.analysis(gate)])._bind('App/R')).toThrow(/steps\[0\]\.gate\.metrics\[0\]\.sampleQuery: a minimum sample count needs a query/);
  });
});
