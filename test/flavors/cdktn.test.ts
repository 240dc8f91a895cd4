/**
 * The cdktn flavor (cdk-model-rollout-cdktn): the same src/, its Terraform imports rewritten to cdktn, must
 * synthesize the aws-eks-gpu example's `resource` blocks byte-identical to the cdktf build's.
 *
 * Cheap by design: both flavors are transpile-only builds (TypeScript's transpileModule, cached in
 * flavors/cdktn/.build and flavors/.build/cdktf, only changed files redone) and each synthesis is one `node`
 * process, run in parallel. cdktn and its providers live in flavors/cdktn/node_modules (cdktn pins
 * `constructs <10.8.0`); a fresh clone installs them here once (`npm ci --prefix flavors/cdktn`, ~20 s, logged).
 * The jsii compile of the package is `npx projen package:cdktn`, not part of the tests.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';

/* eslint-disable @typescript-eslint/no-require-imports */
const { build, rewriteImports } = require('../../flavors/cdktn/build');
const { ensureDeps } = require('../../flavors/cdktn/deps');
/* eslint-enable @typescript-eslint/no-require-imports */

const run = promisify(execFile);
const STACK = path.join('examples', 'aws-eks-gpu', 'dist', 'stacks', 'gpu-inference', 'cdk.tf.json');

interface Synth { dir: string; tf: any; text: string }

async function synth(dir: string): Promise<Synth> {
  await run(process.execPath, ['main.js'], { cwd: path.join(dir, 'examples', 'aws-eks-gpu') });
  const text = fs.readFileSync(path.join(dir, STACK), 'utf8');
  return { dir, tf: JSON.parse(text), text };
}

describe('cdktn flavor', () => {
  let cdktn: Synth;
  let cdktf: Synth;

  beforeAll(async () => {
    ensureDeps((m: string) => console.log(m));
    const [dirN, dirF] = [build([], 'cdktn'), build([], 'cdktf')];
    [cdktn, cdktf] = await Promise.all([synth(dirN), synth(dirF)]);
  }, 300_000);

  test('rewrites the Terraform imports only, and refuses one it has no rule for', () => {
    const code = [
      "import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';",
      "import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';",
      "import { App, TerraformStack } from 'cdktf';",
      "import { Chart } from 'cdk8s';",
      '/** Needs `cdktf` and `@cdktf/provider-aws`. */',
    ].join('\n');
    expect(rewriteImports(code, 'aws/private/weighted-rule.ts').split('\n')).toEqual([
      "import { LbListenerRule } from '@cdktn/provider-aws/lib/lb-listener-rule';",
      "import { Manifest } from '../manifest';",
      "import { App, TerraformStack } from 'cdktn';",
      "import { Chart } from 'cdk8s';",
      '/** Needs `cdktn` and `@cdktn/provider-aws`. */',
    ]);
    expect(rewriteImports("import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';", 'aws/x.ts')).toContain("from './manifest'");
    expect(() => rewriteImports("import { Deployment } from '@cdktf/provider-kubernetes/lib/deployment';", 'aws/x.ts'))
      .toThrow(/no cdktn equivalent for import '@cdktf\/provider-kubernetes\/lib\/deployment'/);
  });

  test('no cdktf import is left in the cdktn copy of src/', () => {
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/(from\s+|require\()'(cdktf|@cdktf\/)/.test(fs.readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(path.join(cdktn.dir, 'src'));
    walk(path.join(cdktn.dir, 'lib'));
    expect(offenders).toEqual([]);
  });

  test('aws-eks-gpu: the resource blocks are identical to the cdktf build\'s', () => {
    const count = Object.values(cdktf.tf.resource as Record<string, object>).reduce((n, r) => n + Object.keys(r).length, 0);
    expect(count).toBeGreaterThan(20);
    expect(JSON.stringify(cdktn.tf.resource, null, 2)).toEqual(JSON.stringify(cdktf.tf.resource, null, 2));
    // and as text in cdk.tf.json: the only difference is how an empty object is printed (cdktf's writer puts
    // `{\n}`, cdktn's `{}`), the same JSON
    const block = (text: string) => text.slice(text.indexOf('  "resource": {'), text.indexOf('\n  },\n  "terraform"'));
    const emptyObjects = /\{\n\s*\}/g;
    expect(block(cdktn.text).length).toBeGreaterThan(1000);
    expect(block(cdktn.text)).not.toMatch(emptyObjects);
    expect(block(cdktn.text)).toEqual(block(cdktf.text).replace(emptyObjects, '{}'));
    console.log(`cdktn flavor: ${count} resources, ${Object.keys(cdktn.tf.resource).length} types, identical to cdktf\'s`);
  });

  test('each build runs on its own Terraform library and constructs', async () => {
    expect(cdktn.tf['//'].metadata.version).toBe('0.24.0');
    expect(cdktf.tf['//'].metadata.version).toMatch(/^0\.21\./);
    expect(cdktn.tf.terraform.required_providers.aws).toEqual({ source: 'hashicorp/aws', version: '6.66.0' });
    const probe = "console.log(['cdktn', 'cdktf', 'constructs'].map((m) => { try { return require(m + '/package.json').version } catch { return '-' } }).join(' '))";
    const [n, f] = await Promise.all([cdktn, cdktf].map((s) => run(process.execPath, ['-e', probe], { cwd: path.join(s.dir, 'lib', 'aws') })));
    const [cdktnVersion, , constructsN] = n.stdout.trim().split(' ');
    expect(cdktnVersion).toBe('0.24.0');
    expect(constructsN).toMatch(/^10\.[67]\./);
    expect(f.stdout.trim().split(' ')[2]).toMatch(/^10\./);
  });

  test('the cdktn root loads Terraform lazily: a Kubernetes user never loads cdktn', async () => {
    const probe = "const r = require('./lib'); r.k8s.Model; r.Steps; console.log(Object.keys(require.cache).filter((k) => /node_modules[\\\\/](cdktn|@cdktn)[\\\\/]/.test(k)).length)";
    const { stdout } = await run(process.execPath, ['-e', probe], { cwd: cdktn.dir });
    expect(stdout.trim()).toBe('0');
  });
});
