import { computePlan } from '../src/core/plan/plan';
import { renderPlanJson, renderPlanMarkdown, renderPlanText } from '../src/core/plan/render';
import { equalSteps } from '../src/core/schedule';
import { RolloutSpec } from '../src/core/spec';

const spec: RolloutSpec = {
  name: 'llama',
  path: 'App/Chart/Rollout',
  stable: 'v1',
  canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
  versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }],
  steps: equalSteps(4, 240),
  stableReplicas: 2,
  checks: [],
  checkFailureLimit: 1,
  progressDeadlineSeconds: 900,
  keepPreviousWarmSeconds: 0,
  mirror: { version: 'v3', percent: 5 },
};
const plan = computePlan(spec);

describe('Markdown', () => {
  const md = renderPlanMarkdown(plan);

  test('has one table row per span of constant traffic, with weights, replicas and GPUs', () => {
    const rows = md.split('\n').filter((l) => /^\| \d+:\d\d \|/.test(l));
    expect(rows).toEqual([
      // the canary is pre-warmed at the first tick for the weights of the next 5 minutes (desiredFloors)
      '| 0:00 | 1:00 | 100% | 0% | 5% (mirror) | 2 / 2 / 1 | 5 | start |',
      '| 1:00 | 1:00 | 75% | 25% | 5% (mirror) | 2 / 2 / 1 | 5 |  |',
      '| 2:00 | 1:00 | 50% | 50% | 5% (mirror) | 2 / 2 / 1 | 5 |  |',
      '| 3:00 | 1:00 | 25% | 75% | 5% (mirror) | 2 / 2 / 1 | 5 |  |',
      '| 4:00 | - | 0% | 100% | 5% (mirror) | 2 / 2 / 1 | 5 | promoted |',
    ]);
  });

  test('has a mermaid xychart with one line per weighted version', () => {
    const chart = md.slice(md.indexOf('```mermaid'));
    expect(chart).toContain('xychart-beta');
    expect(chart).toContain('x-axis ["0:00", "1:00", "2:00", "3:00", "4:00"]');
    expect(chart).toContain('line [100, 75, 50, 25, 0]');
    expect(chart).toContain('line [0, 25, 50, 75, 100]');
  });

  test('summarises duration, GPU-hours, the mirror and the spec hash', () => {
    expect(md).toContain('duration 4:00;');
    expect(md).toContain(`spec hash ${plan.hash}`);
    expect(md).toContain('5% of requests mirrored to v3');
  });
});

describe('text and JSON', () => {
  test('the text table aligns its columns', () => {
    const lines = renderPlanText(plan).split('\n');
    const header = lines.findIndex((l) => l.startsWith('at '));
    const column = lines[header].indexOf('GPUs');
    const rows = lines.slice(header + 2).filter((l) => /^\d+:\d\d/.test(l));
    expect(rows).toHaveLength(5);
    // the GPUs column of every row starts where its header does
    expect(rows.map((r) => r.slice(column).split(' ')[0])).toEqual(['5', '5', '5', '5', '5']);
  });

  test('the JSON document carries the spec the controller runs and the plan', () => {
    const doc = JSON.parse(renderPlanJson(spec));
    expect(doc.apiVersion).toBe('model-rollout.dev/v1');
    expect(doc.kind).toBe('RolloutPlan');
    expect(doc.spec).toEqual(spec);
    expect(doc.plan.hash).toBe(plan.hash);
  });
});
