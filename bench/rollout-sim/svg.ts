/**
 * A small SVG line chart: canary weight, ready canary replicas and canary errors over time, for two runs.
 */
import { RunResult } from './sim';

export function renderChart(a: RunResult, b: RunResult): string {
  const W = 900;
  const H = 420;
  const m = { l: 60, r: 20, t: 40, b: 60 };
  const horizon = Math.min(1800, Math.max(...a.series.map((s) => s.t)));
  const x = (t: number) => m.l + (t / horizon) * (W - m.l - m.r);
  const y = (v: number, max: number) => H - m.b - (v / max) * (H - m.t - m.b);
  const maxReplicas = Math.max(10, ...a.series.map((s) => s.canaryReady), ...b.series.map((s) => s.canaryReady));
  const maxErrors = Math.max(1, ...a.series.map((s) => s.errors), ...b.series.map((s) => s.errors));
  const line = (r: RunResult, f: (s: RunResult['series'][0]) => number, max: number) =>
    r.series.filter((s) => s.t <= horizon).map((s, i) => `${i === 0 ? 'M' : 'L'}${x(s.t).toFixed(1)},${y(f(s), max).toFixed(1)}`).join(' ');
  const series = [
    { d: line(a, (s) => s.weight, 100), color: '#1f77b4', dash: '', label: `${a.strategy}: weight %` },
    { d: line(a, (s) => s.canaryReady, maxReplicas), color: '#2ca02c', dash: '', label: `${a.strategy}: ready canary replicas (max ${maxReplicas})` },
    { d: line(a, (s) => s.errors, maxErrors), color: '#d62728', dash: '', label: `${a.strategy}: canary errors per 10 s (max ${maxErrors.toFixed(0)})` },
    { d: line(b, (s) => s.weight, 100), color: '#1f77b4', dash: '6,4', label: `${b.strategy}: weight %` },
    { d: line(b, (s) => s.canaryReady, maxReplicas), color: '#2ca02c', dash: '6,4', label: `${b.strategy}: ready canary replicas` },
    { d: line(b, (s) => s.errors, maxErrors), color: '#d62728', dash: '6,4', label: `${b.strategy}: canary errors per 10 s` },
  ];
  const ticks = [];
  for (let t = 0; t <= horizon; t += 300) {
    ticks.push(`<line x1="${x(t)}" y1="${H - m.b}" x2="${x(t)}" y2="${H - m.b + 5}" stroke="#333"/><text x="${x(t)}" y="${H - m.b + 20}" font-size="11" text-anchor="middle">${t / 60} min</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 110}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${m.l}" y="24" font-size="14">Canary ${a.scenario}: ${a.strategy} (solid) vs ${b.strategy} (dashed)</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${m.l - 8}" y="${m.t + 4}" font-size="11" text-anchor="end">100 %</text>`,
    ...ticks,
    ...series.map((s) => `<path d="${s.d}" fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`),
    ...series.map((s, i) => `<g transform="translate(${m.l + (i % 2) * 420},${H + 10 + Math.floor(i / 2) * 18})"><line x1="0" y1="-4" x2="24" y2="-4" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/><text x="30" y="0" font-size="11">${s.label}</text></g>`),
    '</svg>',
    '',
  ].join('\n');
}
