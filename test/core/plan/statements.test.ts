/**
 * Each statement of the plan's header and safety section against what the engine does with the same spec: the
 * statement is rendered from the spec the controller reads, and `decide()` run on that spec behaves as it says.
 */
import { decide } from '../../../src/core/decide';
import { computePlan, specHash } from '../../../src/core/plan/plan';
import { renderPlanMarkdown, renderPlanText } from '../../../src/core/plan/render';
import { DEFAULT_SEQUENTIAL } from '../../../src/core/sequential';
import { MetricSpec, RolloutSpec } from '../../../src/core/spec';
import { ControllerState, Observations } from '../../../src/core/state';
import { rolloutSpec } from '../../support/spec-fixture';

const MIN = 60_000;
const LONG_QUERY = 'sum(increase(vllm:request_success_total{model="qwen",environment="production",version="{{version}}",finished_reason!~"stop|length"}[{{window}}]))'
  + ' / sum(increase(vllm:request_success_total{model="qwen",environment="production",version="{{version}}"}[{{window}}]))';
const errorRate: MetricSpec = { provider: 'prometheus', name: 'error-rate', query: 'q', comparison: 'lt', threshold: 0.05, sampleQuery: 's', minSamples: 50 };
const sequentialErrors: MetricSpec = {
  provider: 'prometheus',
  name: 'errors',
  query: LONG_QUERY,
  comparison: 'lt',
  threshold: 0.05,
  sequential: { errorsQuery: 'errors{version="{{version}}"}', requestsQuery: 'requests{version="{{version}}"}', ...DEFAULT_SEQUENTIAL },
};

function state(s: RolloutSpec, overrides: Partial<ControllerState> = {}): ControllerState {
  return { specHash: specHash(s), phase: 'progressing', stepIndex: 1, stepStartedAt: 0, weights: { v1: 90, v2: 10 }, floors: { v2: 4 }, checkFailures: 0, updatedAt: 0, weightsSetAt: 0, ...overrides };
}
const failing: Observations = { readyReplicas: { v1: 4, v2: 4 }, routerWeights: { v1: 90, v2: 10 }, metrics: { v2: { 'error-rate': { value: 0.5, samples: 1000 } } } };
const section = (s: RolloutSpec) => renderPlanMarkdown(computePlan(s)).split('## What stops or holds this rollout')[1];

/** Ticks a failing check until the rollout aborts; the number of failed measurements it took. */
function failuresToAbort(s: RolloutSpec): number {
  let st = state(s);
  for (let i = 1; i <= 10; i++) {
    st = decide(s, st, failing, i * MIN).state;
    if (st.phase === 'aborted') return i;
  }
  return Infinity;
}

describe('the failure limit, in plain words, as the engine counts it', () => {
  test.each([0, 1, 3])('checkFailureLimit %i', (limit) => {
    const s = rolloutSpec({ checks: [errorRate], checkFailureLimit: limit });
    const aborts = failuresToAbort(s);
    expect(aborts).toBe(limit + 1);
    const words = limit === 0 ? 'the first failed measurement aborts the rollout' : `${limit} are tolerated, the ${['', '1st', '2nd', '3rd', '4th'][aborts]} aborts the rollout`;
    expect(section(s)).toContain(words);
    // no self-contradiction ("a failure holds the weights; more than 0 ... abort")
    expect(section(s)).not.toMatch(/more than 0 failed/);
  });
});

describe('the sequential test against stable', () => {
  const s = rolloutSpec({ checks: [sequentialErrors], checkFailureLimit: 3 });

  test('is named with its alpha, tolerance and detect ratio, and as aborting at once', () => {
    const line = section(s).split('\n').find((l) => l.includes('`errors`'))!;
    expect(line).toContain('sequential test of the canary\'s errors against stable\'s');
    expect(line).toContain(`above stable's x ${1 + DEFAULT_SEQUENTIAL.tolerance} (false-abort rate alpha ${DEFAULT_SEQUENTIAL.falseAbortRate})`);
    expect(line).toContain(`built to detect ${DEFAULT_SEQUENTIAL.detectRatio} x that rate`);
    expect(line).toContain('ceiling: the value query (below) < 0.05');
    expect(section(s)).toContain('a sequential test aborts as soon as it fails');
  });

  test('aborts at once, as the plan says, although the failure limit is 3', () => {
    // canary 20 % errors against stable's 0.1 % over the same windows: the test's evidence crosses Wald's bound
    const o: Observations = {
      readyReplicas: { v1: 4, v2: 4 },
      routerWeights: { v1: 90, v2: 10 },
      metrics: { v2: { errors: { value: 0.2, counts: { canary: { requests: 200, errors: 40 }, stable: { requests: 2000, errors: 2 } } } } },
    };
    let st = state(s);
    let ticks = 0;
    while (st.phase !== 'aborted' && ticks < 10) st = decide(s, st, o, ++ticks * MIN).state;
    expect(st.phase).toBe('aborted');
    expect(st.checkFailures).toBe(0);
  });

  test('long queries are named in the line and shown in full, one per fenced block, in a collapsed block', () => {
    const md = renderPlanMarkdown(computePlan(s));
    const lines = md.split('\n').filter((l) => l.startsWith('- ') || l.startsWith('  - '));
    expect(lines.every((l) => !l.includes(LONG_QUERY))).toBe(true);
    const details = md.slice(md.indexOf('<details><summary>Full queries</summary>'));
    expect(details).toContain(`\`errors\` value:\n\n\`\`\`promql\n${LONG_QUERY}\n\`\`\``);
    expect(details).toContain('```promql\nerrors{version="{{version}}"}\n```');
    expect(details.trimEnd().endsWith('</details>')).toBe(true);
  });
});

test('a comparison with stable states its ratio and difference, as judgeComparison judges them', () => {
  const latency: MetricSpec = {
    provider: 'prometheus', name: 'latency', query: 'p99{version="{{version}}"}', comparison: 'lt', threshold: 2, baseline: { maxRatio: 1.3, maxDifference: 0.1 },
  };
  const s = rolloutSpec({ checks: [latency], checkFailureLimit: 0 });
  expect(section(s)).toContain('`latency`: passes when `p99{version="{{version}}"}` < 2; fails when higher than stable\'s over the same window by more than x 1.3 and by more than 0.1');
  // 1.0 s against stable's 0.7 s: x 1.43 and 0.3 s worse, under the ceiling of 2: the engine aborts (limit 0)
  const o = { readyReplicas: { v1: 4, v2: 4 }, routerWeights: { v1: 90, v2: 10 }, metrics: { v2: { latency: { value: 1.0, baseline: 0.7 } } } };
  expect(decide(s, state(s), o, MIN).state.phase).toBe('aborted');
  const within = { ...o, metrics: { v2: { latency: { value: 0.9, baseline: 0.7 } } } };
  expect(decide(s, state(s), within, MIN).state.phase).toBe('progressing');
});

test('a fixed split says that nothing checks it, and lists no check or abort', () => {
  const s = rolloutSpec({ canaries: [{ version: 'v2', targetWeight: 30, ramp: false }], steps: [{ kind: 'setWeight', weight: 100 }], checks: [errorRate] });
  const text = section(s);
  expect(text).toContain('no controller: nothing checks this split');
  expect(text).toContain('the 1 check(s) declared are not run');
  expect(text).not.toMatch(/abort/);
  expect(renderPlanMarkdown(computePlan(s))).not.toContain('model-rollout status');
});

test('the header states the shadow and the ramp that make up the duration', () => {
  // GIVEN a 5-minute shadow step before a 20-minute ramp
  const s = rolloutSpec({
    mirror: undefined,
    steps: [{ kind: 'shadow', percent: 25, maxSeconds: 300 }, { kind: 'setWeight', weight: 50 }, { kind: 'pause', seconds: 1200 }, { kind: 'setWeight', weight: 100 }],
  });
  expect(computePlan(s).totalSeconds).toBe(1500);
  expect(renderPlanText(computePlan(s))).toContain('duration 25:00 (shadow at most 5:00, ramp 20:00)');
});

test('the header names the rollout as the CLI takes it', () => {
  const md = renderPlanMarkdown(computePlan(rolloutSpec({ name: 'qwen-production-promote' })));
  expect(md).toContain('rollout name `qwen-production-promote`: `model-rollout status qwen-production-promote --kube`');
});

test('GPU products are named', () => {
  const s = rolloutSpec({ versions: [{ name: 'v1', gpusPerReplica: 1, gpuProduct: 'L4' }, { name: 'v2', gpusPerReplica: 2, gpuProduct: 'L4' }] });
  expect(section(s)).toContain('GPUs per replica: v1 1 x L4, v2 2 x L4');
});

test('the terminal rendering carries the same safety statements, without the chart', () => {
  const text = renderPlanText(computePlan(rolloutSpec({ checks: [errorRate], checkFailureLimit: 1 })));
  expect(text).toContain('What stops or holds this rollout:');
  expect(text).toContain('1 are tolerated, the 2nd aborts the rollout');
  expect(text).not.toContain('mermaid');
});
