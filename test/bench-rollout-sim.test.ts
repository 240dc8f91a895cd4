/**
 * Smoke run of the rollout simulation (the full benchmark runs with `npm run bench`, not in CI): a tiny
 * scenario completes, every strategy reports sane figures, and ours rolls a faulty canary back.
 */
import { report, runAll } from '../bench/rollout-sim/run';

describe('rollout simulation (smoke)', () => {
  test('a short scenario runs every strategy to sane outputs', () => {
    const results = runAll({ horizonSeconds: 1200, stableReplicas: 4, rps: () => 20 });
    expect(results).toHaveLength(15);
    for (const r of results) {
      expect(r.blastRadius).toBeGreaterThanOrEqual(0);
      expect(r.overload).toBeGreaterThanOrEqual(0);
      expect(r.gpuHours).toBeGreaterThan(0);
      expect(r.series.length).toBe(121);
      expect(r.series.every((s) => s.weight >= 0 && s.weight <= 100)).toBe(true);
    }
    const ours = (scenario: string) => results.find((r) => r.strategy.startsWith('ours') && r.scenario === scenario)!;
    expect(ours('faulty').outcome).toBe('aborted');
    expect(ours('healthy').outcome).toBe('promoted');
    expect(ours('healthy').overload).toBe(0);
    const { markdown, targets } = report(results, 240);
    expect(markdown).toContain('| ours (capacity + metric gates) |');
    expect(targets).toHaveLength(4);
  });
});
