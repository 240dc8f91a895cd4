import * as fs from 'fs';
import * as path from 'path';
import { expectServableExample, loadManifests } from '../support/example-checks';
import { expectValid } from '../support/k8s-validate';

describe('examples/k8s-llm-canary', () => {
  test('synthesizes its manifests and plan; every object passes the upstream schemas strictly', () => {
    // WHEN
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { outdir, rollout } = require('../../examples/k8s-llm-canary/main');
    // THEN
    const files = fs.readdirSync(outdir).sort();
    expect(files.filter((f: string) => f.endsWith('.rollout.md') || f.endsWith('.rollout.json'))).toEqual(['llm-production.rollout.json', 'llm-production.rollout.md']);
    const objects = loadManifests(outdir, files);
    expectValid(objects);
    const plan = JSON.parse(fs.readFileSync(path.join(outdir, 'llm-production.rollout.json'), 'utf8')).plan;
    // the default shadow step (at most 5 minutes), then the 30-minute ramp
    expect(plan.totalSeconds).toBe(2100);
    expect(plan.mirror).toEqual({ version: 'v3', percent: 5 });
    const md = fs.readFileSync(path.join(outdir, 'llm-production.rollout.md'), 'utf8');
    expect(md).toContain('xychart-beta');
    console.log(`examples/k8s-llm-canary: ${objects.length} objects validated strictly; controller bundle ${rollout.controllerBundleBytes} bytes in the manifests`);
  });

  test('carries the serving arguments a real GPU node needs, and stays within CRD limits', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expectServableExample(require('../../examples/k8s-llm-canary/main').outdir);
  });

});
