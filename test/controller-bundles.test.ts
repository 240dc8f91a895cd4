/**
 * The bundles the build makes (`npx projen bundle`, run before the tests): they load and run on their own.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const assets = path.join(__dirname, '..', 'assets', 'controller');

describe('controller bundles', () => {
  test('the CronJob bundle needs nothing but node, and says what it misses outside a cluster', () => {
    const bundle = path.join(assets, 'k8s', 'main', 'index.js');
    const text = fs.readFileSync(bundle, 'utf8');
    expect(text).not.toMatch(/require\("(?!(node:)?(fs|http|https|crypto|url|path|os|net|tls|stream|events|util|buffer|zlib)")[^"]+"\)/);
    const r = spawnSync(process.execPath, [bundle], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout.trim()).error).toMatch(/KUBERNETES_SERVICE_HOST is not set/);
  });

  test('the Lambda bundle leaves the AWS SDK to the runtime and exports the handler', () => {
    const bundle = path.join(assets, 'aws', 'handler', 'index.js');
    const text = fs.readFileSync(bundle, 'utf8');
    expect(text).toMatch(/require\("@aws-sdk\/client-ssm"\)/);
    const out = execFileSync(process.execPath, ['-e', `console.log(typeof require(${JSON.stringify(bundle)}).handler)`], { encoding: 'utf8' });
    expect(out.trim()).toBe('function');
  });
});
