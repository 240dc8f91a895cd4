/**
 * The shared-realm jest runner (test/support/shared-realm-runner.js) must report what jest's own runner reports: the
 * same passes and failures, the same failure messages, console output with the file. Real jest runs, twice, on the
 * files in test/support/shared-realm-fixture/ (passing, failing, timing out, test.each, hooks, a skipped block,
 * setupFilesAfterEnv): through the runner in band, the two files in one realm one after the other, where sharing
 * could leak from one file into the next, and through jest's own runner (MODEL_ROLLOUT_JEST_ISOLATE=1) as the
 * reference. The worker processes run the same code (shared-realm-worker.js); every other test file goes through them.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
const FIXTURE = path.join(__dirname, 'support', 'shared-realm-fixture');
const JEST = require.resolve('jest/bin/jest');

type Mode = 'in band' | 'isolated';
interface Outcome {
  readonly statuses: Record<string, string>;
  readonly failures: Record<string, string>;
  readonly output: string;
  readonly files: number;
}

async function jest(mode: Mode): Promise<Outcome> {
  // a cache directory of its own: no durations from an earlier run, so jest does not pick in-band by itself
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-realm-'));
  const out = path.join(dir, 'result.json');
  const args = [JEST, '--config', path.join(FIXTURE, 'jest.config.js'), '--ci', '--json', `--outputFile=${out}`,
    `--cacheDirectory=${dir}`, ...(mode === 'in band' ? ['--runInBand'] : ['--maxWorkers=2'])];
  const env = { ...process.env, FORCE_COLOR: '0', MODEL_ROLLOUT_JEST_ISOLATE: mode === 'isolated' ? '1' : '' };
  // jest exits with 1: some fixture tests fail on purpose
  const r: { stdout: string; stderr: string } = await run(process.execPath, args, { cwd: FIXTURE, env }).catch((e) => e);
  const json = JSON.parse(fs.readFileSync(out, 'utf8'));
  const statuses: Record<string, string> = {};
  const failures: Record<string, string> = {};
  for (const file of json.testResults) {
    for (const t of file.assertionResults) {
      const name = `${path.basename(file.name)} ${t.fullName}`;
      statuses[name] = t.status;
      if (t.failureMessages.length) failures[name] = t.failureMessages.join('\n');
    }
  }
  return { statuses, failures, output: `${r.stdout}${r.stderr}`, files: json.numTotalTestSuites };
}

describe('the shared-realm runner against jest\'s own', () => {
  let outcomes: Record<Mode, Outcome>;
  beforeAll(async () => {
    const [inBand, isolated] = await Promise.all((['in band', 'isolated'] as const).map(jest));
    outcomes = { 'in band': inBand, 'isolated': isolated };
  }, 60_000);

  test('every test has the status jest\'s own runner gives it', () => {
    const expected = {
      'a.check.ts passes': 'passed',
      'a.check.ts fails on a matcher': 'failed',
      'a.check.ts each 1': 'passed',
      'a.check.ts each 2': 'passed',
      'a.check.ts each 3': 'passed',
      'a.check.ts exceeds its timeout': 'failed',
      'a.check.ts misses an expected assertion count': 'failed',
      'a.check.ts setupFilesAfterEnv ran for this file': 'passed',
      'a.check.ts logs': 'passed',
      'a.check.ts skipped never runs': 'pending',
      'a.check.ts hooks first': 'passed',
      'a.check.ts hooks second': 'passed',
      'b.check.ts setupFilesAfterEnv ran for this file too': 'passed',
      'b.check.ts an error thrown outside expect fails the test': 'failed',
      'b.check.ts a rejected promise fails the test': 'failed',
    };
    expect(outcomes.isolated.statuses).toEqual(expected);
    expect(outcomes['in band'].statuses).toEqual(expected);
    for (const mode of ['in band', 'isolated'] as const) expect(outcomes[mode].files).toBe(2);
  });

  test('failure messages say what failed, and where in the TypeScript', () => {
    for (const mode of ['in band', 'isolated'] as const) {
      const f = outcomes[mode].failures;
      expect(f['a.check.ts fails on a matcher']).toContain('Expected: 3');
      // the line of the failing `expect` in a.check.ts, through the transform's source map
      expect(f['a.check.ts fails on a matcher']).toMatch(/a\.check\.ts:9:/);
      expect(f['a.check.ts exceeds its timeout']).toContain('Exceeded timeout of 50 ms');
      expect(f['a.check.ts misses an expected assertion count']).toContain('expect.assertions(2)');
      expect(f['b.check.ts an error thrown outside expect fails the test']).toContain('reading \'missing\'');
      expect(f['b.check.ts a rejected promise fails the test']).toContain('rejected on purpose');
    }
  });

  test('a file\'s console output is shown with it', () => {
    for (const mode of ['in band', 'isolated'] as const) {
      expect(outcomes[mode].output).toContain('console line from a.check.ts');
    }
  });
});
