/**
 * The shipped path of the default checks, for every serving-engine preset: the synthesized manifests applied with
 * the REAL kubectl to the kube twin; the namespace controller's CronJob container run as the kubelet runs it
 * (test/support/kubelet.ts: the bundle from the code ConfigMap at /controller, the synthesized env, the service
 * account mount, the API server over TLS); a REAL Prometheus scraping exporters that speak vLLM's, TGI's and
 * Triton's metric names, through the synthesized PodMonitor's relabelings at its scrape interval. Nothing the
 * production path must supply is supplied by the test: the queries the controller sends are the ones in the spec
 * ConfigMap, filled by the controller itself.
 *
 * Asserts that each rollout's sequential error test is fed windows with requests for the canary and for stable, and
 * that no query Prometheus evaluated (its query log) holds an unfilled `{{placeholder}}`.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing, Yaml } from 'cdk8s';
import { STATE_KEY_STATE, stateConfigMapName } from '../../../src/core/constants';
import { ControllerState } from '../../../src/core/state';
import { CanaryRollout, Model } from '../../../src/k8s';
import { EnginePod, tgiExposition, tritonExposition } from '../../support/engine-exporters';
import { findTool, KubeTwin, kubectlCacheDir } from '../../support/kube-twin';
import { podRunnerUnavailable, runPod, RunningPod } from '../../support/kubelet';
import { prometheusBinary, PrometheusFixture, RelabelConfig, startPrometheusScraping } from '../../support/prometheus-server';
import { hasOpenssl } from '../../support/test-ca';
import { startTlsFront, TlsFront } from '../../support/tls-front';
import { vllmExposition } from '../../support/vllm-exporter';

const NAMESPACE = 'models';
/** One model per preset: its name, the image the preset is recognised from, and the exposition of its pods. */
const ENGINES = [
  { engine: 'vllm', model: 'llama', image: 'vllm/vllm-openai:v0.6.3' },
  { engine: 'tgi', model: 'mistral', image: 'ghcr.io/huggingface/text-generation-inference:2.4.0' },
  { engine: 'triton', model: 'resnet', image: 'nvcr.io/nvidia/tritonserver:24.08-py3' },
] as const;
const POD: EnginePod = { rps: 40, failureShare: 0.001, latencySeconds: 0.08, inFlight: 2 };

function exposition(engine: string, seconds: number): string {
  if (engine === 'vllm') {
    const pod = { modelName: 'meta-llama/Llama-3.1-8B-Instruct', rps: POD.rps, abortShare: POD.failureShare, running: 1, waiting: 1, ttftSeconds: POD.latencySeconds };
    return vllmExposition(pod, seconds);
  }
  return engine === 'tgi' ? tgiExposition(POD, seconds) : tritonExposition(POD, seconds);
}

/** The three models in one namespace (one controller ticks them all), each rolling v1 -> v2 with its preset's checks. */
function synth(prometheusUrl: string): any[] {
  const chart = new Chart(Testing.app() as App, 'Models', { namespace: NAMESPACE });
  for (const e of ENGINES) {
    const model = new Model(chart, e.model, { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', name: e.model, image: e.image });
    model.addVersion('v2');
    const production = model.addEnvironment('production', { version: 'v1', gateway: { name: 'inference', namespace: 'gateways' } });
    new CanaryRollout(chart, `${e.model}Rollout`, { environment: production, canaries: [{ version: 'v2' }], prometheusUrl });
  }
  return Testing.synth(chart);
}

const kubectl = findTool('kubectl');
const binary = prometheusBinary();
const unavailable = [
  ...(kubectl ? [] : ['kubectl']),
  ...(binary ? [] : ['prometheus (apt-get install prometheus)']),
  ...(hasOpenssl ? [] : ['openssl']),
  ...(podRunnerUnavailable() ? [podRunnerUnavailable()!] : []),
];

if (unavailable.length > 0 && !process.env.CI) {
  test('SKIPPED: the CronJob pod test needs kubectl, prometheus, openssl and root; CI runs it', () => {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED: test/controller/k8s/cronjob-pod-default-checks.test.ts cannot run here: ${unavailable.join('; ')}`);
    expect(unavailable.length).toBeGreaterThan(0);
  });
} else {
  describe('the namespace controller\'s CronJob pod feeds the default checks of every preset from a real Prometheus', () => {
    let prom: PrometheusFixture;
    let twin: KubeTwin;
    let front: TlsFront;
    let pod: RunningPod | undefined;
    let dir: string;
    let queryLog: string;
    let cronJobName: string;

    beforeAll(async () => {
      if (unavailable.length > 0) throw new Error(`cannot run: ${unavailable.join('; ')}; .ci/run installs what CI needs`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cronjob-pod-'));
      queryLog = path.join(dir, 'queries.log');
      // the PodMonitor as synthesized (it does not depend on Prometheus' address): its relabelings and interval
      const monitors = synth('http://prometheus.invalid').filter((o) => o.kind === 'PodMonitor');
      expect(monitors).toHaveLength(ENGINES.length);
      const endpoint = monitors[0].spec.podMetricsEndpoints[0];
      const relabelConfigs: RelabelConfig[] = endpoint.relabelings.map((r: any) => ({
        source_labels: r.sourceLabels, target_label: r.targetLabel, action: r.action,
      }));
      for (const m of monitors) expect(m.spec.podMetricsEndpoints[0].relabelings).toEqual(endpoint.relabelings);
      prom = await startPrometheusScraping({
        // the labels Kubernetes service discovery gives each pod (its labels, sanitized), one target per pod
        targets: ENGINES.flatMap((e) => ['v1', 'v2'].map((version) => ({
          path: `/metrics/${e.engine}/${version}`,
          labels: {
            __meta_kubernetes_pod_label_model_rollout_dev_model: e.model,
            __meta_kubernetes_pod_label_model_rollout_dev_environment: 'production',
            __meta_kubernetes_pod_label_model_rollout_dev_version: version,
          },
        }))),
        relabelConfigs,
        scrapeIntervalSeconds: parseInt(endpoint.interval, 10),
        queryLogFile: queryLog,
        body: (p, seconds) => exposition(p.split('/')[2], seconds),
        readyQuery: '{__name__=~"vllm:request_success_total|tgi_request_count|nv_inference_request_success",version=~"v1|v2"}',
        // vLLM: three finished reasons per version; TGI and Triton: one series per version
        readySeries: 10,
      });

      twin = await KubeTwin.start();
      twin.seedNamespaces(NAMESPACE, 'gateways');
      front = await startTlsFront(Number(new URL(twin.url).port));
      const manifests = path.join(dir, 'manifests.yaml');
      const objects = synth(prom.url);
      // one CronJob: the namespace's controller ticks the three rollouts
      const cronJobs = objects.filter((o) => o.kind === 'CronJob');
      expect(cronJobs).toHaveLength(1);
      cronJobName = cronJobs[0].metadata.name;
      fs.writeFileSync(manifests, Yaml.stringify(...objects));
      const kubeconfig = twin.writeKubeconfig(dir, twin.adminToken, NAMESPACE);
      await new Promise<void>((resolve, reject) => execFile(kubectl!, [
        '--kubeconfig', kubeconfig, '--cache-dir', kubectlCacheDir(), 'apply', '--server-side', '--field-manager=platform-team', '-f', manifests,
      ], { timeout: 60_000 }, (error, _out, stderr) => (error ? reject(new Error(`kubectl apply: ${stderr}`)) : resolve())));
    }, 90_000);

    afterAll(async () => {
      await pod?.stop();
      await front?.close();
      await twin?.stop();
      await prom?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('each rollout\'s sequential test takes windows with requests of the canary and of stable; no query holds a placeholder', async () => {
      // GIVEN the CronJob as applied, its container run as the kubelet runs it
      const cronJob = twin.object('batch/v1', 'CronJob', NAMESPACE, cronJobName) as any;
      expect(cronJob).toBeDefined();
      pod = runPod({ twin, apiServer: front, namespace: NAMESPACE, podSpec: cronJob!.spec.jobTemplate.spec.template.spec });

      // WHEN it ticks (every 10 s) until every rollout's error test has taken two windows with counts
      const windows: Record<string, Set<number>> = Object.fromEntries(ENGINES.map((e) => [e.model, new Set<number>()]));
      const latest: Record<string, NonNullable<ControllerState['sequential']>[string] | undefined> = {};
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && ENGINES.some((e) => windows[e.model].size < 2) && pod.process.exitCode === null) {
        await new Promise((r) => setTimeout(r, 500));
        for (const e of ENGINES) {
          const raw = (twin.object('v1', 'ConfigMap', NAMESPACE, stateConfigMapName(`${e.model}-production`)) as any)?.data?.[STATE_KEY_STATE];
          const test = raw ? (JSON.parse(raw) as ControllerState).sequential?.[`v2/${e.engine}-error-rate`] : undefined;
          if (test?.windowEnd !== undefined && test.canary.requests > 0 && test.stable.requests > 0) windows[e.model].add(test.windowEnd);
          latest[e.model] = test;
        }
      }
      await pod.stop();

      // THEN every preset's test was fed: two windows (ten seconds apart, on the tick grid) with canary and stable requests
      const logs = pod.stdout.map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } });
      const explain = `controller stdout:\n${pod.stdout.slice(-20).join('\n')}\nstderr:\n${pod.stderr.slice(-20).join('\n')}`;
      for (const e of ENGINES) {
        if (windows[e.model].size < 2) throw new Error(`${e.engine}: ${windows[e.model].size} window(s) with counts\n${explain}`);
        const ends = [...windows[e.model]].sort();
        expect(ends[1] - ends[0]).toBe(10_000);
        expect(latest[e.model]!.canary.requests).toBeGreaterThan(0);
        expect(latest[e.model]!.stable.requests).toBeGreaterThan(0);
      }
      // AND no check reported an unfilled placeholder or a failed query
      expect(logs.filter((l) => /still holds \{\{|query failed/.test(JSON.stringify(l)))).toEqual([]);
      // AND Prometheus never evaluated a query with a placeholder; the controller's queries name each model
      const queries = fs.readFileSync(queryLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).params?.query as string);
      const fromController = queries.filter((q) => /environment="production"/.test(q));
      expect(fromController.length).toBeGreaterThan(0);
      expect(queries.filter((q) => q.includes('{{'))).toEqual([]);
      for (const e of ENGINES) expect(fromController.some((q) => q.includes(`model="${e.model}"`))).toBe(true);
    }, 90_000);
  });
}
