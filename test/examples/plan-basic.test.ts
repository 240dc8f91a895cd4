import * as fs from 'fs';
import * as path from 'path';

describe('examples/plan-basic', () => {
  test('writes the plans of both rollouts beside each other', () => {
    // WHEN
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { outdir } = require('../../examples/plan-basic/main');
    // THEN
    const files = fs.readdirSync(outdir).sort();
    expect(files).toEqual(['llama-cautious.rollout.json', 'llama-cautious.rollout.md', 'llama-promotion.rollout.json', 'llama-promotion.rollout.md']);
    const promotion = JSON.parse(fs.readFileSync(path.join(outdir, 'llama-promotion.rollout.json'), 'utf8'));
    // the default shadow step (at most 5 minutes) before the 10-minute ramp
    expect(promotion.plan.totalSeconds).toBe(900);
    expect(promotion.plan.gpuHours).toBeGreaterThan(0);
  });
});
