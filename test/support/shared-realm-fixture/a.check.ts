// Fixture of test/infra/shared-realm-runner.test.ts: outcomes both runners must report alike.
import { setTimeout as sleep } from 'timers/promises';

test('passes', () => {
  expect(1 + 1).toBe(2);
});

test('fails on a matcher', () => {
  expect(1 + 1).toBe(3);
});

test.each([1, 2, 3])('each %i', (n) => {
  expect(n).toBeGreaterThan(0);
});

test('exceeds its timeout', async () => {
  await sleep(400);
}, 50);

test('misses an expected assertion count', () => {
  expect.assertions(2);
  expect(true).toBe(true);
});

test('setupFilesAfterEnv ran for this file', () => {
  expect((globalThis as any).afterEnvRanFor).toBe(expect.getState().testPath);
  expect(expect.getState().testPath).toMatch(/a\.check\.ts$/);
});

test('logs', () => {
  console.log('console line from a.check.ts');
  expect(true).toBe(true);
});

describe.skip('skipped', () => {
  test('never runs', () => {
    throw new Error('ran a skipped test');
  });
});

describe('hooks', () => {
  const order: string[] = [];
  beforeAll(() => { order.push('beforeAll'); });
  beforeEach(() => { order.push('beforeEach'); });
  afterEach(() => { order.push('afterEach'); });
  test('first', () => {
    expect(order).toEqual(['beforeAll', 'beforeEach']);
  });
  test('second', () => {
    expect(order).toEqual(['beforeAll', 'beforeEach', 'afterEach', 'beforeEach']);
  });
});
