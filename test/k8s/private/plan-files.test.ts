import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { CanaryRollout, Model } from '../../../src/k8s';
import { Metric, Step, Steps } from '../../../src/rollout';

const gateway = { name: 'inference', namespace: 'istio-ingress' };

function setup() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-files-'));
  const app = new App({ outdir });
  const chart = new Chart(app, 'Chart', { namespace: 'models' });
  const model = new Model(chart, 'Llm', { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', image: 'vllm/vllm-openai:v0.6.3' });
  model.addVersion('v2');
  const production = model.addEnvironment('production', { version: 'v1', gateway, hostnames: ['llm.example.com'] });
  return { outdir, app, chart, model, production };
}

const planFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.rollout.md') || f.endsWith('.rollout.json')).sort();

describe('rollout plan files', () => {
  test('app.synth() writes every rollout\'s plan beside the manifests, with checks added after construction', () => {
    // GIVEN
    const { outdir, app, chart, production } = setup();
    const rollout = new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }], steps: Steps.custom([Step.setWeight(50)]) });
    rollout.addCheck(Metric.prometheus({ name: 'added-late', query: 'vector(0)', threshold: 1 }));
    // WHEN
    app.synth();
    // THEN
    expect(planFiles(outdir)).toEqual(['llm-production.rollout.json', 'llm-production.rollout.md']);
    const doc = JSON.parse(fs.readFileSync(path.join(outdir, 'llm-production.rollout.json'), 'utf8'));
    expect(doc.spec.checks.map((c: any) => c.name)).toContain('added-late');
  });

  test('a failing validation writes no plan', () => {
    // GIVEN: a validation that fails elsewhere in the app
    const { outdir, app, chart, production } = setup();
    new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
    chart.node.addValidation({ validate: () => ['broken on purpose'] });
    // WHEN / THEN
    expect(() => app.synth()).toThrow(/broken on purpose/);
    expect(planFiles(outdir)).toEqual([]);
  });

  test('a second synth of the same app writes the plans once', () => {
    // GIVEN
    const { outdir, app, chart, production } = setup();
    new CanaryRollout(chart, 'Rollout', { environment: production, canaries: [{ version: 'v2' }] });
    app.synth();
    fs.rmSync(path.join(outdir, 'llm-production.rollout.md'));
    // WHEN
    app.synth();
    // THEN
    expect(planFiles(outdir)).toEqual(['llm-production.rollout.json']);
  });
});
