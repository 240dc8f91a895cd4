/**
 * The synthesis benchmark: N models x 3 environments x one rollout each (N = 1, 10, 100) for the Kubernetes and
 * the AWS target, each beside its same-size floor, and every example. Each figure is a whole `node` process
 * (start, load, synthesize, write), timed from outside; the table gives the median and the range of RUNS processes
 * and the peak memory (max RSS) the process reports.
 *
 * The floor of a case is the bare framework building the same objects: cdk8s ApiObjects / cdktf TerraformResources
 * made from the library's own synthesized output for that N (see case.js). library / floor is then the library's
 * overhead for that output, not how cdk8s and cdktf scale. Library and floor processes alternate (ABBA order), so a
 * change in the machine's load affects both alike. Uses the compiled library (lib/; the import is in library.js).
 *
 * Run: npm run bench   (or: npx projen compile && node -r ./test/support/register-ts.js bench/synth/run.ts)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
// bench/ is not shipped; the manifests' YAML is read outside the timed processes only
// eslint-disable-next-line import/no-extraneous-dependencies
import { parseAllDocuments } from 'yaml';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const root = path.join(__dirname, '..', '..');
const work = path.join(root, 'bench', '.work');
const caseJs = path.join('bench', 'synth', 'case.js');

/** The processes of one case: wall times (ms) and peak memory (MB). */
interface Sample { readonly ms: number[]; readonly rssMb: number[] }
interface Figure { readonly name: string; readonly objects: number; readonly library: Sample; readonly floor?: Sample }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs `node <args> <outdir>` once in a fresh outdir; `inspect` reads what it wrote before the outdir goes. */
function once<T>(name: string, args: string[], into: Sample, inspect?: (outdir: string) => T): T | undefined {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-'));
  try {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...args, outdir], { cwd: root, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    into.ms.push(ms);
    into.rssMb.push(JSON.parse(r.stdout.trim().split('\n').pop()!).maxRssKb / 1024);
    return inspect?.(outdir);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The manifests a cdk8s app wrote, as one text. */
function k8sManifests(outdir: string): string {
  return fs.readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml')).sort().map((f) => fs.readFileSync(path.join(outdir, f), 'utf8')).join('---\n');
}
/** How many Kubernetes objects the manifests hold (cdk8s writes one document per object, separated by `---`). */
const countDocuments = (yaml: string) => yaml.split(/^---$/m).filter((d) => d.trim()).length;

/** The resources of the stack a cdktf app wrote, by type and name. */
function tfResources(outdir: string): Record<string, Record<string, unknown>> {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'models', 'cdk.tf.json'), 'utf8')).resource ?? {};
}
/** JSON with sorted keys and without cdktf's `//` metadata, for comparing outputs. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== '//').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}
const countResources = (r: Record<string, Record<string, unknown>>) => Object.values(r).reduce((s, byName) => s + Object.keys(byName).length, 0);

/** A library case and its same-size floor, alternating. */
function measurePair(target: 'k8s' | 'aws', n: number): Figure {
  const name = `${target === 'k8s' ? 'Kubernetes' : 'AWS'}: ${n} models x 3 environments x 1 rollout`;
  const library: Sample = { ms: [], rssMb: [] };
  const floor: Sample = { ms: [], rssMb: [] };
  const scratch: Sample = { ms: [], rssMb: [] };
  // a first library run (not counted; also warms the file cache) gives the floor its objects
  const input = path.join(work, `floor-${target}-${n}.json`);
  let objects: number;
  let check: (outdir: string) => boolean;
  if (target === 'k8s') {
    const manifests = once(name, [caseJs, target, String(n)], scratch, k8sManifests)!;
    fs.writeFileSync(input, JSON.stringify(parseAllDocuments(manifests).map((d) => d.toJS()).filter((o) => o)));
    objects = countDocuments(manifests);
    check = (o) => k8sManifests(o) === manifests;
  } else {
    const resources = once(name, [caseJs, target, String(n)], scratch, tfResources)!;
    fs.writeFileSync(input, JSON.stringify(resources));
    objects = countResources(resources);
    check = (o) => canonical(tfResources(o)) === canonical(resources);
  }
  // the floor writes the same objects: the same manifests, or the same resources attribute by attribute (cdktf's
  // metadata comments aside); checked once
  if (!once(`${name} (floor)`, [caseJs, `floor-${target}`, String(n), input], scratch, check)) {
    throw new Error(`${name}: the floor does not write the library's objects`);
  }
  const count = (o: string) => (target === 'k8s' ? countDocuments(k8sManifests(o)) : countResources(tfResources(o)));
  const runLibrary = () => {
    const written = once(name, [caseJs, target, String(n)], library, count);
    if (written !== objects) throw new Error(`${name}: ${written} objects, expected ${objects}`);
  };
  const runFloor = () => {
    const written = once(`${name} (floor)`, [caseJs, `floor-${target}`, String(n), input], floor, count);
    if (written !== objects) throw new Error(`${name} (floor): ${written} objects, expected ${objects}`);
  };
  // ABBA: library first in even rounds, floor first in odd ones
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      runLibrary();
      runFloor();
    } else {
      runFloor();
      runLibrary();
    }
  }
  return { name, objects, library, floor };
}

/** An example, compiled to JavaScript, as an app runs it: files written into its dist/. */
function measureExample(example: string): Figure {
  const library: Sample = { ms: [], rssMb: [] };
  const dist = path.join(work, 'examples', example, 'dist');
  const count = () => (fs.existsSync(dist) ? fs.readdirSync(dist, { recursive: true }).filter((f) => /\.(ya?ml|json|md)$/.test(String(f))).length : 0);
  let objects = 0;
  for (let i = 0; i < RUNS; i++) objects = once(`example ${example}`, [path.join('bench', 'synth', 'example.js'), example], library, count)!;
  return { name: `example ${example} (compiled)`, objects, library };
}

const fmt = (s: Sample) => `${Math.round(median(s.ms))} ms (${Math.round(Math.min(...s.ms))}–${Math.round(Math.max(...s.ms))})`;
const mb = (s: Sample) => `${Math.round(Math.max(...s.rssMb))} MB`;

export function runSynthBench(): { figures: Figure[]; markdown: string } {
  fs.mkdirSync(work, { recursive: true });
  const figures: Figure[] = [];
  for (const target of ['k8s', 'aws'] as const) {
    for (const n of [1, 10, 100]) figures.push(measurePair(target, n));
  }
  // examples as an app runs them: compiled to JavaScript first (bench/.work, gitignored); the bundles are found
  // relative to the compiled files, so .work/assets points at the build's assets/
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'bench', 'tsconfig.examples.json')], { cwd: root, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling the examples failed: ${tsc.stdout}${tsc.stderr}`);
  if (!fs.existsSync(path.join(work, 'assets'))) fs.symlinkSync(path.join(root, 'assets'), path.join(work, 'assets'));
  const examples = fs.readdirSync(path.join(root, 'examples'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, 'examples', e.name, 'main.ts'))).map((e) => e.name).sort();
  for (const ex of examples) figures.push(measureExample(ex));

  const rows = figures.map((f) => {
    if (!f.floor) return `| ${f.name} | ${f.objects} | ${fmt(f.library)} | | | ${mb(f.library)} |`;
    const overhead = median(f.library.ms) / median(f.floor.ms);
    return `| ${f.name} | ${f.objects} | ${fmt(f.library)} | ${fmt(f.floor)} | ${overhead.toFixed(2)}x | ${mb(f.library)} / ${mb(f.floor)} |`;
  });
  const markdown = [
    `| case | objects / resources (examples: files written) | library: median (range) of ${RUNS} processes | same-size floor: median (range) | library / floor | peak memory (library / floor) |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  return { figures, markdown };
}

if (require.main === module) {
  const { markdown } = runSynthBench();
  const outdir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, 'synth.md'), [
    '# Synthesis benchmark',
    '',
    `Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. Each figure is a whole \`node\` process (start, load, synthesize, write), timed from outside.`,
    '',
    'The floor of a case is the bare framework with the same objects, built from the library\'s own output for that case: cdk8s `ApiObject`s (Kubernetes;',
    'the manifests come out byte for byte the same) or the provider\'s resource classes in cdktf (AWS; the same resources and attributes). So',
    '"library / floor" is what the library costs over cdk8s or cdktf for the same manifests and Terraform, not how the frameworks scale.',
    'Library and floor processes alternate, so the machine\'s load affects both alike.',
    '',
    markdown,
    '',
    'Reproduce: `npm run bench`.',
    '',
  ].join('\n'));
  console.log(markdown);
}
