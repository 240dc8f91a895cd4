/**
 * The rollout simulation: every strategy in three scenarios (healthy, faulty from the start, degrading at 8
 * minutes), a table of blast radius, time to 100 %, overload and GPU-hours, the targets checked, and an SVG chart.
 *
 * Run: npx ts-node --project bench/tsconfig.json bench/rollout-sim/run.ts   (or `npm run bench`)
 */
import * as fs from 'fs';
import * as path from 'path';
import { RunResult, Scenario, simulate } from './sim';
import { argoRollouts, basetenLike, flagger, naiveRamp, ours } from './strategies';
import { renderChart } from './svg';

/** The default world: 50 requests/s, 5 requests/s per GPU replica, 10 stable replicas, 4-minute cold start. */
export function scenarios(overrides: Partial<Scenario> = {}): Scenario[] {
  const base = {
    rps: () => 50,
    perReplicaRps: 5,
    coldStartSeconds: 240,
    autoscalerLagSeconds: 60,
    stableReplicas: 10,
    gpusPerReplica: 1,
    horizonSeconds: 3600,
    ...overrides,
  };
  return [
    { ...base, name: 'healthy', canaryErrorRate: () => 0.001 },
    { ...base, name: 'faulty', canaryErrorRate: () => 0.2 },
    { ...base, name: 'degrading', canaryErrorRate: (t: number) => (t >= 480 ? 0.3 : 0.001) },
  ];
}

/** Every strategy in every scenario. */
export function runAll(overrides: Partial<Scenario> = {}): RunResult[] {
  const out: RunResult[] = [];
  for (const s of scenarios(overrides)) {
    for (const strategy of [ours(s), basetenLike(), flagger(), argoRollouts(s), naiveRamp()]) out.push(simulate(s, strategy));
  }
  return out;
}

/** The table (Markdown) and the target checks. */
export function report(results: RunResult[], coldStart: number): { markdown: string; targets: Array<{ name: string; ok: boolean; detail: string }> } {
  const by = (strategy: string, scenario: string) => results.find((r) => r.strategy.startsWith(strategy) && r.scenario === scenario)!;
  const names = [...new Set(results.map((r) => r.strategy))];
  const fmt = (n?: number) => (n === undefined ? 'never' : `${Math.round(n)} s`);
  const rows = names.map((n) => {
    const h = results.find((r) => r.strategy === n && r.scenario === 'healthy')!;
    const f = results.find((r) => r.strategy === n && r.scenario === 'faulty')!;
    const d = results.find((r) => r.strategy === n && r.scenario === 'degrading')!;
    return `| ${n} | ${f.blastRadius} (${f.outcome}) | ${d.blastRadius} (${d.outcome}) | ${fmt(h.timeTo100)} | ${h.overload} | ${h.gpuHours} |`;
  });
  const o = (s: string) => by('ours', s);
  const ratio = (a: number, b: number) => (b === 0 ? Infinity : a / b);
  const targets = [
    { name: 'blast radius <= 1/4 of Flagger (faulty)', ok: ratio(o('faulty').blastRadius, by('Flagger', 'faulty').blastRadius) <= 0.25, detail: `${o('faulty').blastRadius} vs ${by('Flagger', 'faulty').blastRadius} (ratio ${ratio(o('faulty').blastRadius, by('Flagger', 'faulty').blastRadius).toFixed(3)})` },
    { name: 'blast radius <= 1/10 of Baseten-like (faulty)', ok: ratio(o('faulty').blastRadius, by('Baseten', 'faulty').blastRadius) <= 0.1, detail: `${o('faulty').blastRadius} vs ${by('Baseten', 'faulty').blastRadius} (ratio ${ratio(o('faulty').blastRadius, by('Baseten', 'faulty').blastRadius).toFixed(3)})` },
    { name: `no overload with a ${coldStart} s cold start (healthy)`, ok: o('healthy').overload === 0, detail: `${o('healthy').overload} requests without ready capacity` },
    { name: 'time to 100 % <= Baseten-like + cold start', ok: (o('healthy').timeTo100 ?? Infinity) <= (by('Baseten', 'healthy').timeTo100 ?? 0) + coldStart, detail: `${fmt(o('healthy').timeTo100)} vs ${fmt(by('Baseten', 'healthy').timeTo100)} + ${coldStart} s` },
  ];
  const markdown = [
    '| strategy | blast radius, faulty canary (requests) | blast radius, degrading at 8 min | time to 100 %, healthy | overload, healthy (requests) | GPU-hours, healthy (1 h) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| target for ours | met | figures |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.name} | ${t.ok ? 'yes' : 'NO'} | ${t.detail} |`),
  ].join('\n');
  return { markdown, targets };
}

if (require.main === module) {
  const started = Date.now();
  const results = runAll();
  const { markdown } = report(results, 240);
  const outdir = path.join(__dirname, '..', 'results');
  fs.mkdirSync(outdir, { recursive: true });
  const chartScenario = 'degrading';
  const svg = renderChart(results.find((r) => r.strategy.startsWith('ours') && r.scenario === chartScenario)!,
    results.find((r) => r.strategy.startsWith('naive') && r.scenario === chartScenario)!);
  fs.writeFileSync(path.join(outdir, 'rollout-sim.svg'), svg);
  const doc = [
    '# Rollout simulation',
    '',
    'Deterministic, 10 s steps, one hour: 50 requests/s, 5 requests/s per GPU replica, 10 stable replicas, 4-minute cold',
    'start (scale-up to ready), 60 s autoscaler lag. Canary healthy (0.1 % errors), faulty from the start (20 %), or',
    'degrading at 8 minutes (30 %). "Ours" is the real `decide()`; the others follow their documented settings',
    '(bench/rollout-sim/strategies.ts). Blast radius = requests answered by the canary while it was faulty; overload =',
    'requests that found no ready replica.',
    '',
    markdown,
    '',
    `![weight, ready canary replicas and errors over time: ours vs the naive ramp, ${chartScenario} canary](rollout-sim.svg)`,
    '',
    `Reproduce: \`npm run bench\` (this part took ${Date.now() - started} ms).`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(outdir, 'rollout-sim.md'), doc);
  console.log(markdown);
}
