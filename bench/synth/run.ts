/**
 * The synthesis benchmark: N models x 3 environments x one rollout each (N = 1, 10, 100) for the Kubernetes and
 * the AWS target, a bare cdk8s chart and a bare cdktf stack, and every example; each a whole process, median of
 * 5 runs, peak memory (max RSS) as the child reports it. Uses the compiled library (lib/).
 *
 * Run: npm run bench   (or: npx projen compile && npx ts-node --project bench/tsconfig.json bench/synth/run.ts)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const RUNS = 5;
const root = path.join(__dirname, '..', '..');

interface Figure { readonly name: string; readonly objects: number; readonly medianMs: number; readonly maxRssMb: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Figure {
  const times: number[] = [];
  const rss: number[] = [];
  let objects = 0;
  for (let i = 0; i < RUNS; i++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-'));
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...args, outdir], { cwd: root, encoding: 'utf8', env });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    rss.push(last.maxRssKb / 1024);
    objects = last.objects;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  return { name, objects, medianMs: Math.round(median(times)), maxRssMb: Math.round(Math.max(...rss)) };
}

export function runSynthBench(): { figures: Figure[]; markdown: string } {
  const figures: Figure[] = [];
  const caseJs = path.join('bench', 'synth', 'case.js');
  figures.push(measure('bare cdk8s chart, 1 Deployment', [caseJs, 'bare-k8s', '1']));
  figures.push(measure('bare cdktf stack, 1 resource', [caseJs, 'bare-tf', '1']));
  for (const target of ['k8s', 'aws']) {
    for (const n of [1, 10, 100]) figures.push(measure(`${target === 'k8s' ? 'Kubernetes' : 'AWS'}: ${n} models x 3 environments x 1 rollout`, [caseJs, target, String(n)]));
  }
  // examples as an app runs them: compiled to JavaScript first (bench/.work, gitignored); the bundles are found
  // relative to the compiled files, so .work/assets points at the build's assets/
  const work = path.join(root, 'bench', '.work');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'bench', 'tsconfig.examples.json')], { cwd: root, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling the examples failed: ${tsc.stdout}${tsc.stderr}`);
  if (!fs.existsSync(path.join(work, 'assets'))) fs.symlinkSync(path.join(root, 'assets'), path.join(work, 'assets'));
  const examples = fs.readdirSync(path.join(root, 'examples'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, 'examples', e.name, 'main.ts'))).map((e) => e.name).sort();
  for (const ex of examples) {
    figures.push(measure(`example ${ex} (compiled)`, [path.join('bench', 'synth', 'example.js'), ex]));
  }
  const base = (t: string) => figures.find((f) => f.name.startsWith(t))!;
  const rows = figures.map((f) => {
    const bare = f.name.startsWith('AWS') ? base('bare cdktf') : f.name.startsWith('Kubernetes') ? base('bare cdk8s') : undefined;
    const ratio = bare ? ` (${(f.medianMs / bare.medianMs).toFixed(1)}x bare)` : '';
    return `| ${f.name} | ${f.objects} | ${f.medianMs} ms${ratio} | ${f.maxRssMb} MB |`;
  });
  const markdown = [
    `| case | objects / resources (examples: files written) | median of ${RUNS} processes | peak memory |`,
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  return { figures, markdown };
}

if (require.main === module) {
  const { markdown } = runSynthBench();
  const outdir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, 'synth.md'), `# Synthesis benchmark\n\nMachine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. Each figure is a whole \`node\` process (start, load, synthesize, write).\n\n${markdown}\n\nReproduce: \`npm run bench\`.\n`);
  console.log(markdown);
}
