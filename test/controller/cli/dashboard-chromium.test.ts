/**
 * `model-rollout dashboard` in real headless Chromium (Debian `chromium`, driven over the DevTools pipe) against
 * the cluster twin (test/support/cluster-scenario.ts): the synthesized manifests applied with the real kubectl, the
 * real controller ticking. The page shows the rollout, follows the controller's ticks, and a cancel clicked on the
 * page (confirmed in its dialog) is stored in the rollout's command queue and handled by the next tick.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { CHROMIUM, ChromiumPage } from './chromium-pipe';
import { serveDashboard } from '../../../src/controller/cli/main';
import { STATE_KEY_COMMAND } from '../../../src/core/constants';
import { CanaryRollout, Model } from '../../../src/k8s';
import { Gpu, GpuProduct, Steps } from '../../../src/rollout';
import { ClusterScenario } from '../../support/cluster-scenario';
import { findTool } from '../../support/kube-twin';

const NS = 'models';
const HOST = 'llm.example.com';
const ROLLOUT = 'llm-production';
const kubectl = findTool('kubectl');

function manifests() {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llm', image: 'vllm/vllm-openai:v0.6.3', port: 8000, gpu: Gpu.nvidia({ product: GpuProduct.L4 }) });
  model.addVersion('v2');
  const production = model.addEnvironment('production', {
    version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, hostnames: [HOST], autoscaling: { minReplicas: 2, maxReplicas: 4 },
  });
  const rollout = new CanaryRollout(chart, 'Rollout', {
    environment: production, canaries: [{ version: 'v2' }], steps: Steps.equal({ count: 5, over: Duration.minutes(10), shadowFirst: false }), defaultChecks: false,
  });
  return { objects: Testing.synth(chart), plan: rollout.plan._data() };
}

const text = (page: ChromiumPage, field: string) => page.evaluate<string>(`document.querySelector('[data-rollout="${ROLLOUT}"] [data-field="${field}"]')?.textContent ?? ''`);

if (!CHROMIUM || !kubectl) {
  test('the dashboard test needs headless Chromium and kubectl', () => {
    if (process.env.CI) throw new Error('chromium and kubectl are installed by .ci/run (Debian packages chromium, kubernetes-client)');
    console.warn('SKIPPED: the dashboard was not rendered in Chromium (install the Debian packages chromium and kubernetes-client)');
    expect(CHROMIUM && kubectl).toBeFalsy();
  });
} else {
  test('shows the rollout, follows the controller\'s ticks, and a cancel from the page is stored and handled', async () => {
    const c = await ClusterScenario.start({ namespace: NS, host: HOST, rps: 5, coldStartSeconds: 30, kubectl: kubectl! });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-'));
    let page: ChromiumPage | undefined;
    let dashboard: Awaited<ReturnType<typeof serveDashboard>> | undefined;
    try {
      const m = manifests();
      await c.apply(m.objects);
      c.seconds(60);
      c.watch(m.plan, ROLLOUT);
      await c.run(3);
      // the dashboard as an operator starts it: their kubeconfig, the namespace, any free loopback port
      const kubeconfig = c.twin.writeKubeconfig(dir, c.twin.adminToken, NS);
      dashboard = await serveDashboard({ kube: true, kubeconfig, namespace: NS, port: '0' }, {}, { pollMs: 300, now: () => c.world.time * 1000 });
      expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      page = await ChromiumPage.start();
      await page.navigate(dashboard.url);
      await page.waitFor(`document.querySelector('[data-rollout="${ROLLOUT}"]')`);
      // THEN the page shows what the controller recorded: phase, weights, replicas per version, the plan and the weights so far
      const weightsOf = () => Object.entries(c.state(ROLLOUT).weights as Record<string, number>).map(([v, w]) => `${v} ${w}%`).join(', ');
      expect(await text(page, 'phase')).toBe('progressing');
      expect(await text(page, 'weights')).toBe(weightsOf());
      const card = await page.evaluate<string>(`document.querySelector('[data-rollout="${ROLLOUT}"]').innerText`);
      expect(card).toMatch(/replicas\s+v1 \d+\/\d+ ready, v2 \d+\/\d+ ready/);
      expect(await page.evaluate(`document.querySelector('[data-chart="${ROLLOUT}"] [data-line="plan"]') !== null`)).toBe(true);
      expect(await page.evaluate(`document.querySelector('[data-chart="${ROLLOUT}"] [data-line="actual"]') !== null`)).toBe(true);
      if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot(process.env.DASHBOARD_SCREENSHOT);

      // WHEN the controller ticks on, THEN the page follows
      const before = c.state(ROLLOUT).weights.v2;
      await c.run(2);
      expect(c.state(ROLLOUT).weights.v2).toBeGreaterThan(before);
      await page.waitFor(`document.querySelector('[data-rollout="${ROLLOUT}"] [data-field="weights"]').textContent === ${JSON.stringify(weightsOf())}`);

      // WHEN the operator clicks cancel and confirms, THEN the command is stored, shown as queued, and handled by the next tick
      await page.evaluate(`document.querySelector('[data-rollout="${ROLLOUT}"] button[data-command="cancel"]').click()`);
      await page.waitFor(`document.querySelector('[data-rollout="${ROLLOUT}"] [data-field="queued"]').textContent.startsWith('cancel #1')`);
      expect(page.dialogs).toEqual([expect.stringMatching(/^Send "cancel" to llm-production\?/)]);
      const queue = JSON.parse((c.twin.object('v1', 'ConfigMap', NS, `${ROLLOUT}-rollout-state`) as any).data[STATE_KEY_COMMAND]);
      expect(queue).toEqual([expect.objectContaining({ kind: 'cancel', seq: 1 })]);
      await c.run(1);
      expect(c.state(ROLLOUT).phase).toBe('aborted');
      await page.waitFor(`document.querySelector('[data-rollout="${ROLLOUT}"]').getAttribute('data-phase') === 'aborted'`);
      expect(await text(page, 'queued')).toBe('none');
    } finally {
      await page?.close();
      await dashboard?.close();
      await c.stop();
    }
  }, 180_000);
}
