// Fixture of test/infra/shared-realm-runner.test.ts: a second file in the same worker sees none of a.check.ts' tests,
// hooks or expect state.
test('setupFilesAfterEnv ran for this file too', () => {
  expect((globalThis as any).afterEnvRanFor).toBe(expect.getState().testPath);
  expect(expect.getState().testPath).toMatch(/b\.check\.ts$/);
});

test('an error thrown outside expect fails the test', () => {
  const value: any = undefined;
  return value.missing;
});

test('a rejected promise fails the test', async () => {
  await Promise.reject(new Error('rejected on purpose'));
});
