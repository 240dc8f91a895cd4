/**
 * Phase changes on Kubernetes, end to end against the kube TWIN (test/support/kube-twin: the API server with the
 * synthesized Role enforced) with exactly the objects the constructs synthesize: the namespace controller ticks,
 * the CLI pauses, aborts and retries, and each phase change becomes a core/v1 Event about the state ConfigMap
 * and a `model-rollout.dev/status` annotation on the HTTPRoute; `history` shows the trail. No request is refused.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { main } from '../../../src/controller/cli/main';
import { KubeClient } from '../../../src/controller/k8s/kube-client';
import { runNamespace } from '../../../src/controller/k8s/main';
import { ANNOTATION_STATUS } from '../../../src/core/history';
import { CanaryRollout, Model } from '../../../src/k8s';
import { KubeTwin, World } from '../../support/kube-twin';

const NS = 'models';
const MIN = 60_000;

function manifests(): any[] {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  const m = new Model(chart, 'llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
  m.addVersion('v2');
  const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, autoscaling: { minReplicas: 1 } });
  new CanaryRollout(chart, 'LlamaRollout', { environment: prod, canaries: [{ version: 'v2' }], defaultChecks: false });
  return Testing.synth(chart);
}

describe('events and the status annotation', () => {
  let twin: KubeTwin;
  beforeEach(async () => {
    twin = await KubeTwin.start();
    twin.seedNamespaces(NS, 'gateways');
  });
  afterEach(async () => twin.stop());

  test('each phase change is one Event on the state ConfigMap and the route carries the status; the CLI drives pause, abort and retry', async () => {
    // GIVEN the synthesized rollout in the twin
    for (const o of manifests()) twin.seed(o);
    const world = new World(twin);
    world.reconcile();
    const conn = { server: twin.url, token: twin.serviceAccountToken(NS, 'model-rollout-controller-chart') };
    const admin = new KubeClient({ server: twin.url, token: twin.adminToken });
    const kubeconfig = twin.writeKubeconfig(fs.mkdtempSync(path.join(os.tmpdir(), 'events-')), twin.adminToken, NS);
    const cli = async (...argv: string[]) => {
      let text = '';
      const code = await main([...argv, '--kube', '--kubeconfig', kubeconfig], {}, (s) => { text += s; }, () => now);
      return { code, text };
    };
    let now = 0;
    const tick = async () => {
      await runNamespace(conn, { ROLLOUT_NAMESPACE: NS }, now, () => undefined);
      world.reconcile();
      now += MIN;
    };
    // WHEN the controller ticks, a person pauses, resumes, aborts and retries, and the rollout goes on to the end
    for (let i = 0; i < 3; i++) await tick();
    expect((await cli('pause', 'llama-production')).code).toBe(0);
    await tick();
    await tick();
    expect((await cli('resume', 'llama-production')).code).toBe(0);
    await tick();
    expect((await cli('abort', 'llama-production')).code).toBe(0);
    await tick();
    await tick();
    expect((await cli('retry', 'llama-production')).code).toBe(0);
    for (let i = 0; i < 20; i++) await tick();

    // THEN the Events, oldest first, name each change once, about the state ConfigMap (with its uid)
    const stateCm = twin.object('v1', 'ConfigMap', NS, 'llama-production-rollout-state') as any;
    const events = ((await admin.get(`/api/v1/namespaces/${NS}/events`)) as any).items
      .filter((e: any) => e.involvedObject?.name === 'llama-production-rollout-state')
      .sort((a: any, b: any) => a.firstTimestamp.localeCompare(b.firstTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
    const reasons = events.map((e: any) => e.reason);
    expect(reasons.filter((r: string) => r !== 'StepAdvanced')).toEqual([
      'RolloutStarted', 'RolloutPaused', 'RolloutResumed', 'RolloutAborted', 'RolloutRetried', 'RolloutPromoted',
    ]);
    expect(reasons.filter((r: string) => r === 'StepAdvanced').length).toBeGreaterThan(3);
    for (const e of events) {
      expect(e.involvedObject).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, uid: stateCm.metadata.uid });
      expect(e.type).toBe(e.reason === 'RolloutAborted' ? 'Warning' : 'Normal');
      expect(e.source.component).toBe('model-rollout-controller');
    }
    expect(events.find((e: any) => e.reason === 'RolloutAborted').message).toMatch(/llama-production aborted: cancelled by command/);
    // AND the route's annotation says where the rollout is, as the state does
    const route = twin.object('gateway.networking.k8s.io/v1', 'HTTPRoute', NS, 'llama-production') as any;
    const status = JSON.parse(route.metadata.annotations[ANNOTATION_STATUS]);
    const state = JSON.parse(stateCm.data['state.json']);
    expect(status).toMatchObject({ rollout: 'llama-production', phase: 'promoted', weights: state.weights, step: state.stepIndex, updatedAt: expect.any(String) });
    // AND history shows the same trail (the abort and the retry with their reasons)
    const history = await cli('history', 'llama-production');
    expect(history.text).toMatch(/aborted\s+\S+\s+v1=100,v2=0\s+\[RolloutAborted\] .*cancelled by command/);
    expect(history.text).toMatch(/\[RolloutRetried\] .*retry: restarting from the first step/);
    // AND the synthesized Role allowed every request (the twin enforces it)
    expect(twin.requests.filter((r) => r.status === 403)).toEqual([]);
    console.log(`events: ${events.length} (${[...new Set(reasons)].join(', ')}); history entries: ${state.history.length}, ${JSON.stringify(state.history).length} bytes`);
  });
});
