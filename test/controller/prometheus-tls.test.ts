/**
 * The controller's Prometheus client over HTTPS with a private CA and credentials, against a loopback HTTPS server
 * speaking the Prometheus HTTP API's instant-query answer (https://prometheus.io/docs/prometheus/latest/querying/api/,
 * "Instant queries": `{"status":"success","data":{"resultType":"vector","result":[...]}}`). The CAs and the server
 * certificate are made in the test with `openssl req`/`openssl x509` (node:crypto cannot sign certificates).
 * Asserts the Authorization header arrives, a wrong CA fails with an error that says what to fix, and that error
 * holds the rollout (a measurement error) instead of rolling it back or letting it proceed.
 */
import * as fs from 'fs';
import * as https from 'https';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { prometheusConnectionFromEnv } from '../../src/controller/k8s/main';
import { PrometheusMetrics } from '../../src/controller/prometheus';
import { decide } from '../../src/core/decide';
import { fillSynthPlaceholders } from '../../src/core/placeholders';
import { RolloutSpec } from '../../src/core/spec';
import { ControllerState } from '../../src/core/state';
import { ServingEngine } from '../../src/rollout/serving-engine';
import { rolloutSpec } from '../support/spec-fixture';
import { hasOpenssl, makeCa, makeServerCert } from '../support/test-ca';

const maybe = hasOpenssl || process.env.CI ? describe : describe.skip;

const engine = ServingEngine.VLLM;
// as a target synthesizes it: the model, environment and namespace filled into the queries
const spec: RolloutSpec = fillSynthPlaceholders(rolloutSpec({
  steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'pause', seconds: 600 }, { kind: 'setWeight', weight: 100 }],
  stableReplicas: 2,
  checks: [engine.errorCheck()._spec()],
  checkFailureLimit: 0,
  tickSeconds: 10,
}), { model: 'llama', environment: 'production', namespace: 'models' });

maybe('Prometheus over HTTPS with a private CA and credentials', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prom-tls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    makeServerCert(dir, 'ca');
    server = https.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.crt')) }, (req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== 'Bearer s3cret') {
        res.writeHead(401).end('unauthorized');
        return;
      }
      // requests 1000 per window for either version, errors 1: a healthy canary
      const query = new URL(req.url!, 'https://x').searchParams.get('query') ?? '';
      const value = query.includes(') / (') ? '0.001' : /status=~"4xx\|5xx"/.test(query) ? '1' : '1000';
      res.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, value] }] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with the CA that signed the certificate and a bearer token from a file: the header arrives and the counts come back', async () => {
    // GIVEN the files the controller pod mounts
    fs.writeFileSync(path.join(dir, 'token'), 's3cret\n');
    const connection = prometheusConnectionFromEnv({ ROLLOUT_PROMETHEUS_CA_FILE: path.join(dir, 'ca.crt'), ROLLOUT_PROMETHEUS_TOKEN_FILE: path.join(dir, 'token') });
    expect('error' in connection).toBe(false);
    // WHEN the adapter measures the canary
    const metrics = new PrometheusMetrics(url, { ...(connection as object), now: () => 1_000_000_000_000 });
    const out = await metrics.measure(spec, ['v2']);
    // THEN the token was sent and the sequential test got its counter totals, read at the end of the 10 s grid slot
    expect(seen[seen.length - 1]).toBe('Bearer s3cret');
    expect(out.v2['vllm-error-rate'].error).toBeUndefined();
    const totals = out.v2['vllm-error-rate'].totals!;
    expect(totals.at).toBe(1_000_000_000_000);
    const read = [totals.canary.requests, totals.canary.errors, totals.stable.requests, totals.stable.errors];
    expect(read.map((v) => Object.values(v))).toEqual([[1000], [1], [1000], [1]]);
  });

  test('basic auth from a mounted Secret becomes an Authorization: Basic header', () => {
    fs.mkdirSync(path.join(dir, 'basic'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'basic', 'username'), 'grafana');
    fs.writeFileSync(path.join(dir, 'basic', 'password'), 'p:w\n');
    const connection = prometheusConnectionFromEnv({ ROLLOUT_PROMETHEUS_BASIC_AUTH_DIR: path.join(dir, 'basic') });
    expect(connection).toEqual({ headers: { authorization: `Basic ${Buffer.from('grafana:p:w').toString('base64')}` } });
  });

  test('a credentials file that cannot be read is an error, never a query without credentials', () => {
    const connection = prometheusConnectionFromEnv({ ROLLOUT_PROMETHEUS_TOKEN_FILE: path.join(dir, 'missing-token') });
    expect(connection).toEqual({ error: expect.stringMatching(/^Prometheus credentials or CA could not be read: ENOENT/) });
  });

  test('without credentials: a 401 names the fix', async () => {
    const metrics = new PrometheusMetrics(url, { ca: fs.readFileSync(path.join(dir, 'ca.crt')) });
    const out = await metrics.measure(spec, ['v2']);
    expect(out.v2['vllm-error-rate'].error).toMatch(/HTTP 401, not authorized; give the controller credentials .*prometheusConnection.*bearerTokenSecret/);
  });

  test('a wrong CA fails with a clear error, and that error holds the rollout (weights unchanged, no abort)', async () => {
    // GIVEN a rollout with its canary at 10 %, measured healthy so far
    const good = new PrometheusMetrics(url, { ca: fs.readFileSync(path.join(dir, 'ca.crt')), headers: { authorization: 'Bearer s3cret' } });
    const wrong = new PrometheusMetrics(url, { ca: fs.readFileSync(path.join(dir, 'other-ca.crt')), headers: { authorization: 'Bearer s3cret' } });
    let state: ControllerState | undefined;
    const step = async (now: number, adapter: PrometheusMetrics) => {
      const w = state?.weights.v2 ?? 0;
      const d = decide(spec, state, {
        readyReplicas: { v1: 2, v2: 1 },
        routerWeights: { v1: 100 - w, v2: w },
        metrics: await adapter.measure(spec, ['v2']),
      }, now);
      state = d.state;
      return d;
    };
    for (let t = 0; t <= 30_000; t += 10_000) await step(t, good);
    expect(state!.weights.v2).toBe(10);
    // WHEN the CA the controller trusts did not sign Prometheus' certificate
    const direct = await wrong.measure(spec, ['v2']);
    expect(direct.v2['vllm-error-rate'].error).toMatch(/^Prometheus https:\/\/127\.0\.0\.1:\d+: TLS certificate not trusted \(.*\); give the controller the CA bundle that signed it/);
    const d = await step(40_000, wrong);
    // THEN the rollout holds: still progressing at 10 %, and the reason says why
    expect(d.state.phase).toBe('progressing');
    expect(d.state.weights.v2).toBe(10);
    expect(d.actions.filter((a) => a.kind === 'setWeights')).toEqual([]);
    expect(d.reason).toMatch(/checks could not be measured \(Prometheus .*TLS certificate not trusted/);
  });
});
