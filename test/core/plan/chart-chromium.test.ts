/**
 * The plan's chart as a reviewer sees it: the mermaid block of `.rollout.md` rendered by the real mermaid (the
 * library GitHub uses for Markdown diagrams) in real headless Chromium (Debian package `chromium`), read back from
 * the rendered SVG. Chromium runs with the flags this machine's closed network needs (no background networking).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computePlan, PlanData } from '../../../src/core/plan/plan';
import { renderPlanMarkdown } from '../../../src/core/plan/render';
import { equalSteps } from '../../../src/core/schedule';
import { RolloutSpec } from '../../../src/core/spec';
import { REPO_ROOT } from '../../support/paths';
import { rolloutSpec } from '../../support/spec-fixture';

const chromium = ['chromium', 'chromium-browser'].map((b) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${b}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}).find(Boolean);
const MERMAID = path.join(REPO_ROOT, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');

/**
 * Render the mermaid block of each plan in Chromium, all in one page (one browser start: ~1.5 s each), each in a
 * container of its own; the DOM after rendering, and each chart's part of it.
 */
function renderInChromium(plans: readonly PlanData[]): { dom: string; charts: string[] } {
  const blocks = plans.map((plan) => {
    const md = renderPlanMarkdown(plan);
    return md.slice(md.indexOf('```mermaid') + '```mermaid'.length, md.lastIndexOf('```')).trim();
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-chart-'));
  const html = path.join(dir, 'plan.html');
  fs.writeFileSync(html, `<!doctype html><html><body>${blocks.map((b, i) => `<div id="chart-${i}"><pre class="mermaid">\n${b}\n</pre></div>`).join('')}<div id="chart-end"></div>
<script src="file://${MERMAID}"></script>
<script>mermaid.initialize({ startOnLoad: false });
mermaid.run().then(() => document.body.setAttribute('data-done', '1')).catch((e) => document.body.setAttribute('data-error', String(e)));</script>
</body></html>`);
  try {
    const dom = execFileSync(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, '--allow-file-access-from-files',
      '--virtual-time-budget=15000', '--window-size=1000,700', '--dump-dom', `file://${html}`,
    ], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const at = (id: string) => dom.indexOf(`<div id="${id}">`);
    return { dom, charts: blocks.map((_, i) => dom.slice(at(`chart-${i}`), at(i + 1 < blocks.length ? `chart-${i + 1}` : 'chart-end'))) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The plotted lines: colour and points. */
function plotLines(dom: string): Array<{ colour: string; points: Array<[number, number]> }> {
  return [...dom.matchAll(/<path d="(M[\d.,L]+)" fill="none" stroke="(#[0-9a-f]{6})"/g)].map((m) => ({
    colour: m[2],
    points: m[1].slice(1).split('L').map((p) => p.split(',').map(Number) as [number, number]),
  }));
}

// 1 minute at 0 %, then a 10-minute pause at 10 %, then 2 more one-minute steps: uneven on purpose
const spec: RolloutSpec = rolloutSpec({
  path: 'App/Chart/Rollout',
  versions: [{ name: 'v1', gpusPerReplica: 1 }, { name: 'v2', gpusPerReplica: 1 }, { name: 'v3', gpusPerReplica: 1 }],
  steps: [{ kind: 'pause', seconds: 60 }, { kind: 'setWeight', weight: 10 }, { kind: 'pause', seconds: 600 }, ...equalSteps(2, 120)],
  stableReplicas: 2,
  checkFailureLimit: 0,
  mirror: { version: 'v3', percent: 5 },
});

if (!chromium) {
  test('the chart test needs headless Chromium', () => {
    if (process.env.CI) throw new Error('chromium is not installed: .ci/run installs the Debian package `chromium`');
    console.warn('SKIPPED: the plan chart was not rendered in Chromium (install the Debian package `chromium`)');
    expect(chromium).toBeUndefined();
  });
} else {
  describe('the plan chart rendered by mermaid in headless Chromium', () => {
    // the two plans' charts, rendered together when the first test asks
    const fixed = computePlan({ ...spec, mirror: undefined, canaries: [{ version: 'v2', targetWeight: 30, ramp: false }], steps: [{ kind: 'setWeight', weight: 100 }] });
    let rendered: { dom: string; charts: string[] } | undefined;
    const render = () => (rendered ??= renderInChromium([computePlan(spec), fixed]));

    test('draws the stable line, the canary and the mirror in their legend colours, on a proportional time axis', () => {
      const { dom, charts } = render();
      expect(dom).toContain('data-done="1"');
      expect(charts[0]).toContain('<svg');
      const lines = plotLines(charts[0]);
      expect(lines.map((l) => l.colour)).toEqual(['#2563eb', '#dc2626', '#16a34a']);
      const [stable, canary, mirror] = lines;
      // evenly spaced samples: equal x distances between points
      const xs = canary.points.map((p) => p[0]);
      const gaps = xs.slice(1).map((x, i) => x - xs[i]);
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThan(0.01);
      // the first rise (1:00) and the next one (12:00, after the 10-minute pause and a minute) sit at 1/13 and 12/13
      const x0 = xs[0];
      const width = xs[xs.length - 1] - x0;
      const y = canary.points.map((p) => p[1]);
      const firstRise = canary.points[y.findIndex((v) => v < y[0])][0];
      const secondRise = canary.points[y.findIndex((v) => v < y[y.findIndex((w) => w < y[0])])][0];
      expect((firstRise - x0) / width).toBeCloseTo(1 / 13, 1);
      expect((secondRise - x0) / width).toBeCloseTo(12 / 13, 1);
      // the stable line is drawn (it starts at the top) and the mirror is a flat line
      expect(stable.points[0][1]).toBeLessThan(canary.points[0][1]);
      expect(new Set(mirror.points.map((p) => p[1])).size).toBe(1);
    });

    test('a fixed split that lasts no time renders as bars', () => {
      const { dom, charts } = render();
      expect(dom).toContain('data-done="1"');
      expect(charts[1]).toContain('<svg');
      const bars = [...charts[1].matchAll(/<rect[^>]*class="[^"]*bar[^"]*"|<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"[^>]*fill="#/g)];
      expect(bars.length).toBeGreaterThanOrEqual(2);
    });
  });
}
