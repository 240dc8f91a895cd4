/**
 * What each test-run knob saves, measured alone: for every knob, the part of `npm test` it affects runs with the knob
 * and without it, alternately (AB, BA, ...), and the CPU time (user + system of every process of the run) of each
 * side is reported as median and range, with the saving as a share of the whole `npm test` CPU. A knob stays only
 * when it saves at least 5 % of it (see test/README.md).
 *
 * How: the knobs are measured on a fixed commit (KNOBS_COMMIT, the tree that still had all of them), cloned into a
 * temporary directory once per variant: `on` as committed, and one clone per knob with that knob removed by the edit
 * listed below (each edit must apply, or the run stops). The clones share this tree's node_modules and assets/ (run
 * `npx projen bundle` first). Each clone runs once as a warm-up (jest's caches), then PAIRS pairs.
 * The whole `npm test` CPU is that of the v8-tiering knob's `with` side: jest plus the static checks on the `on`
 * clone (the bundles, which no knob touches, are left out: a smaller denominator, so the shares are, if anything,
 * overstated).
 *
 * Run: node -r ./test/support/register-ts.js bench/knobs/run.ts [--pairs N] [--only knob,knob]
 * Each knob's runs are kept in bench/results/knobs.json (`--only` measures some again and keeps the others);
 * bench/results/knobs.md is written from it, and `--print` only writes and prints the table. Linux only (CPU from
 * /proc/self/stat).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The last commit with every knob in place. */
const KNOBS_COMMIT = '727b2d9';
const root = path.join(__dirname, '..', '..');
const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const pairs = Number(option('--pairs') ?? 3);
const only = option('--only')?.split(',');
const RESULTS = path.join(root, 'bench', 'results', 'knobs.json');

/** A file edit that removes a knob: `from` must occur in `file`. */
interface Edit { readonly file: string; readonly from: string; readonly to: string }
interface Knob {
  readonly name: string;
  readonly what: string;
  /** The commands of the part of `npm test` the knob affects. */
  readonly part: string;
  readonly commands: string[];
  /** Removes the knob: file edits in a clone of its own, or an environment setting on the `on` clone. */
  readonly edits?: Edit[];
  readonly env?: Record<string, string>;
}

const JEST = 'npx jest --ci --silent';
const STATIC = 'node test/support/static-checks.js --tsconfig test/tsconfig.json';
const FAKE_USERS = 'test/cluster test/infra/kube-twin test/controller/aws test/rollout';

const KNOBS: Knob[] = [
  {
    name: 'v8-tiering',
    what: 'V8 interrupt budget 8x (test/support/v8-tiering.js)',
    part: 'jest and the static checks',
    commands: [JEST, STATIC],
    env: { MODEL_ROLLOUT_INTERRUPT_BUDGET: '0' },
  },
  {
    name: 'cdktf-stack-trace-patch',
    what: 'cdktf private-path patch (test/support/jest-setup.js)',
    part: 'jest on test/aws and test/examples (the cdktf tests)',
    commands: [`${JEST} test/aws test/examples`],
    edits: [{ file: 'package.json', from: '"setupFiles": [\n      "<rootDir>/test/support/jest-setup.js"\n    ],', to: '"setupFiles": [],' }],
  },
  {
    name: 'durations-sequencer',
    what: 'durations.json and sequencer.js (longest file first)',
    part: 'jest on test/cluster and test/controller (the long files and the Prometheus ones)',
    commands: [`${JEST} test/cluster test/controller`],
    edits: [{ file: 'package.json', from: '"testSequencer": "<rootDir>/test/support/sequencer.js",', to: '' }],
  },
  {
    name: 'transform-cache',
    what: 'the shared-realm transform cache (test/support/transform-cache.js)',
    part: 'jest on test/k8s and test/core (every worker transforms most of src/)',
    commands: [`${JEST} test/k8s test/core`],
    edits: [
      { file: 'test/support/shared-realm-worker.js', from: 'const { code, map } = transformFile(cache, filename);', to: 'const { code, map } = require(\'./esbuild-jest\').process(require(\'fs\').readFileSync(filename, \'utf8\'), filename);' },
      { file: 'test/support/shared-realm-runner.js', from: '? warm(path.join(config.cacheDirectory, \'shared-realm-ts\'), config.rootDir)', to: '? Promise.resolve(0)' },
    ],
  },
  {
    name: 'side-by-side-first-task',
    what: 'side-by-side.js running the bundle task from .projen/tasks.json',
    part: 'the bundles before jest',
    commands: ['node test/support/side-by-side.js --first-task bundle -- true'],
    edits: [{ file: 'test/support/side-by-side.js', from: 'const r = await runTask(firstTask);', to: 'const r = await run(spawn(`npx projen ${firstTask}`, { cwd: root, env, shell: true, stdio: \'inherit\' }), firstTask);' }],
  },
  {
    name: 'json-copy',
    what: 'copyJson for the fakes (test/support/json-copy.ts) against the JSON round trip',
    part: `jest on the fakes' users (${FAKE_USERS})`,
    commands: [`${JEST} ${FAKE_USERS}`],
    edits: [{ file: 'test/support/json-copy.ts', from: 'return value === undefined ? value : copy(value, 0) as T;', to: 'return value === undefined ? value : viaJson(value) as T;' }],
  },
];

/** The children's CPU seconds so far (user + system of every waited-for descendant), from /proc/self/stat. */
function childrenCpu(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function sh(command: string, cwd: string, env: Record<string, string> = {}): { cpu: number; ok: boolean; out: string } {
  const cpu0 = childrenCpu();
  const r = spawnSync(command, { cwd, shell: true, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env }, maxBuffer: 256 * 1024 * 1024 });
  return { cpu: childrenCpu() - cpu0, ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function clone(dir: string, edits: Edit[]): void {
  for (const c of [`git clone --quiet --shared --no-checkout ${root} ${dir}`, `git -C ${dir} checkout --quiet ${KNOBS_COMMIT}`]) {
    if (!sh(c, root).ok) throw new Error(`failed: ${c}`);
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  fs.cpSync(path.join(root, 'assets'), path.join(dir, 'assets'), { recursive: true });
  for (const e of edits) {
    const file = path.join(dir, e.file);
    const text = fs.readFileSync(file, 'utf8');
    if (!text.includes(e.from)) throw new Error(`${e.file}: the edit that removes the knob no longer applies: ${e.from}`);
    fs.writeFileSync(file, text.replace(e.from, e.to));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

interface Side { readonly dir: string; readonly env: Record<string, string> }

/** CPU seconds of the knob's commands on one side (all of them, in order); throws when one fails. */
function measure(knob: Knob, side: Side): number {
  let cpu = 0;
  for (const c of knob.commands) {
    const r = sh(c, side.dir, side.env);
    if (!r.ok) throw new Error(`${knob.name}: \`${c}\` failed in ${side.dir}:\n${r.out.slice(-3000)}`);
    cpu += r.cpu;
  }
  return cpu;
}

interface Measured { readonly with: number[]; readonly without: number[] }

function table(results: Record<string, Measured>): string {
  const whole = results['v8-tiering']?.with;
  if (!whole) throw new Error('measure v8-tiering first: its `with` side is the whole npm test');
  const rows = KNOBS.filter((k) => results[k.name]).map((k) => {
    const r = results[k.name];
    const saved = median(r.without) - median(r.with);
    return `| ${k.name} | ${k.what} | ${k.part} | ${median(r.with).toFixed(1)} (${range(r.with)}) | ${median(r.without).toFixed(1)} (${range(r.without)}) `
      + `| ${saved.toFixed(1)} | ${(100 * saved / median(whole)).toFixed(1)} % | ${saved >= 0.05 * median(whole) ? 'keep' : 'drop'} |`;
  });
  return [
    '# The test-run knobs, each measured alone',
    '',
    `Machine: ${os.cpus().length} cores, shared with other work while measuring, Node ${process.version}. Commit ${KNOBS_COMMIT}, \`CI=true\`; `
      + `${whole.length} interleaved pairs per knob after a warm-up; CPU is user + system time of every process, in seconds, median (range).`,
    `Whole \`npm test\` CPU (jest + static checks, every knob in place): ${median(whole).toFixed(1)} s (${range(whole)}); 5 % is ${(0.05 * median(whole)).toFixed(1)} s.`,
    '',
    '| knob | what | part measured | CPU with | CPU without | saved | share of npm test | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Reproduce: `node -r ./test/support/register-ts.js bench/knobs/run.ts --pairs 3` (`--only <knob>` for one).',
    '',
  ].join('\n');
}

function main(): void {
  const results: Record<string, Measured> = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, 'utf8')) : {};
  if (!argv.includes('--print')) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'knobs-bench-'));
    try {
      const on: Side = { dir: path.join(work, 'on'), env: {} };
      clone(on.dir, []);
      let onWarm = false;
      for (const knob of KNOBS.filter((k) => !only || only.includes(k.name))) {
        const off: Side = knob.edits ? { dir: path.join(work, knob.name), env: {} } : { dir: on.dir, env: knob.env ?? {} };
        if (knob.edits) clone(off.dir, knob.edits);
        // the `on` clone's caches are warm once any knob ran there
        if (!onWarm) measure(knob, on);
        onWarm = true;
        measure(knob, off);
        const r = { with: [] as number[], without: [] as number[] };
        for (let i = 0; i < pairs; i++) {
          for (const side of i % 2 === 0 ? [off, on] : [on, off]) {
            const cpu = measure(knob, side);
            (side === on ? r.with : r.without).push(cpu);
            console.log(`${knob.name}, pair ${i + 1}, ${side === on ? 'with' : 'without'}: ${cpu.toFixed(1)} s CPU`);
          }
        }
        results[knob.name] = r;
        fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  const text = table(results);
  console.log(`\n${text}`);
  fs.writeFileSync(path.join(root, 'bench', 'results', 'knobs.md'), text);
}

main();
