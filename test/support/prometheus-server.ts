/**
 * A REAL Prometheus (the Debian package's binary) started on a loopback port with a temporary config and data
 * directory, scraping a small test exporter (a node http server on loopback) every 200 ms, so the few scrapes the
 * gate's 5 s windows need arrive in about a second (Prometheus 2.42 itself hands the scrape targets over only after
 * its 5 s discovery throttle).
 * The exporter is the only fake: it serves request counters of made-up model versions.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** Path of the prometheus binary, if installed. */
export function prometheusBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Requests per second and error share of each version the exporter serves. */
export type Traffic = Record<string, { readonly rps: number; readonly errorShare: number }>;

/** Exporter + Prometheus; `stop()` ends both and removes the temp directory. */
export interface PrometheusFixture {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startPrometheus(traffic: Traffic): Promise<PrometheusFixture> {
  const bin = prometheusBinary();
  if (!bin) throw new Error('prometheus is not installed (apt-get install prometheus); .ci/run installs it');
  const started = Date.now();
  const exporter = http.createServer((_req, res) => {
    const seconds = (Date.now() - started) / 1000;
    const lines = ['# TYPE model_requests_total counter'];
    for (const [version, t] of Object.entries(traffic)) {
      const total = t.rps * seconds;
      lines.push(`model_requests_total{version="${version}",code="500"} ${Math.floor(total * t.errorShare)}`);
      lines.push(`model_requests_total{version="${version}",code="200"} ${Math.floor(total * (1 - t.errorShare))}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', () => resolve()));
  const exporterPort = (exporter.address() as net.AddressInfo).port;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 200ms',
    '  evaluation_interval: 200ms',
    'scrape_configs:',
    '  - job_name: model',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${exporterPort}']`,
    '',
  ].join('\n'));
  // ready, and at least a few scrapes of every version
  return launch(bin, dir, exporter, async (url) => {
    const result = JSON.parse(await get(`${url}/api/v1/query?query=${encodeURIComponent('count_over_time(model_requests_total[1m])')}`)).data?.result ?? [];
    return result.length > 0 && result.every((r: { value: [number, string] }) => Number(r.value[1]) >= 4);
  });
}

/** A scrape target of `startPrometheusScraping`: a path on the loopback exporter and the target's labels. */
export interface ScrapeTarget {
  /** Path on the exporter (`/metrics/v1`). */
  readonly path: string;
  /** Target labels, `__meta_*` included (what Kubernetes service discovery would attach to a pod). */
  readonly labels: Record<string, string>;
}

/** A Prometheus relabel config, in Prometheus' own YAML field names. */
export interface RelabelConfig {
  readonly source_labels?: string[];
  readonly target_label?: string;
  readonly action?: string;
  readonly regex?: string;
  readonly replacement?: string;
}

/**
 * A real Prometheus scraping a loopback exporter that answers `body(path, secondsSinceStart)`, with one static target
 * per `targets` entry and the given `relabel_configs` (translated from a synthesized PodMonitor by the caller), so the
 * relabeling runs in Prometheus itself. Ready once `readyQuery` returns at least `readySeries` series.
 */
export async function startPrometheusScraping(options: {
  readonly targets: readonly ScrapeTarget[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly body: (path: string, seconds: number) => string;
  readonly readyQuery: string;
  readonly readySeries: number;
  /** Seconds between scrapes (a PodMonitor's `interval`). @default 1 */
  readonly scrapeIntervalSeconds?: number;
  /** Where Prometheus logs every query it evaluates (`global.query_log_file`, one JSON object per line). */
  readonly queryLogFile?: string;
}): Promise<PrometheusFixture> {
  const bin = prometheusBinary();
  if (!bin) throw new Error('prometheus is not installed (apt-get install prometheus); .ci/run installs it');
  const started = Date.now();
  const exporter = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(options.body(req.url ?? '/', (Date.now() - started) / 1000));
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', () => resolve()));
  const exporterPort = (exporter.address() as net.AddressInfo).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
  // JSON is YAML: the config is written as JSON to avoid a YAML writer
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify({
    // 1 s: the tests' counts assume real-time rates over whole seconds. The first scrape comes ~5 s after start
    // anyway: Prometheus 2.x applies discovered targets on a fixed 5 s reload tick (prometheus/prometheus#14073)
    global: {
      scrape_interval: `${options.scrapeIntervalSeconds ?? 1}s`,
      evaluation_interval: `${options.scrapeIntervalSeconds ?? 1}s`,
      ...(options.queryLogFile ? { query_log_file: options.queryLogFile } : {}),
    },
    scrape_configs: [{
      job_name: 'pods',
      static_configs: options.targets.map((t) => ({ targets: [`127.0.0.1:${exporterPort}`], labels: { ...t.labels, __metrics_path__: t.path } })),
      relabel_configs: options.relabelConfigs,
    }],
  }, null, 1));
  return launch(bin, dir, exporter, async (url) => {
    const result = JSON.parse(await get(`${url}/api/v1/query?query=${encodeURIComponent(options.readyQuery)}`)).data?.result ?? [];
    return result.length >= options.readySeries;
  });
}

/**
 * Start Prometheus on a free loopback port with the config in `dir`, and wait (30 s at most) until `ready(url)`.
 * Stopping it also closes the exporter and removes `dir`.
 */
async function launch(bin: string, dir: string, exporter: http.Server, ready: (url: string) => Promise<boolean>): Promise<PrometheusFixture> {
  const port = await freePort();
  const proc: ChildProcess = spawn(bin, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await new Promise<void>((r) => exporter.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${proc.exitCode}: ${stderr}`);
    }
    try {
      if (await ready(url)) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready in 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, stop };
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}
