/**
 * The test-suite benchmark: `npm test` on a clean clone of this commit beside `npm test` on a clean clone
 * of a fixed baseline commit, run alternately on the same machine, with wall time, CPU time and the test count of
 * every run, the median and range of each, and the ratio within each pair.
 *
 * How: both trees are cloned from this repository (committed state only: uncommitted changes are not measured) into
 * a temporary directory and installed with `npm ci`, as `.ci/run` does; each gets one warm-up `npm test` first,
 * reported apart (the first run installs the cdktn flavor's dependencies and fills jest's transform cache). Then
 * PAIRS pairs run, and the order within a pair alternates (AB, BA, ...) so that a drift in the machine's load falls
 * on both sides. Each `npm test` runs with `CI=true`, as in `.ci/run` (fixed property seeds). CPU time is the
 * children's user + system time from /proc/self/stat (`cutime` + `cstime`: every process of the run, waited for),
 * what `/usr/bin/time` reports; Linux only.
 *
 * Run: node -r ./test/support/register-ts.js bench/suite/run.ts [--baseline <commit>] [--pairs N]
 *   (takes minutes: two `npm ci` and 2 x (N + 1) test runs). Writes bench/results/suite.md.
 *   --same-tree KEY=VALUE instead compares this commit with itself, the second side with KEY=VALUE in its environment
 *   (for example MODEL_ROLLOUT_INTERRUPT_BUDGET=0, V8's default tiering: test/support/v8-tiering.js).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The fixed baseline: the tree before the test machinery (the runner, the static checks) was built. */
const DEFAULT_BASELINE = 'f0f38e9';
const root = path.join(__dirname, '..', '..');

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const pairs = Number(option('--pairs') ?? 3);
const sameTree = option('--same-tree');
const baseline = option('--baseline') ?? DEFAULT_BASELINE;
if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs must be a whole number of at least 1, got ${option('--pairs')}`);
if (sameTree !== undefined && !/^[A-Z_][A-Z0-9_]*=/.test(sameTree)) throw new Error(`--same-tree takes KEY=VALUE, got ${sameTree}`);

interface Side { readonly name: string; readonly dir: string; readonly env: Record<string, string> }
interface Run { readonly wall: number; readonly cpu: number; readonly tests: number; readonly passed: boolean }

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The children's CPU seconds so far (user + system of every waited-for descendant), from /proc/self/stat. */
function childrenCpu(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 16 and 17 of proc(5) (cutime, cstime), counted here from field 3: indexes 13 and 14; in clock ticks
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function clone(commit: string, dir: string): void {
  const r = spawnSync('git', ['clone', '--quiet', '--no-checkout', root, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git clone: ${r.stderr}`);
  const c = spawnSync('git', ['checkout', '--quiet', commit], { cwd: dir, encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`git checkout ${commit}: ${c.stderr}`);
  console.log(`installing ${commit} in ${dir} (npm ci)`);
  const i = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (i.status !== 0) throw new Error(`npm ci in ${dir}: ${i.stderr}`);
}

function npmTest(side: Side): Run {
  const cpu0 = childrenCpu();
  const started = process.hrtime.bigint();
  const r = spawnSync('npm', ['test'], {
    cwd: side.dir,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', ...side.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = childrenCpu() - cpu0;
  const m = /Tests:\s+(?:\d+ failed, )?(?:\d+ skipped, )?(\d+) passed, (\d+) total/.exec(`${r.stdout}${r.stderr}`);
  return { wall, cpu, tests: m ? Number(m[2]) : 0, passed: r.status === 0 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs: number[], digits = 1) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const describe = (r: Run) => `${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU, ${r.tests} tests${r.passed ? '' : ', FAILED'}`;

function main(): void {
  const head = git('rev-parse', '--short', 'HEAD');
  if (git('status', '--porcelain', '--untracked-files=no')) console.log('note: uncommitted changes are not measured (the trees are clones of commits)');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-bench-'));
  try {
    const ours: Side = { name: `this tree (${head})`, dir: path.join(work, 'this'), env: {} };
    clone(head, ours.dir);
    let other: Side;
    if (sameTree) {
      const [key, ...value] = sameTree.split('=');
      other = { name: `this tree (${head}) with ${sameTree}`, dir: ours.dir, env: { [key]: value.join('=') } };
    } else {
      const commit = git('rev-parse', '--short', baseline);
      other = { name: `baseline (${commit})`, dir: path.join(work, 'baseline'), env: {} };
      clone(commit, other.dir);
    }
    for (const side of sameTree ? [ours] : [ours, other]) console.log(`warm-up, ${side.name}: ${describe(npmTest(side))}`);
    const runs = new Map<Side, Run[]>([[ours, []], [other, []]]);
    const ratios: { wall: number; cpu: number }[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? [other, ours] : [ours, other];
      const pair = new Map<Side, Run>();
      for (const side of order) {
        const r = npmTest(side);
        pair.set(side, r);
        runs.get(side)!.push(r);
        console.log(`pair ${i + 1}, ${side.name}: ${describe(r)}`);
      }
      ratios.push({ wall: pair.get(ours)!.wall / pair.get(other)!.wall, cpu: pair.get(ours)!.cpu / pair.get(other)!.cpu });
    }
    const row = (side: Side) => {
      const rs = runs.get(side)!;
      const walls = rs.map((r) => r.wall);
      const cpus = rs.map((r) => r.cpu);
      return `| ${side.name} | ${median(walls).toFixed(1)} s (${range(walls)}) | ${median(cpus).toFixed(1)} s (${range(cpus)}) | ${[...new Set(rs.map((r) => r.tests))].join(', ')} | ${rs.every((r) => r.passed) ? 'yes' : 'NO'} |`;
    };
    const table = [
      '# Test-suite benchmark',
      '',
      `Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. `
        + `\`CI=true npm test\` on clean clones (\`npm ci\`), ${pairs} pairs run alternately after one warm-up run each; `
        + 'CPU is user + system time of every process of the run.',
      '',
      '| tree | wall: median (range) | CPU: median (range) | tests | all passed |',
      '| --- | --- | --- | --- | --- |',
      row(ours),
      row(other),
      '',
      `Ratio within each pair (this tree / the other): wall ${ratios.map((r) => r.wall.toFixed(2)).join(', ')} (median ${median(ratios.map((r) => r.wall)).toFixed(2)}); `
        + `CPU ${ratios.map((r) => r.cpu.toFixed(2)).join(', ')} (median ${median(ratios.map((r) => r.cpu)).toFixed(2)}).`,
      '',
      `Reproduce: \`node -r ./test/support/register-ts.js bench/suite/run.ts ${sameTree ? `--same-tree ${sameTree}` : `--baseline ${baseline}`} --pairs ${pairs}\`.`,
      '',
    ].join('\n');
    console.log(`\n${table}`);
    const out = path.join(root, 'bench', 'results', sameTree ? 'suite-same-tree.md' : 'suite.md');
    fs.writeFileSync(out, table);
    console.log(`written: ${path.relative(root, out)}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
