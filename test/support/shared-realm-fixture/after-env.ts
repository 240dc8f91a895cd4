// setupFilesAfterEnv: jest evaluates it for every test file, so every file gets this hook (checked by the files)
beforeAll(() => {
  (globalThis as any).afterEnvRuns = ((globalThis as any).afterEnvRuns ?? 0) + 1;
  (globalThis as any).afterEnvRanFor = expect.getState().testPath;
});
