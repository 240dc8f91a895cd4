/**
 * Notifications: the `Notifier` props as synthesized (the Secret is referenced, never copied; the Role may read
 * that Secret only), and the controller posting phase changes to a loopback HTTP server standing in for a
 * webhook receiver and Slack's incoming webhooks (https://api.slack.com/messaging/webhooks: a JSON POST with
 * `text` and optional `blocks`, answered 200 "ok"), end to end against the kube TWIN with the synthesized Role.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { main } from '../../src/controller/cli/main';
import { runNamespace } from '../../src/controller/k8s/main';
import { NotifierSink } from '../../src/controller/notify';
import { transitions } from '../../src/core/history';
import { STATE_KEY_NOTIFY } from '../../src/core/notifications';
import { CanaryRollout, Model, NotificationEvent, Notifier } from '../../src/k8s';
import { Steps } from '../../src/rollout';
import { KubeTwin, World } from '../support/kube-twin';
import { rolloutSpec } from '../support/spec-fixture';
import { findObject } from '../support/synth';

const NS = 'models';
const MIN = 60_000;

interface Received { readonly path: string; readonly body: any }

/** A loopback receiver: records every POST; `/slow` never answers, `/fail` answers 500. */
async function receiver(): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.url === '/slow') return;
      got.push({ path: req.url!, body: JSON.parse(body) });
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(req.url === '/fail' ? 'boom' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

function manifests(notifications: Notifier[]): any[] {
  const chart = new Chart(Testing.app(), 'Chart', { namespace: NS });
  const m = new Model(chart, 'llama', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: 'llama', image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
  m.addVersion('v2');
  const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, autoscaling: { minReplicas: 1 } });
  new CanaryRollout(chart, 'LlamaRollout', {
    environment: prod,
    canaries: [{ version: 'v2' }],
    defaultChecks: false,
    notifications,
    // notifications of the ramp's steps from the first minutes: no shadow step first
    steps: Steps.equal({ shadowFirst: false }),
  });
  return Testing.synth(chart);
}

describe('notifications as synthesized', () => {
  test('the spec ConfigMap references the Secret (no URL), and the Role may get that Secret only', () => {
    const objects = manifests([
      Notifier.slack({ webhookUrlSecret: { name: 'slack-webhook', key: 'url' } }),
      Notifier.webhook({ url: 'https://alerts.example.com/hooks/rollouts', events: [NotificationEvent.STEP, NotificationEvent.ABORTED] }),
    ]);
    const spec = findObject(objects, 'ConfigMap', 'llama-production-rollout-spec');
    expect(JSON.parse(spec.data[STATE_KEY_NOTIFY])).toEqual([
      { kind: 'slack', urlSecret: { name: 'slack-webhook', key: 'url' }, triggers: ['started', 'paused', 'gateFailed', 'aborted', 'promoted', 'completed'] },
      { kind: 'webhook', url: 'https://alerts.example.com/hooks/rollouts', triggers: ['step', 'aborted'] },
    ]);
    const role = findObject(objects, 'Role', 'llama-production-rollout');
    expect(role.rules).toContainEqual({ apiGroups: [''], resources: ['secrets'], resourceNames: ['slack-webhook'], verbs: ['get'] });
    // without notifiers, nothing changes in the manifests
    const plain = manifests([]);
    expect(findObject(plain, 'ConfigMap', 'llama-production-rollout-spec').data[STATE_KEY_NOTIFY]).toBeUndefined();
    expect(findObject(plain, 'Role').rules.some((r: any) => r.resources.includes('secrets'))).toBe(false);
  });

  test('a webhook without a URL, with two, or a notifier without events is refused with the path and the fix', () => {
    expect(() => manifests([Notifier.webhook({})])).toThrow(/Chart\/LlamaRollout.*notifications\[0\].*neither url nor urlSecret[\s\S]*give `url` for a URL that is no secret/);
    expect(() => manifests([Notifier.webhook({ url: 'https://a.example', urlSecret: { name: 's', key: 'k' } })])).toThrow(/both url and urlSecret/);
    expect(() => manifests([Notifier.webhook({ url: 'ftp://a.example' })])).toThrow(/not an http\(s\) URL/);
    expect(() => manifests([Notifier.slack({ webhookUrlSecret: { name: 's', key: 'k' }, events: [] })])).toThrow(/subscribes to no event/);
  });
});

describe('notifications from the controller', () => {
  let twin: KubeTwin;
  let rx: Awaited<ReturnType<typeof receiver>>;
  beforeEach(async () => {
    twin = await KubeTwin.start();
    rx = await receiver();
    twin.seedNamespaces(NS, 'gateways');
  });
  afterEach(async () => {
    await twin.stop();
    await rx.close();
  });

  test('a webhook and Slack get the phase changes they subscribe to, Slack\'s URL read from its Secret', async () => {
    // GIVEN a rollout with a webhook on every event and Slack on the defaults, Slack's URL in a Secret
    const all = Object.values(NotificationEvent);
    for (const o of manifests([
      Notifier.webhook({ url: `${rx.url}/hook`, events: all }),
      Notifier.slack({ webhookUrlSecret: { name: 'slack-webhook', key: 'url' } }),
    ])) twin.seed(o);
    twin.seed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'slack-webhook', namespace: NS }, data: { url: Buffer.from(`${rx.url}/services/T000/B000/XXXX\n`).toString('base64') } });
    const world = new World(twin);
    world.reconcile();
    const conn = { server: twin.url, token: twin.serviceAccountToken(NS, 'model-rollout-controller-chart') };
    const kubeconfig = twin.writeKubeconfig(fs.mkdtempSync(path.join(os.tmpdir(), 'notify-')), twin.adminToken, NS);
    let now = 0;
    const logs: any[] = [];
    const tick = async () => {
      await runNamespace(conn, { ROLLOUT_NAMESPACE: NS }, now, (l) => logs.push(l));
      world.reconcile();
      now += MIN;
    };
    // WHEN the rollout starts, steps, is paused and aborted
    for (let i = 0; i < 3; i++) await tick();
    await main(['pause', 'llama-production', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
    await tick();
    await main(['abort', 'llama-production', '--kube', '--kubeconfig', kubeconfig], {}, () => undefined);
    await tick();
    await tick();
    // THEN the webhook got every change, in order, as JSON documents
    const hook = rx.got.filter((r) => r.path === '/hook').map((r) => r.body);
    expect(hook.map((b) => b.event).filter((e) => e !== 'step')).toEqual(['started', 'paused', 'aborted']);
    expect(hook.filter((b) => b.event === 'step').length).toBeGreaterThan(0);
    expect(hook.find((b) => b.event === 'aborted')).toMatchObject({
      rollout: 'llama-production',
      namespace: NS,
      reason: 'RolloutAborted',
      type: 'Warning',
      phase: 'aborted',
      weights: { v1: 100, v2: 0 },
      stable: 'v1',
      canaries: ['v2'],
      message: expect.stringContaining('cancelled by command'),
    });
    // AND Slack got the defaults (no steps), as incoming-webhook payloads: text plus blocks
    const slack = rx.got.filter((r) => r.path === '/services/T000/B000/XXXX').map((r) => r.body);
    expect(slack.map((b) => b.text.split(' ')[0])).toEqual([':rocket:', ':double_vertical_bar:', ':rotating_light:']);
    for (const b of slack) {
      expect(Object.keys(b).sort()).toEqual(['blocks', 'text']);
      expect(b.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    }
    expect(slack[2].text).toMatch(/^:rotating_light: models\/llama-production: llama-production aborted: cancelled by command/);
    // AND the Role allowed it all, and no notifier failed
    expect(twin.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(logs.filter((l) => String(l.msg ?? '').startsWith('events not published'))).toEqual([]);
    console.log(`notifications: webhook ${hook.length} (${[...new Set(hook.map((b) => b.event))].join(', ')}), slack ${slack.length}`);
  });

  test('a notifier that fails or hangs costs at most its deadline, and its URL stays out of the logs', async () => {
    const spec = rolloutSpec();
    const state = { specHash: 'h', phase: 'aborted' as const, stepIndex: 2, stepStartedAt: 0, weights: { v1: 100, v2: 0 }, floors: {}, checkFailures: 0, updatedAt: 0, reason: 'check failed' };
    const events = transitions(spec, { ...state, phase: 'progressing' }, state, 'abort: check failed');
    const sink = new NotifierSink([
      { kind: 'webhook', url: `${rx.url}/fail`, triggers: ['aborted'] },
      { kind: 'slack', urlSecret: { name: 'slack', key: 'url' }, triggers: ['aborted'] },
      { kind: 'webhook', url: `${rx.url}/hook`, triggers: ['aborted'] },
    ], async () => `${rx.url}/slow`, NS, 200);
    const started = Date.now();
    const error = await sink.publish(spec, state, events).then(() => undefined, (e: Error) => e.message);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatch(/webhook notifier 1 \(its URL\): POST <path>: HTTP 500: boom; slack notifier 2 \(Secret slack\/url\): POST <path> \(127\.0\.0\.1:\d+\): no complete answer within/);
    expect(error).not.toContain('/slow');
    // the healthy notifier was served regardless
    expect(rx.got.filter((r) => r.path === '/hook').map((r) => r.body.event)).toEqual(['aborted']);
  });
});
