import * as fc from 'fast-check';
import '../support/property-seed';
import { TICK_SECONDS } from '../../src/core/constants';
import { equalSteps, linearSteps, progressAfter, stepSeconds, validateSteps } from '../../src/core/schedule';
import { AnalysisGateSpec, StepSpec } from '../../src/core/spec';

const weightsOf = (steps: StepSpec[]) => steps.flatMap((s) => (s.kind === 'setWeight' ? [s.weight] : []));
const totalSeconds = (steps: StepSpec[]) => steps.reduce((t, s) => t + stepSeconds(s), 0);

describe('equal steps', () => {
  test.each([
    // count, over (s), weights, seconds per step
    [10, 600, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 60],
    [3, 180, [33, 67, 100], 60],
    [4, 3600, [25, 50, 75, 100], 900],
    [1, 60, [100], 60],
    [7, 700, [14, 29, 43, 57, 71, 86, 100], 100],
  ])('%i steps over %i s set weights %j, %i s apart', (count, over, weights, interval) => {
    // WHEN
    const steps = equalSteps(count, over);
    // THEN
    expect(weightsOf(steps)).toEqual(weights);
    expect(steps.filter((s) => s.kind === 'pause').map((s) => stepSeconds(s))).toEqual(Array(count).fill(interval));
    expect(totalSeconds(steps)).toBe(over);
  });

  test('the default-shaped schedule waits one interval before each weight, so the canary can warm up', () => {
    const steps = equalSteps(2, 120);
    expect(steps).toEqual([
      { kind: 'pause', seconds: 60 },
      { kind: 'setWeight', weight: 50 },
      { kind: 'pause', seconds: 60 },
      { kind: 'setWeight', weight: 100 },
    ]);
  });

  test('properties: exact step count, last step at 100, non-decreasing weights, duration equal to the window', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 0, max: 20_000 }),
      (count, extra) => {
        const over = count * TICK_SECONDS + extra;
        const steps = equalSteps(count, over);
        const weights = weightsOf(steps);
        validateSteps('p', 'steps', steps); // throws (fails the property) on an invalid schedule
        return weights.length === count
          && weights[weights.length - 1] === 100
          && weights.every((w, i) => Number.isInteger(w) && w >= (i === 0 ? 0 : weights[i - 1]) && w <= 100)
          && Math.abs(totalSeconds(steps) - over) < 1e-6;
      },
    ), { numRuns: 1000 });
  });
});

describe('linear steps', () => {
  test.each([
    [25, 120, [25, 50, 75, 100]],
    [30, 60, [30, 60, 90, 100]],
    [100, 60, [100]],
    [1, 60, Array.from({ length: 100 }, (_, i) => i + 1)],
  ])('%i percent every %i s sets weights %j', (percent, every, weights) => {
    const steps = linearSteps(percent, every);
    expect(weightsOf(steps)).toEqual(weights);
    expect(totalSeconds(steps)).toBe(every * weights.length);
  });

  test('properties: ceil(100 / percent) steps, last at 100, duration = steps x interval', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 60, max: 3600 }), (percent, every) => {
      const steps = linearSteps(percent, every);
      const weights = weightsOf(steps);
      validateSteps('p', 'steps', steps); // throws (fails the property) on an invalid schedule
      return weights.length === Math.ceil(100 / percent)
        && weights[weights.length - 1] === 100
        && totalSeconds(steps) === every * weights.length;
    }), { numRuns: 1000 });
  });
});

describe('progress', () => {
  test('progress after n executed steps is the last weight set among them', () => {
    const steps = equalSteps(4, 240);
    expect([0, 1, 2, 3, 4, 8, 20].map((n) => progressAfter(steps, n))).toEqual([0, 0, 25, 25, 50, 100, 100]);
  });
});

describe('a bake: steps after the final 100 %', () => {
  test('pauses, manual pauses and gates after the final 100 % are accepted; a shadow step there is not', () => {
    expect(() => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: 100 }, { kind: 'pause', seconds: 600 }])).not.toThrow();
    expect(() => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: 100 }, { kind: 'pauseUntilPromoted' }])).not.toThrow();
    expect(() => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: 100 }, { kind: 'shadow', percent: 10, maxSeconds: 300 }]))
      .toThrow(/steps\[1\]/);
  });
});

describe('errors name the path, the property, the value and the fix', () => {
  const gate: AnalysisGateSpec = {
    name: 'g',
    metrics: [{ provider: 'prometheus', name: 'm', query: 'up', comparison: 'lt', threshold: 1 }],
    intervalSeconds: 60,
    count: 1,
    failureLimit: 0,
    inconclusiveLimit: 0,
  };

  test.each([
    ['a step count of 0', () => equalSteps(0, 600, 'App/Rollout'), /^\[App\/Rollout\] steps\.count: the step count must be a whole number of at least 1 \(received 0\)\. Fix: use a positive integer/],
    ['a negative step count', () => equalSteps(-3, 600, 'App/Rollout'), /steps\.count: .* \(received -3\)/],
    ['a fractional step count', () => equalSteps(2.5, 600, 'App/Rollout'), /steps\.count: .* \(received 2\.5\)/],
    ['over 100 steps', () => equalSteps(101, 60_000, 'App/Rollout'), /steps\.count: at most 100 steps .* \(received 101\)/],
    ['a window shorter than the ticks the steps need', () => equalSteps(10, 300, 'App/Rollout'),
      /^\[App\/Rollout\] steps\.over: 10 steps need at least 600 s \(10 steps x one controller tick of 60 s\), but the window is 300 s \(received 300 s\)\. Fix: make the window at least 600 s, or use at most 5 steps/],
    ['a linear percent of 0', () => linearSteps(0, 60, 'App/Rollout'), /steps\.percent: the percent per step must be a whole number from 1 to 100 \(received 0\)/],
    ['a linear interval under one tick', () => linearSteps(10, 30, 'App/Rollout'), /steps\.every: the controller ticks once every 60 s, so a step cannot be shorter than 60 s \(received 30 s\)/],
    ['empty custom steps', () => validateSteps('App/Rollout', 'steps', []), /steps: a custom schedule needs at least one step \(received \[\]\)\. Fix: add steps/],
    ['a weight over 100', () => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: 101 }]), /steps\[0\]\.weight: a weight must be a whole number from 0 to 100 .* \(received 101\)/],
    ['a negative weight', () => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: -5 }]), /steps\[0\]\.weight: .* \(received -5\)/],
    ['a fractional weight', () => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: 12.5 }]), /steps\[0\]\.weight: .* \(received 12\.5\)/],
    ['a decreasing weight', () => validateSteps('App/Rollout', 'steps', [{ kind: 'setWeight', weight: 50 }, { kind: 'setWeight', weight: 20 }, { kind: 'setWeight', weight: 100 }]),
      /steps\[1\]\.weight: step 1 lowers the canary weight from 50 to 20/],
    ['a pause shorter than one tick', () => validateSteps('App/Rollout', 'steps', [{ kind: 'pause', seconds: 10 }, { kind: 'setWeight', weight: 100 }]), /steps\[0\]\.duration: .* \(received 10 s\)/],
    ['a gate without metrics', () => validateSteps('App/Rollout', 'steps', [{ kind: 'analysis', gate: { ...gate, metrics: [] } }]), /steps\[0\]\.gate\.metrics: an analysis gate needs at least one metric/],
    ['a gate with a negative failure limit', () => validateSteps('App/Rollout', 'steps', [{ kind: 'analysis', gate: { ...gate, failureLimit: -1 } }]), /steps\[0\]\.gate\.failureLimit: .* \(received -1\)/],
    ['a gate with an empty query', () => validateSteps('App/Rollout', 'steps', [{ kind: 'analysis', gate: { ...gate, metrics: [{ provider: 'prometheus', name: 'm', query: ' ', comparison: 'lt', threshold: 1 }] } }]),
      /steps\[0\]\.gate\.metrics\[0\]\.query: a Prometheus metric needs a query/],
  ])('%s is rejected', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});
