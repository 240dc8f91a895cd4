/**
 * Smoke run of the rollout simulation (the full benchmark, 200 seeds per faulty cell and 1000 per healthy cell, runs
 * with `npm run bench`): few seeds at every traffic level; every strategy reports sane figures; ours at its defaults
 * as shipped rolls back every 2 % canary and no healthy one in these seeds.
 */
import { report, runAll } from '../../bench/rollout-sim/run';
import { binomial, poisson, rng } from '../../bench/rollout-sim/sim';

describe('rollout simulation (smoke)', () => {
  test('the sampling is seeded and unbiased enough', () => {
    expect(rng(42)()).toBe(rng(42)());
    const u = rng(7);
    let sum = 0;
    for (let i = 0; i < 2000; i++) sum += binomial(u, 1000, 0.02);
    expect(sum / 2000).toBeCloseTo(20, 0);
    let p = 0;
    for (let i = 0; i < 2000; i++) p += poisson(u, 3);
    expect(p / 2000).toBeCloseTo(3, 0);
  });

  test('few seeds at 5, 50 and 500 requests/s: sane figures; ours catches every 2 % canary and aborts no healthy one', () => {
    const { cells, sample } = runAll({ seeds: 4, healthySeeds: 8 });
    expect(new Set(cells.map((c) => c.rps))).toEqual(new Set([5, 50, 500]));
    for (const c of cells) {
      expect(c.aborted).toBeGreaterThanOrEqual(0);
      expect(c.aborted).toBeLessThanOrEqual(c.runs);
      expect(c.meanExposed).toBeGreaterThanOrEqual(0);
    }
    for (const r of sample) expect(r.series.every((s) => s.weight >= 0 && s.weight <= 100)).toBe(true);
    const ours = cells.filter((c) => c.strategy.startsWith('ours'));
    for (const c of ours.filter((x) => x.canaryErrorRate === 0.02)) expect(c.aborted).toBe(c.runs);
    for (const c of ours.filter((x) => x.canaryErrorRate === 0.001)) expect(c.aborted).toBe(0);
    // the shadow step: the default catches the 2 % canary on copies, before it answers anyone, in these seeds
    const shipped = cells.filter((c) => c.strategy === 'ours (defaults as shipped)' && c.canaryErrorRate === 0.02);
    expect(shipped).toHaveLength(3);
    for (const c of shipped) expect(c.meanExposed).toBe(0);
    const { markdown, targets } = report(cells);
    expect(markdown).toContain('| **ours (defaults as shipped)** |');
    expect(markdown).toContain('Exposure ratios');
    expect(targets.filter((t) => t.name.startsWith('2 % canary rolled back')).every((t) => t.ok)).toBe(true);
  }, 30_000);
});
