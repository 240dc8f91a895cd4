import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { RolloutPlan, Steps } from '../../src/rollout';

describe('RolloutPlan', () => {
  test('computes the default promotion: a shadow step of at most 5 minutes, then 10 % more every minute, 10 minutes', () => {
    // WHEN
    const plan = RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }], stableReplicas: 2, gpusPerReplica: { v1: 1, v2: 1 } });
    // THEN: shadow (no weight), then a pause and a weight per step
    expect(plan.canaryWeights[0]).toBe(0);
    expect(plan.canaryWeights.slice(1).filter((_, i) => i % 2 === 1)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(plan.duration.toSeconds()).toBe(300 + 600);
    // 2 stable replicas: the first step's single canary replica answers copies of half the requests
    expect(plan.toText()).toContain('shadow: mirror 50% of requests to the canary until the error test passes (at most 5:00)');
    expect(plan.specHash).toMatch(/^[0-9a-f]{16}$/);
  });

  test('writes <name>.rollout.md and <name>.rollout.json', () => {
    // GIVEN
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    const plan = RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }], steps: Steps.equal({ count: 5, over: Duration.minutes(30), shadowFirst: false }) });
    // WHEN
    const written = plan.writeFiles(dir);
    // THEN
    expect(written.map((f) => path.basename(f))).toEqual(['llama.rollout.md', 'llama.rollout.json']);
    expect(fs.readFileSync(written[0], 'utf8')).toContain('```mermaid');
    expect(JSON.parse(fs.readFileSync(written[1], 'utf8')).plan.totalSeconds).toBe(1800);
  });

  test.each([
    ['a mirror to the stable version', { mirror: { version: 'v1', percent: 5 } }, /^\[llama\] mirror\.version: "v1" is the stable version/],
    ['a mirror over 100 percent', { mirror: { version: 'v3', percent: 150 } }, /mirror\.percent: the mirrored share must be a whole percent from 1 to 100 \(received 150\)/],
    ['zero stable replicas', { stableReplicas: 0 }, /stableReplicas: replicas must be a whole number of at least 1 \(received 0\)/],
    ['a name that is not DNS-1123', { name: 'Llama_Prod' }, /\[Llama_Prod\] name: names must be DNS-1123 labels.*\(received "Llama_Prod"\)\. Fix: use for example "llama-prod"/],
  ])('rejects %s', (_name, overrides, message) => {
    expect(() => RolloutPlan.compute({ name: 'llama', stableVersion: 'v1', canaries: [{ version: 'v2' }], ...overrides })).toThrow(message);
  });
});
