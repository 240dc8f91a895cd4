/**
 * Renders the README's plan chart: the default schedule (the shadow step, then 10 equal steps over 10 minutes, 4
 * stable replicas with one A10G each, as a Gateway API target resolves it) through the same `.rollout.md` mermaid block a reviewer sees, drawn by mermaid in headless Chromium
 * (Debian `chromium`), screenshotted to docs/rollout-plan.png.
 *
 *   node -r ./test/support/register-ts.js docs/render-plan-chart.ts
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computePlan } from '../src/core/plan/plan';
import { renderPlanMarkdown } from '../src/core/plan/render';
import { DEFAULT_SHADOW_MAX_SECONDS } from '../src/core/constants';
import { equalSteps, resolveShadowSteps } from '../src/core/schedule';
import { RolloutSpec } from '../src/core/spec';

const spec: RolloutSpec = {
  name: 'llama-production',
  stable: 'v1',
  canaries: [{ version: 'v2', targetWeight: 100, ramp: true }],
  versions: [{ name: 'v1', gpusPerReplica: 1, gpuProduct: 'A10G' }, { name: 'v2', gpusPerReplica: 1, gpuProduct: 'A10G' }],
  steps: resolveShadowSteps('docs', 'steps', [{ kind: 'shadow', percent: 0, maxSeconds: DEFAULT_SHADOW_MAX_SECONDS, auto: true }, ...equalSteps(10, 600)],
    { canaries: [{ targetWeight: 100 }], stableReplicas: 4, canMirror: true, partialMirror: true },
    { unsupported: () => new Error('unsupported'), partial: () => new Error('partial') }),
  stableReplicas: 4,
  checks: [],
  progressDeadlineSeconds: 900,
} as unknown as RolloutSpec;

const md = renderPlanMarkdown(computePlan(spec));
const block = md.slice(md.indexOf('```mermaid') + '```mermaid'.length, md.lastIndexOf('```')).trim();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-chart-'));
const html = path.join(dir, 'plan.html');
const mermaid = path.join(__dirname, '..', 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
fs.writeFileSync(html, `<!doctype html><html><body style="margin:0;background:#fff"><pre class="mermaid">\n${block}\n</pre>
<script src="file://${mermaid}"></script><script>mermaid.initialize({ startOnLoad: false }); mermaid.run();</script></body></html>`);
const out = path.join(__dirname, 'rollout-plan.png');
execFileSync('chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync',
  `--user-data-dir=${path.join(dir, 'profile')}`, '--allow-file-access-from-files', '--virtual-time-budget=15000',
  '--hide-scrollbars', '--window-size=820,560', `--screenshot=${out}`, `file://${html}`,
], { stdio: 'ignore', timeout: 60_000 });
fs.rmSync(dir, { recursive: true, force: true });
console.log(`wrote ${out}`);
