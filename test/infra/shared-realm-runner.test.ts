/**
 * The shared-realm jest runner (test/support/shared-realm-runner.js) must report what jest's own runner reports: the
 * same passes and failures, the same failure messages, console output with the file. One real jest run over two
 * projects, each a copy of the files in test/support/shared-realm-fixture/ (passing, failing, timing out, test.each,
 * hooks, a skipped block, setupFilesAfterEnv): one project through this runner, one through jest's own (the
 * reference), both in band: the runner's two files in one realm one after the other, where sharing could leak from
 * one file into the next. The worker processes run the same code (shared-realm-worker.js); every other test file
 * goes through them.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);
const FIXTURE = path.join(__dirname, '..', 'support', 'shared-realm-fixture');
const JEST = require.resolve('jest/bin/jest');
const MODES = { 'shared realm': path.join(__dirname, '..', 'support', 'shared-realm-runner.js'), 'jest\'s own': require.resolve('jest-runner') };

type Mode = keyof typeof MODES;
interface Outcome {
  readonly statuses: Record<string, string>;
  readonly failures: Record<string, string>;
  readonly files: number;
}

/** Both projects' outcomes, and jest's output. */
async function jestBoth(): Promise<{ outcomes: Record<Mode, Outcome>; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-realm-'));
  const projects = Object.entries(MODES).map(([mode, runner], i) => {
    const rootDir = path.join(dir, `project-${i}`);
    fs.mkdirSync(rootDir);
    for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(rootDir, f));
    return {
      displayName: mode,
      rootDir,
      runner,
      testMatch: ['<rootDir>/*.check.ts'],
      transform: { '^.+\\.ts$': path.join(__dirname, '..', 'support', 'esbuild-jest.js') },
      setupFilesAfterEnv: ['<rootDir>/after-env.ts'],
    };
  });
  const config = path.join(dir, 'jest.config.json');
  fs.writeFileSync(config, JSON.stringify({ projects, testTimeout: 5_000 }));
  const out = path.join(dir, 'result.json');
  // its own cache directory: no durations or transforms from another run
  const args = [JEST, '--config', config, '--ci', '--runInBand', '--json', `--outputFile=${out}`, `--cacheDirectory=${path.join(dir, 'cache')}`];
  // jest exits with 1: some fixture tests fail on purpose
  const r: { stdout: string; stderr: string } = await run(process.execPath, args, { cwd: dir, env: { ...process.env, FORCE_COLOR: '0' } }).catch((e) => e);
  const json = JSON.parse(fs.readFileSync(out, 'utf8'));
  const outcomes = Object.fromEntries(Object.keys(MODES).map((mode, i) => {
    const files = json.testResults.filter((f: { name: string }) => f.name.startsWith(path.join(dir, `project-${i}`) + path.sep));
    const statuses: Record<string, string> = {};
    const failures: Record<string, string> = {};
    for (const file of files) {
      for (const t of file.assertionResults) {
        const name = `${path.basename(file.name)} ${t.fullName}`;
        statuses[name] = t.status;
        if (t.failureMessages.length) failures[name] = t.failureMessages.join('\n');
      }
    }
    return [mode, { statuses, failures, files: files.length }];
  })) as Record<Mode, Outcome>;
  return { outcomes, output: `${r.stdout}${r.stderr}` };
}

describe('the shared-realm runner against jest\'s own', () => {
  let outcomes: Record<Mode, Outcome>;
  let output: string;
  beforeAll(async () => {
    ({ outcomes, output } = await jestBoth());
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
    expect(outcomes['jest\'s own'].statuses).toEqual(expected);
    expect(outcomes['shared realm'].statuses).toEqual(expected);
    for (const mode of Object.keys(MODES) as Mode[]) expect(outcomes[mode].files).toBe(2);
  });

  test('failure messages say what failed, and where in the TypeScript', () => {
    for (const mode of Object.keys(MODES) as Mode[]) {
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
    // once per project
    expect(output.split('console line from a.check.ts').length - 1).toBe(2);
  });
});
