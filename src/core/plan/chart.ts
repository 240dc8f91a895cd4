/**
 * The plan's chart, as a mermaid `xychart-beta` block (GitHub renders it in pull requests).
 *
 * mermaid spaces xychart points evenly whatever their labels (the x-axis is categorical:
 * https://mermaid.js.org/syntax/xyChart, mermaid-js discussion #7882), so the weights are sampled at a fixed
 * interval: the time axis is then proportional, and a weight change between two samples draws as an almost
 * vertical edge, so steps look like steps. xychart has no legend: the lines get fixed colours (an init directive)
 * and the Markdown says which is which. A plan that lasts no time (a fixed split) is drawn as bars.
 */
import { formatSeconds, PlanData } from './plan';
import { planSegments } from './segments';

/** Line colours, in the order of the lines: stable, canaries, then the mirror. */
export const CHART_COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#6b7280'];
const COLOUR_NAMES = ['blue', 'red', 'green', 'purple', 'orange', 'teal', 'grey'];
/** Most samples per line: enough for steps to look vertical, few enough for a readable diff. */
const MAX_SAMPLES = 120;

/** One line of the chart. */
export interface ChartLine {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly number[];
}

/** The sampled chart: the interval between samples and one line per weighted version (and the mirror). */
export interface ChartData {
  readonly intervalSeconds: number;
  readonly lines: readonly ChartLine[];
}

/** Sample the plan's weights every `intervalSeconds`, from 0 to its end. */
export function sampleChart(plan: PlanData): ChartData {
  const segments = planSegments(plan);
  const interval = niceInterval(plan.totalSeconds);
  const samples = plan.totalSeconds > 0 ? Math.floor(plan.totalSeconds / interval) + 1 : 1;
  const at = (t: number) => {
    let current = segments[0];
    for (const s of segments) if (s.atSeconds <= t) current = s;
    return current;
  };
  const versions = [plan.stable, ...plan.canaries];
  const lines: ChartLine[] = versions.map((v, i) => ({
    label: i === 0 ? `${v} (stable)` : v,
    colour: CHART_COLOURS[i % CHART_COLOURS.length],
    values: Array.from({ length: samples }, (_, k) => at(k * interval).weights[v] ?? 0),
  }));
  if (plan.mirror) {
    lines.push({
      label: `${plan.mirror.version} (mirror, copies)`,
      colour: CHART_COLOURS[versions.length % CHART_COLOURS.length],
      values: Array.from({ length: samples }, () => plan.mirror!.percent),
    });
  }
  return { intervalSeconds: interval, lines };
}

/** The chart as a mermaid block and a legend line. */
export function renderChart(plan: PlanData): string[] {
  const data = sampleChart(plan);
  const palette = data.lines.map((l) => l.colour).join(', ');
  const init = `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}"}}}}%%`;
  const legend = `Legend: ${data.lines.map((l, i) => `${l.label} ${COLOUR_NAMES[CHART_COLOURS.indexOf(l.colour)] ?? `line ${i + 1}`}`).join(', ')}.`;
  if (plan.totalSeconds === 0) {
    // a fixed split: nothing moves, so the chart shows the split itself
    const labels = data.lines.map((l) => JSON.stringify(l.label));
    return [
      `${legend} The split holds from the start: no step moves it.`,
      '',
      '```mermaid',
      init,
      'xychart-beta',
      `  title "${plan.name}: traffic weight (%), held"`,
      `  x-axis [${labels.join(', ')}]`,
      '  y-axis "weight %" 0 --> 100',
      `  bar [${data.lines.map((l) => l.values[0]).join(', ')}]`,
      '```',
    ];
  }
  const minutes = plan.totalSeconds / 60;
  return [
    `${legend} The time axis is proportional (one sample every ${formatSeconds(data.intervalSeconds)}); times assume every gate passes at once and manual pauses are released at once.`,
    '',
    '```mermaid',
    init,
    'xychart-beta',
    `  title "${plan.name}: traffic weight (%) over time"`,
    `  x-axis "minutes" 0 --> ${round(minutes)}`,
    '  y-axis "weight %" 0 --> 100',
    ...data.lines.map((l) => `  line [${l.values.join(', ')}]`),
    '```',
  ];
}

/** A sampling interval that divides the duration into at most MAX_SAMPLES parts: whole seconds, a tick at most. */
function niceInterval(totalSeconds: number): number {
  if (totalSeconds <= 0) return 60;
  const raw = totalSeconds / MAX_SAMPLES;
  const nice = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600].find((n) => n >= raw);
  return nice ?? Math.ceil(raw / 3600) * 3600;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
