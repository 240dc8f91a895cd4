import { cdk, javascript } from 'projen';

/**
 * cdk-model-rollout: safe, typed releases of GPU-served ML models, for Kubernetes (cdk8s) and AWS (cdktf).
 *
 * Everything generated from this file (package.json, tsconfig*, .eslintrc.json, .projen/) is owned by
 * projen: change this file and run `npx projen`.
 */
const project = new cdk.JsiiProject({
  name: 'cdk-model-rollout',
  description: 'Typed canary rollouts for GPU-served ML models: cdk8s manifests, cdktf Terraform and a step controller from one pure engine.',
  author: 'cdk-model-rollout maintainers',
  authorAddress: 'maintainers@cdk-model-rollout.dev',
  repositoryUrl: 'https://github.com/cdk-model-rollout/cdk-model-rollout.git',
  defaultReleaseBranch: 'main',
  jsiiVersion: '~6.0.0',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  keywords: ['cdk8s', 'cdktf', 'canary', 'rollout', 'gpu', 'mlops', 'gateway-api', 'karpenter', 'keda'],
  // no release yet: the API may change between versions
  stability: 'experimental',
  // the CronJob runs node:22; the CLI, the synthesis and the tests run on Node 20 (what this project's machines have).
  // The build needs no more either: projenrc/zip-bundle.js computes its CRC-32 itself rather than with `zlib.crc32`
  // (Node 20.15), so the floor stays where users need it
  minNodeVersion: '20.0.0',

  // No hosted CI config or release pipeline: CI is `.ci/run` on a clean clone.
  github: false,
  release: false,
  package: true,

  peerDependencyOptions: { pinnedDevDependency: false },
  // Floors users can meet: the synthesized output was measured byte-identical with cdk8s 2.68.12,
  // cdk8s-plus-33 2.3.5 and constructs 10.4.2; constructs must admit cdktn's `>=10.6.0 <10.8.0`.
  // The Terraform packages are optional (peerDependenciesMeta below): only the `aws` submodule loads them.
  peerDeps: [
    'cdk8s@^2.68.12',
    'cdk8s-plus-33@^2.3.5',
    'cdktf@^0.21.0',
    '@cdktf/provider-aws@^21.22.1',
    '@cdktf/provider-kubernetes@^12.1.1',
    'constructs@^10.4.2',
  ],
  devDeps: [
    'cdk8s@2.70.106',
    'cdk8s-plus-33@2.5.57',
    'cdktf@0.21.0',
    '@cdktf/provider-aws@21.22.1',
    '@cdktf/provider-kubernetes@12.1.1',
    'constructs@10.8.1',
    // strict schema validation of every synthesized Kubernetes object
    'kubernetes-models@^5.1.0',
    '@kubernetes-models/gateway-api@^2.0.0',
    '@kubernetes-models/keda@^2.0.0',
    '@kubernetes-models/karpenter@^2.0.0',
    '@kubernetes-models/istio@^3.0.0',
    // tests
    'fast-check@^4.3.0',
    'aws-sdk-client-mock@^4.1.0',
    // the controller's runtime (bundled by esbuild; the AWS SDK is provided by the Lambda runtime). esbuild itself is
    // not listed: projen's bundler (`addBundle` below) adds it without a version, which replaces any version given
    // here; package.json records the installed one and the lockfile pins it
    '@aws-sdk/client-elastic-load-balancing-v2@^3.900.0',
    '@aws-sdk/client-cloudwatch@^3.900.0',
    '@aws-sdk/client-ssm@^3.900.0',
    // the state store with conditional writes: Lambda runtime provides it, the CLI bundle carries it
    '@aws-sdk/client-dynamodb@^3.900.0',
    '@aws-sdk/client-scheduler@^3.900.0',
    // the CLI invokes the controller's function after storing a command (its schedule is off once the rollout settled)
    '@aws-sdk/client-lambda@^3.900.0',
    '@types/aws-lambda@^8.10.0',
    // the reference SigV4 signer the EKS token test compares with
    '@smithy/signature-v4@^5.0.0',
    // runs the gateway's Lua bucket filter in tests, the same source Envoy runs
    'fengari@^0.1.4',
    // kubeconfig parsing in the CLI bundle
    'yaml@^2.3.0',
    // renders the plan's chart in headless Chromium in a test (the same mermaid GitHub uses for `.rollout.md`)
    'mermaid@^12',
  ],

  jestOptions: {
    // jest 30 and eslint-import-resolver-typescript 3.8+ need unrs-resolver, whose per-platform bindings the npm
    // registry reachable here does not serve, so `npm ci` cannot validate the lockfile: stay on versions without it
    jestVersion: '^29',
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 60_000,
      // coverage across the whole tree costs time on a 2-core machine; run `npx jest --coverage` on demand
      collectCoverage: false,
      // one worker per core (jest's default leaves one core idle: a single worker on 2 cores)
      maxWorkers: '100%',
      // test files run by jest-circus in their worker process' own realm, not in a fresh `vm` context each: the
      // same tests at ~60 % of the CPU (see the file; MODEL_ROLLOUT_JEST_ISOLATE=1 or --coverage runs jest's own)
      runner: '<rootDir>/test/support/shared-realm-runner.js',
      // the run's temporary files in one directory, removed at the end (Testing.app() outdirs, kubectl caches)
      globalSetup: '<rootDir>/test/support/jest-global-setup.js',
      globalTeardown: '<rootDir>/test/support/jest-global-teardown.js',
    },
  },
  tsconfig: {
    compilerOptions: {
      lib: ['es2022'],
    },
  },
});

// eslint-import-resolver-typescript 3.8+ needs unrs-resolver (see jestVersion above): pin the last version without it
project.deps.removeDependency('eslint-import-resolver-typescript');
project.addDevDeps('eslint-import-resolver-typescript@~3.7.0');
// the shared-realm jest runner (test/support/shared-realm-runner.js) builds on jest's own parts: its worker pool,
// jest-circus' adapter, expect, console and source maps, at the versions jest 29 itself resolves
project.addDevDeps(
  'jest-runner@^29.7.0', 'jest-worker@^29.7.0', 'jest-circus@^29.7.0', '@jest/console@^29.7.0', '@jest/expect@^29.7.0',
  'jest-snapshot@^29.7.0', 'jest-mock@^29.7.0', 'emittery@^0.13.1', 'source-map-support@^0.5.13',
);

// ---------------------------------------------------------------------------------------------
// Entry points: the root (target-neutral vocabulary) and two jsii submodules, `k8s` and `aws`. A Kubernetes-only
// app installs and loads no Terraform package: they are optional peers, and the root loads each submodule only
// when first used (see projenrc/lazy-submodules.js, run after the jsii compile).
// ---------------------------------------------------------------------------------------------
project.package.addField('peerDependenciesMeta', {
  'cdktf': { optional: true },
  '@cdktf/provider-aws': { optional: true },
  '@cdktf/provider-kubernetes': { optional: true },
});
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './k8s': { types: './lib/k8s/index.d.ts', default: './lib/k8s/index.js' },
  './aws': { types: './lib/aws/index.d.ts', default: './lib/aws/index.js' },
  './.jsii': './.jsii',
  './package.json': './package.json',
  './bin/*': './bin/*',
});
// TypeScript with `moduleResolution: node` (cdk8s and cdktf templates) ignores `exports`: map the subpaths too
project.package.addField('typesVersions', { '*': { k8s: ['lib/k8s/index.d.ts'], aws: ['lib/aws/index.d.ts'] } });
project.postCompileTask.exec('node projenrc/lazy-submodules.js lib/index.js');

// tests live in test/ only (src/core/spec.ts is a module, not a test): replace projen's default patterns
project.package.file.addOverride('jest.testMatch', ['<rootDir>/test/**/*.test.ts']);
// transpile-only with esbuild (test/support/esbuild-jest.js): no TypeScript compiler in every jest worker; `npm test`
// type-checks beside jest. This replaces projen's ts-jest transform, so ts-jest, which projen adds with jest, goes too.
project.package.file.addOverride('jest.transform', { '^.+\\.[t]sx?$': '<rootDir>/test/support/esbuild-jest.js' });
project.deps.removeDependency('ts-jest');

// ---------------------------------------------------------------------------------------------
// Runtime bundles: built by esbuild during the projen build (pre-compile), never at synth time.
// Constructs find them relative to __dirname: <package>/assets/<name>/index.js
// ---------------------------------------------------------------------------------------------
const bundles: Array<{ entry: string; platform: 'node'; target: string; externals: string[]; banner?: string }> = [
  // in-cluster CronJob: plain node:https, no dependencies at all
  { entry: 'src/controller/k8s/main.ts', platform: 'node', target: 'node20', externals: [] },
  // Lambda (nodejs22.x): the AWS SDK v3 ships with the runtime
  { entry: 'src/controller/aws/handler.ts', platform: 'node', target: 'node22', externals: ['@aws-sdk/*'] },
  // the `model-rollout` CLI: self-contained, without the AWS SDK (main.ts loads the AWS part by a computed path)
  { entry: 'src/controller/cli/main.ts', platform: 'node', target: 'node20', externals: [] },
  // the CLI's `--aws` part (the SDK), loaded at run time only with --aws
  { entry: 'src/controller/cli/aws-backend.ts', platform: 'node', target: 'node20', externals: [] },
];
for (const b of bundles) {
  project.bundler.addBundle(b.entry, {
    platform: b.platform,
    target: b.target,
    externals: b.externals,
    minify: true,
    sourcemap: false,
  });
}
// the Lambda's deployment package, zipped reproducibly beside its bundle (see the script)
project.tasks.tryFind('bundle:controller/aws/handler')!.exec('node projenrc/zip-bundle.js assets/controller/aws/handler');
// `kubectl model-rollout ...`: kubectl finds plugins by their file name on PATH (`kubectl-model_rollout`)
project.addBins({ 'model-rollout': 'bin/model-rollout', 'kubectl-model_rollout': 'bin/kubectl-model_rollout' });
project.npmignore?.addPatterns('!/assets/', '/bench/', '/examples/', '/.ci/');

// ---------------------------------------------------------------------------------------------
// Task environment. projen puts PATH=$(npx -c "node --print process.env.PATH") on every task, evaluated once per
// task level (~0.6 s of CPU each, 6 levels in `npm test`). Tasks run through `npm run`/`npx projen`, which already
// put node_modules/.bin on PATH: drop it.
// ---------------------------------------------------------------------------------------------
project.tryFindObjectFile('.projen/tasks.json')?.addDeletionOverride('env.PATH');

// ---------------------------------------------------------------------------------------------
// `npm test`: bundles, then jest (one worker per core) with the static checks beside it: a type-check of src,
// tests, examples and bench (test/tsconfig.json, plus .projenrc.ts) and eslint, in one process over one TypeScript
// program (test/support/static-checks.js: typescript-eslint reads types from that program instead of building its
// own, ~10 s less CPU than `tsc` and `projen eslint` side by side). Any failure fails the task. The `eslint` task
// stays as it is for editors and by hand.
// ---------------------------------------------------------------------------------------------
// Tests read the bundles (sizes, ConfigMap payloads): side-by-side.js runs `npx projen bundle` before jest starts.
const bundleTask = project.tasks.tryFind('bundle')!;
for (const dir of ['src', 'examples', 'bench']) project.tsconfigDev.addInclude(`../${dir}/**/*.ts`);
const staticChecks = `node test/support/static-checks.js --tsconfig ${project.tsconfigDev.fileName}`;
project.testTask.reset();
// the bundles first, for jest, while the static checks (which do not read them) already run
const testCommand = `node test/support/side-by-side.js --first 'npx projen ${bundleTask.name}' '${staticChecks}' -- jest --passWithNoTests --ci`;
project.testTask.exec(testCommand, { receiveArgs: true });
// `npm test` runs the same command without starting projen first (~0.6 s: the task has one step, and npm already
// puts node_modules/.bin on PATH); `npx projen test` runs the task
project.package.setScript('test', testCommand);

// ---------------------------------------------------------------------------------------------
// The main job: synthesize every example under examples/, print the rollout plans. The examples import src/
// (not lib/), so no jsii compile: the bundles, then the examples transpiled on load by esbuild (type-checking is
// `npm test`'s job).
// ---------------------------------------------------------------------------------------------
project.addTask('synth', {
  description: 'Bundle the controllers, synthesize every example under examples/ into examples/*/dist, and print the rollout plans',
  steps: [
    { spawn: bundleTask.name },
    { exec: 'node --enable-source-maps -r ./test/support/register-ts.js examples/synth-all.ts' },
  ],
});
project.addTask('bench', {
  description: 'Run the synthesis benchmark and the rollout simulation, print tables, write bench/results/',
  steps: [
    { spawn: 'pre-compile' },
    { spawn: 'compile' },
    { exec: 'node --enable-source-maps -r ./test/support/register-ts.js bench/run.ts' },
  ],
});

// ---------------------------------------------------------------------------------------------
// Lint: layering rules of the repository.
// ---------------------------------------------------------------------------------------------
project.eslint?.addLintPattern('examples');
project.eslint?.addLintPattern('bench');
const providerRoots = [
  { name: '@cdktf/provider-aws', message: 'Import provider classes by resource path (@cdktf/provider-aws/lib/<resource>): the package root costs seconds and ~550 MB per process.' },
  { name: '@cdktf/provider-kubernetes', message: 'Import provider classes by resource path (@cdktf/provider-kubernetes/lib/<resource>): the package root is slow and huge.' },
];
project.eslint?.addRules({
  'no-restricted-imports': ['error', { paths: providerRoots }],
});
// only src/aws/ may import Terraform (cdktf today, cdktn tomorrow)
const terraformPatterns = [{ group: ['cdktf', 'cdktf/*', '@cdktf/*'], message: 'Terraform imports live in src/aws/ only (keeps a cdktn flavor a mechanical change).' }];
project.eslint?.addOverride({
  files: ['src/k8s/**/*.ts', 'src/rollout/**/*.ts', 'src/controller/**/*.ts', 'src/private/**/*.ts'],
  rules: { 'no-restricted-imports': ['error', { paths: providerRoots, patterns: terraformPatterns }] },
});
// the controller's runtime dependencies are bundled by esbuild at build time: devDependencies are right there
project.eslint?.addOverride({
  files: ['src/controller/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});
// src/core/ is pure: no construct libraries, no I/O
project.eslint?.addOverride({
  files: ['src/core/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      paths: providerRoots,
      patterns: [
        ...terraformPatterns,
        { group: ['cdk8s', 'cdk8s-plus-*', 'constructs', 'fs', 'node:*', 'http', 'https', 'net', 'child_process', '@aws-sdk/*'], message: 'src/core is the pure engine: no cdk imports, no I/O.' },
      ],
    }],
  },
});

// a node_modules symlink (a worktree's) is ignored too: `/node_modules/` matches directories only
project.gitignore.exclude('/node_modules', '/examples/*/dist/', '/examples/*/cdktf.out/', '/bench/.work/');

// ---------------------------------------------------------------------------------------------
// Flavors: the cdktn package and the Python target. Everything for them lives in flavors/.
// ---------------------------------------------------------------------------------------------
// Python target of the main package (jsii-pacmak; the wheel is built by flavors/python/build.js). Java and Go are not
// targets: their cdk8s-plus-33 and cdktf packages are not on the registries this project's machines reach (README,
// "Other languages"), so they could not be built or tested.
project.package.file.addOverride('jsii.targets.python', { distName: 'cdk-model-rollout', module: 'cdk_model_rollout' });
project.addTask('package:cdktn', {
  description: 'Build the cdktn flavor (cdk-model-rollout-cdktn) from a rewritten copy of src/ into dist/cdktn/',
  steps: [
    { spawn: 'bundle' },
    { exec: 'node flavors/cdktn/deps.js' },
    { exec: 'node flavors/cdktn/build.js --package' },
  ],
});
// the wheel and a venv that runs it, under flavors/python/.build/ (see the script); test/flavors/python.test.ts runs it
project.addTask('package:python', {
  description: 'Build the Python wheel with jsii-pacmak (flavors/python/.build/dist/python/) and a venv with it and its PyPI dependencies',
  steps: [{ exec: 'node flavors/python/build.js' }],
});
project.gitignore.exclude('/flavors/.build/', '/flavors/cdktn/.build/', '/flavors/cdktn/.build-package/', '/flavors/cdktn/.build-python/', '/flavors/cdktn/.install-lock/', '/flavors/python/.build/');
project.npmignore?.addPatterns('/flavors/');
// the flavors' build folders hold package.json files and node_modules jest must not index
project.package.file.addOverride('jest.modulePathIgnorePatterns', ['<rootDir>/flavors/']);

project.synth();
