import { computePlan } from '../../../src/core/plan/plan';
import { renderPlanJson, renderPlanMarkdown, renderPlanText } from '../../../src/core/plan/render';
import { equalSteps } from '../../../src/core/schedule';
import { RolloutSpec } from '../../../src/core/spec';
import { rolloutSpec } from '../../support/spec-fixture';

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

  test('has a mermaid xychart on a proportional time axis: one line per weighted version and one for the mirror', () => {
    const chart = md.slice(md.indexOf('```mermaid'));
    expect(chart).toContain('xychart-beta');
    // 4 minutes sampled every 2 s (at most 120 samples): 121 points from 0:00 to 4:00
    expect(chart).toContain('x-axis "minutes" 0 --> 4');
    const lines = [...chart.matchAll(/^ {2}line \[(.*)\]$/gm)].map((m) => m[1].split(', ').map(Number));
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.length === 121)).toBe(true);
    // the canary holds 0 % for the first minute, then 25 %: a step, not a ramp between labels
    expect(lines[1].slice(0, 30).every((w) => w === 0)).toBe(true);
    expect(lines[1][30]).toBe(25);
    expect(lines[0][120]).toBe(0);
    expect(lines[2].every((w) => w === 5)).toBe(true);
    expect(md).toContain('Legend: v1 (stable) blue, v2 red, v3 (mirror, copies) green.');
  });

  test('says what stops or holds the rollout: checks, gates, deadlines, pre-warm, GPUs and the end', () => {
    const section = md.slice(md.indexOf('## What stops or holds this rollout'));
    expect(section).toContain('checks at every tick: none');
    expect(section).toContain('pre-warmed for the weights the schedule reaches within 5:00');
    expect(section).toContain('not ready within 15:00 aborts the rollout');
    expect(section).toContain('GPUs per replica: v1 1, v2 1, v3 1');
    // as the engine does it: the previous version keeps its replicas while the spec still names it (mayScaleDown)
    expect(section).toContain('after the last step: v2 is the stable version; v1 keeps its replicas until the code names v2 as the environment\'s version');
  });

  test('a target that lets the previous version go states its keep-warm window as the rollback window', () => {
    const warm = computePlan({ ...rolloutSpec(), keepPreviousUntilSpecChanges: false, keepPreviousWarmSeconds: 1800 });
    expect(renderPlanMarkdown(warm)).toContain('after the last step: v2 is the stable version; v1 stays warm for 30:00 (the rollback window: '
      + '`model-rollout cancel` sends the traffic back to it), then is scaled to zero and kept deployed');
    const cold = computePlan({ ...rolloutSpec(), keepPreviousUntilSpecChanges: false, keepPreviousWarmSeconds: 0 });
    expect(renderPlanMarkdown(cold)).toContain('after the last step: v2 is the stable version; v1 is scaled to zero and kept deployed');
    // what the code does next, and what a cancel does then
    expect(renderPlanMarkdown(warm)).toContain('after that a cancel is refused (going back is a new rollout of v1). Then set the environment\'s version '
      + 'to v2 and remove the rollout (on AWS the `AlbRoute` keeps the host on v2, and v1\'s target group goes once no rule forwards to it)');
  });

  test('a bake after the final 100 % is its own span, before the end, and named in the header and the safety section', () => {
    // GIVEN 50 % for 5 minutes, 100 %, then a 10-minute bake
    const bake = rolloutSpec({ steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'pause', seconds: 300 }, { kind: 'setWeight', weight: 100 }, { kind: 'pause', seconds: 600 }] });
    const text = renderPlanText(computePlan(bake));
    // THEN the table has the ramp, the bake (10:00 at 100 %, the stable version still at its replicas) and the end
    expect(text).toMatch(/^5:00 +10:00 +0% +100% +4 \/ 4 +8 +bake: pause 10:00$/m);
    expect(text).toMatch(/^15:00 +- +0% +100% .* promoted$/m);
    expect(text).toContain('duration 15:00 (ramp 5:00, bake 10:00)');
    expect(renderPlanMarkdown(computePlan(bake))).toContain('bake: after reaching 100 %, 10:00 with every check running and v1 warm; a failing check or `model-rollout cancel` sends all traffic back to v1 at once');
  });

  test('a fixed split that lasts no time is drawn as bars of the split', () => {
    const fixed = computePlan({ ...spec, mirror: undefined, canaries: [{ version: 'v2', targetWeight: 30, ramp: false }], steps: [{ kind: 'setWeight', weight: 100 }] });
    const text = renderPlanMarkdown(fixed);
    expect(text).toContain('bar [70, 30]');
    expect(text).toContain('The split holds from the start');
  });

  test('summarises duration, GPU-hours, the mirror and the spec hash', () => {
    expect(md).toContain('duration 4:00;');
    expect(md).toContain(`spec hash ${plan.hash}`);
    expect(md).toContain("5% of the route's requests, pinned ones included, mirrored to v3");
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
