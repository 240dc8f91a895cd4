import { Duration } from 'cdk8s';
import { resolveShadowSteps, ShadowContext } from '../../src/core/schedule';
import { AnalysisGate, Comparison, Metric, Step, Steps } from '../../src/rollout';

describe('Steps', () => {
  test('the default is 10 equal steps over 10 minutes', () => {
    const steps = Steps.equal({ shadowFirst: false })._bind('App/R');
    expect(steps.filter((s) => s.kind === 'setWeight')).toHaveLength(10);
    expect(steps.filter((s) => s.kind === 'pause').every((s) => s.kind === 'pause' && s.seconds === 60)).toBe(true);
    expect(steps.some((s) => s.kind === 'shadow')).toBe(false);
  });

  test('the default starts with a shadow step, sized by the target from the first step\'s replicas', () => {
    const bound = (stableReplicas: number, partialMirror = true) => Steps.equal()._bind('App/R', 'steps', (list) => resolveShadowSteps('App/R', 'steps', list, {
      canaries: [{ targetWeight: 100 }], stableReplicas, canMirror: true, partialMirror,
    }, { unsupported: () => new Error('unsupported'), partial: () => new Error('partial') }));
    // one stable replica: the canary's first replica (for 10 %) answers copies of every request
    expect(bound(1)[0]).toEqual({ kind: 'shadow', percent: 100, maxSeconds: 300, auto: true });
    // 3 replicas: the first step's one replica carries a third of the load
    expect(bound(3)[0]).toMatchObject({ kind: 'shadow', percent: 33 });
    // many replicas: the first step's share
    expect(bound(100)[0]).toMatchObject({ kind: 'shadow', percent: 10 });
    // CRDs before v1.3 cannot mirror a share: the default step is left out rather than mirroring 100 % to 10 replicas
    expect(bound(100, false).some((s) => s.kind === 'shadow')).toBe(false);
    expect(bound(1, false)[0]).toMatchObject({ kind: 'shadow', percent: 100 });
  });

  test('an explicit shadow step where it cannot run is an error naming the step; the default one is left out', () => {
    const resolve = (ctx: Partial<ShadowContext>) => (list: any[]) => resolveShadowSteps('App/R', 'steps', list, {
      canaries: [{ targetWeight: 100 }], stableReplicas: 2, canMirror: true, partialMirror: true, ...ctx,
    }, { unsupported: (p) => new Error(`unsupported at ${p}`), partial: (p, n) => new Error(`partial ${n} at ${p}`) });
    const explicit = Steps.custom([Step.shadow({ percent: 20 }), Step.setWeight(10)]);
    expect(() => explicit._bind('App/R', 'steps', resolve({ canMirror: false }))).toThrow('unsupported at steps[0]');
    expect(() => explicit._bind('App/R', 'steps', resolve({ partialMirror: false }))).toThrow('partial 20 at steps[0].percent');
    expect(() => explicit._bind('App/R', 'steps', resolve({ canaries: [{ targetWeight: 50 }, { targetWeight: 50 }] })))
      .toThrow(/\[App\/R\] steps\[0\]: a shadow step mirrors to one canary/);
    expect(Steps.equal()._bind('App/R', 'steps', resolve({ canMirror: false })).some((s) => s.kind === 'shadow')).toBe(false);
    expect(() => Steps.custom([Step.shadow({ percent: 0.5 })])._bind('App/R', 'steps', resolve({}))).toThrow(/steps\[0\]\.percent: a shadow step mirrors a whole percent/);
    expect(() => Steps.custom([Step.setWeight(100), Step.shadow()])._bind('App/R', 'steps', resolve({}))).toThrow(/steps\[1\]: a shadow step after the final 100% step/);
    expect(() => Steps.custom([Step.shadow({ max: Duration.seconds(5) })])._bind('App/R', 'steps', resolve({}))).toThrow(/steps\[0\]\.max/);
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
