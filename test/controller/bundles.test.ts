/**
 * The bundles the build makes (`npx projen bundle`, run before the tests): they load and run on their own.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../support/paths';

const assets = path.join(REPO_ROOT, 'assets', 'controller');

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

  test('the Lambda package is reproducible: the bundle alone, as index.js, dated 1980-01-01, mode 0644', () => {
    // GIVEN the bundle zipped twice, a second apart, by the build's script
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-zip-'));
    fs.copyFileSync(path.join(assets, 'aws', 'handler', 'index.js'), path.join(dir, 'index.js'));
    const zipTwice = [0, 1].map((i) => {
      if (i > 0) fs.utimesSync(path.join(dir, 'index.js'), new Date(), new Date(Date.now() + 1000));
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'projenrc', 'zip-bundle.js'), dir]);
      return fs.readFileSync(path.join(dir, 'lambda.zip'));
    });
    // THEN the bytes are the same, and equal to the package the build made
    expect(zipTwice[1]).toEqual(zipTwice[0]);
    expect(zipTwice[0]).toEqual(fs.readFileSync(path.join(assets, 'aws', 'handler', 'lambda.zip')));
    // AND the central directory says: one entry, index.js, made on UNIX with mode 0644, DOS date 1980-01-01 00:00
    const zip = zipTwice[0];
    const central = zip.readUInt32LE(zip.length - 22 + 16);
    expect(zip.readUInt32LE(central)).toBe(0x02014b50);
    expect(zip.readUInt16LE(zip.length - 22 + 10)).toBe(1);
    expect(zip.toString('utf8', central + 46, central + 46 + zip.readUInt16LE(central + 28))).toBe('index.js');
    expect(Math.floor(zip.readUInt32LE(central + 38) / 0x10000)).toBe(0o100644);
    expect([zip.readUInt16LE(central + 12), zip.readUInt16LE(central + 14)]).toEqual([0, 0x21]);
  });

  test('the Kubernetes CLI bundle carries no AWS SDK; the --aws part is a bundle of its own, shipped in the package beside it', () => {
    // GIVEN the two CLI bundles
    const cli = path.join(assets, 'cli', 'main', 'index.js');
    const aws = path.join(assets, 'cli', 'aws-backend', 'index.js');
    const cliText = fs.readFileSync(cli, 'utf8');
    // THEN the Kubernetes CLI has no AWS SDK code and loads the AWS part by a computed path only
    // (booleans, not toContain: a failure would print megabytes of minified code)
    expect(cliText.includes('@aws-sdk')).toBe(false);
    expect(cliText.includes('SSMClient')).toBe(false);
    expect(fs.readFileSync(aws, 'utf8').includes('SSMClient')).toBe(true);
    const out = execFileSync(process.execPath, ['-e', `console.log(typeof require(${JSON.stringify(aws)}).awsBackend)`], { encoding: 'utf8' });
    expect(out.trim()).toBe('function');
    console.log(`CLI bundles: Kubernetes ${Math.round(fs.statSync(cli).size / 1024)} KB, --aws part ${Math.round(fs.statSync(aws).size / 1024)} KB`);
    // AND the packed tarball has both (the bin requires the first, which requires the second with --aws)
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const files = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/model-rollout', 'assets/controller/cli/main/index.js', 'assets/controller/cli/aws-backend/index.js']));
  });
});
