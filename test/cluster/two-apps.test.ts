/**
 * Two apps in one namespace (the GitOps layout: one Argo CD Application or Flux Kustomization per model), each built
 * with a different library version: synthesized, applied with the REAL kubectl to the kube twin (a loopback API
 * server enforcing the synthesized RBAC), and each app's CronJob container run as the kubelet runs it
 * (test/support/kubelet.ts: the bundle from its code ConfigMap, its env, its service-account mount, the API over
 * TLS). Syncing one app leaves every object of the other as it was; deleting one app leaves the other's controller
 * ticking its rollouts, a `cancel` included.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Duration, Testing, Yaml } from 'cdk8s';
import { ConfigMapStore } from '../../src/controller/k8s/adapter';
import { KubeClient } from '../../src/controller/k8s/kube-client';
import { ANNOTATION_BUNDLE_SHA256, specConfigMapName, STATE_KEY_STATE, stateConfigMapName } from '../../src/core/constants';
import { hashString } from '../../src/core/hash';
import { CanaryRollout, Model } from '../../src/k8s';
import { findTool, KubeTwin, kubectlCacheDir, World } from '../support/kube-twin';
import { podRunnerUnavailable, runPod } from '../support/kubelet';
import { hasOpenssl } from '../support/test-ca';
import { startTlsFront, TlsFront } from '../support/tls-front';

const NS = 'models';
const kubectl = findTool('kubectl');

/** One team's app: its own chart (Argo CD Application) with one rollout to v2, no checks, one tick a minute. */
function synthApp(chartId: string, model: string, tickSeconds = 60): any[] {
  const chart = new Chart(Testing.app() as App, chartId, { namespace: NS });
  const m = new Model(chart, model, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: model, image: 'vllm/vllm-openai:v0.6.3', port: 8000 });
  m.addVersion('v2');
  const prod = m.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' }, autoscaling: { minReplicas: 1 } });
  new CanaryRollout(chart, `${model}Rollout`, { environment: prod, canaries: [{ version: 'v2' }], defaultChecks: false, tickInterval: Duration.seconds(tickSeconds) });
  return Testing.synth(chart);
}

/**
 * The same app as an older library version would ship it: another controller bundle (this one with a trailing
 * comment, so another sha256 and code ConfigMap name), referenced by its CronJob as the constructs reference theirs.
 */
function asOtherLibraryVersion(objects: any[]): any[] {
  const code = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['controller.js']);
  const source = `${code.data['controller.js']}\n// another library version\n`;
  const sha = hashString(source);
  const oldName = code.metadata.name;
  const newName = `${oldName.slice(0, oldName.lastIndexOf('-'))}-${sha.slice(0, 10)}`;
  code.data['controller.js'] = source;
  code.metadata.name = newName;
  code.metadata.annotations[ANNOTATION_BUNDLE_SHA256] = sha;
  const cron = objects.find((o) => o.kind === 'CronJob');
  for (const v of cron.spec.jobTemplate.spec.template.spec.volumes) if (v.configMap?.name === oldName) v.configMap.name = newName;
  return objects;
}

const unavailable = [...(kubectl ? [] : ['kubectl']), ...(hasOpenssl ? [] : ['openssl']), ...(podRunnerUnavailable() ? [podRunnerUnavailable()!] : [])];

if (unavailable.length > 0 && !process.env.CI) {
  test('SKIPPED: the two-apps test needs kubectl, openssl and root; CI runs it', () => {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED: test/cluster/two-apps.test.ts cannot run here: ${unavailable.join('; ')}`);
    expect(unavailable.length).toBeGreaterThan(0);
  });
} else {
  describe('two apps, two library versions, one namespace', () => {
    let twin: KubeTwin;
    let front: TlsFront;
    let dir: string;
    let kubeconfig: string;
    const apps = {
      llama: asOtherLibraryVersion(synthApp('llama-app', 'llama')),
      qwen: synthApp('qwen-app', 'qwen'),
      // ticking every 10 s: its pod stays up for the minute
      gemma: synthApp('gemma-app', 'gemma', 10),
    };

    const kubectlRun = (...args: string[]) => new Promise<void>((resolve, reject) => execFile(kubectl!, [
      '--kubeconfig', kubeconfig, '--cache-dir', kubectlCacheDir(), ...args,
    ], { timeout: 60_000 }, (error, _out, stderr) => (error ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve())));
    const file = (app: keyof typeof apps) => {
      const f = path.join(dir, `${app}.yaml`);
      fs.writeFileSync(f, Yaml.stringify(...apps[app]));
      return f;
    };
    const sync = (app: keyof typeof apps) => kubectlRun('apply', '-f', file(app));
    /** Run the app's CronJob pod as applied until it exits (one pass: nothing is progressing past its first tick). */
    const runJob = async (app: keyof typeof apps) => {
      const cronJob = apps[app].find((o) => o.kind === 'CronJob');
      const applied = twin.object('batch/v1', 'CronJob', NS, cronJob.metadata.name) as any;
      expect(applied).toBeDefined();
      const pod = runPod({ twin, apiServer: front, namespace: NS, podSpec: applied.spec.jobTemplate.spec.template.spec });
      const code = await Promise.race([pod.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 70_000))]);
      await pod.stop();
      return { code, stdout: pod.stdout.map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } }), user: `system:serviceaccount:${NS}:${cronJob.metadata.name}` };
    };
    const state = (rollout: string) => {
      const raw = (twin.object('v1', 'ConfigMap', NS, stateConfigMapName(rollout)) as any)?.data?.[STATE_KEY_STATE];
      return raw ? JSON.parse(raw) : undefined;
    };
    const versions = () => Object.fromEntries(apps.qwen.map((o) => [`${o.kind}/${o.metadata.name}`, (twin.object(o.apiVersion, o.kind, NS, o.metadata.name) as any)?.metadata.resourceVersion]));

    beforeAll(async () => {
      if (unavailable.length > 0) throw new Error(`cannot run: ${unavailable.join('; ')}; .ci/run installs what CI needs`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'two-apps-'));
      twin = await KubeTwin.start();
      twin.seedNamespaces(NS, 'gateways');
      front = await startTlsFront(Number(new URL(twin.url).port));
      kubeconfig = twin.writeKubeconfig(dir, twin.adminToken, NS);
    });

    afterAll(async () => {
      await front?.close();
      await twin?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('each app\'s controller ticks its own rollouts; syncing one changes nothing of the other; deleting one leaves the other working', async () => {
      // GIVEN both apps synced, and their Deployments ready (the world's kubelet)
      await sync('qwen');
      await sync('llama');
      new World(twin).reconcile();
      // WHEN each app's CronJob runs
      const [llama, qwen] = [await runJob('llama'), await runJob('qwen')];
      // THEN each ticked its own rollout only, and exited 0
      expect([llama.code, qwen.code]).toEqual([0, 0]);
      expect(state('llama-production')?.phase).toBe('progressing');
      expect(state('qwen-production')?.phase).toBe('progressing');
      const touched = (user: string) => new Set(twin.requests.filter((r) => r.user === user && /-rollout-(spec|state)$/.test(r.path)).map((r) => r.path.split('/')[6].replace(/-rollout-(spec|state)$/, '')));
      expect([...touched(llama.user)]).toEqual(['llama-production']);
      expect([...touched(qwen.user)]).toEqual(['qwen-production']);
      expect(twin.requests.filter((r) => r.status === 403)).toEqual([]);

      // WHEN the llama app is synced again (another library version): THEN no object of the qwen app moved
      const before = versions();
      await sync('llama');
      expect(versions()).toEqual(before);

      // WHEN the llama app is deleted (Argo CD deletes an Application's resources)
      await kubectlRun('delete', '-f', file('llama'), '--wait=false');
      expect(twin.object('batch/v1', 'CronJob', NS, apps.llama.find((o) => o.kind === 'CronJob').metadata.name)).toBeUndefined();
      // AND a cancel comes for the qwen rollout
      const admin = new ConfigMapStore(new KubeClient({ server: twin.url, token: twin.adminToken }), {
        namespace: NS, specConfigMap: specConfigMapName('qwen-production'), stateConfigMap: stateConfigMapName('qwen-production'),
      });
      await admin.appendCommand('cancel', 'two-apps-cancel', Date.now());
      // THEN the qwen app's controller is still there and handles it
      const after = await runJob('qwen');
      expect(after.code).toBe(0);
      expect(state('qwen-production')?.phase).toBe('aborted');
      expect(after.stdout.filter((l) => l.level === 'error')).toEqual([]);
    }, 240_000);

    test('SIGTERM (a deadline, a deleted Job, a drained node) ends the controller at once with exit 0', async () => {
      await sync('gemma');
      new World(twin).reconcile();
      const cronJob = twin.object('batch/v1', 'CronJob', NS, apps.gemma.find((o) => o.kind === 'CronJob').metadata.name) as any;
      const pod = runPod({ twin, apiServer: front, namespace: NS, podSpec: cronJob.spec.jobTemplate.spec.template.spec });
      // GIVEN its first pass is done (the rollout is progressing: the pod would stay up until 50 s)
      const until = Date.now() + 30_000;
      while (Date.now() < until && !pod.stdout.some((l) => l.includes('rollout(s) ticked'))) await new Promise((r) => setTimeout(r, 100));
      expect(state('gemma-production')?.phase).toBe('progressing');
      // WHEN the kubelet sends SIGTERM
      const sent = Date.now();
      await pod.stop();
      // THEN it exited by itself (no SIGKILL after the grace period), successfully, within a second or so
      expect(await pod.exited).toBe(0);
      expect(Date.now() - sent).toBeLessThan(cronJob.spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds * 1000);
    }, 60_000);
  });
}
