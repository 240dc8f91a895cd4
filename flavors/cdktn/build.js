#!/usr/bin/env node
/**
 * Builds the cdktn flavor (package `cdk-model-rollout-cdktn`) from the same src/ as `cdk-model-rollout`.
 *
 * cdktn (the community fork of the archived cdktf) has the same API, but pins `constructs >=10.6.0 <10.8.0` and
 * changes the fully qualified names of public types, so it is a second package, not a flag. The build:
 *   1. copies src/ into flavors/cdktn/.build/src/ and rewrites the Terraform imports (the only ones are in
 *      src/aws/**): `cdktf` -> `cdktn`, `@cdktf/provider-aws/lib/<r>` -> `@cdktn/provider-aws/lib/<r>`, and
 *      `@cdktf/provider-kubernetes/lib/manifest` -> the hand-written `Manifest` (flavors/cdktn/manifest.ts, copied
 *      to src/aws/manifest.ts and exported from the aws submodule, since `KubernetesManifests.manifests` is public);
 *      any other Terraform import fails the build;
 *   2. --transpile (default): transpile-only (esbuild, no type check) into .build/lib/ and copies assets/ beside it,
 *      plus the examples/aws-eks-gpu app rewritten the same way, for the flavor test (test/flavor-cdktn.test.ts);
 *   3. --package: the real package: package.json from flavors/cdktn/package.template.json, a jsii compile against
 *      cdktn's assemblies, lazy submodules, and `npm pack` into dist/cdktn/.
 * Resolution: .build/ lies inside flavors/cdktn/, so `cdktn`, `@cdktn/provider-aws`, `constructs` (10.7) and cdk8s
 * resolve from flavors/cdktn/node_modules (installed by `node flavors/cdktn/deps.js`), and build tools (esbuild,
 * jsii, @types) from the repository's node_modules further up.
 *
 * Usage: node flavors/cdktn/build.js [--transpile] [--package]
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = __dirname;
const BUILD = path.join(HERE, '.build');

/** Rewrites one TypeScript file's Terraform imports; `rel` is its path under src/ (posix). Throws on unknown ones. */
function rewriteImports(code, rel) {
  const dir = path.posix.dirname(rel);
  const toManifest = (() => {
    let r = path.posix.relative(dir, 'aws/manifest');
    return r.startsWith('.') ? r : `./${r}`;
  })();
  let out = code
    .replace(/(from\s+|require\()'cdktf'/g, "$1'cdktn'")
    .replace(/(from\s+|require\()'@cdktf\/provider-aws\/lib\/([\w-]+)'/g, "$1'@cdktn/provider-aws/lib/$2'")
    .replace(/(from\s+|require\()'@cdktf\/provider-kubernetes\/lib\/manifest'/g, `$1'${toManifest}'`);
  const left = out.match(/(?:from\s+|require\()'(cdktf(?:\/[^']*)?|@cdktf\/[^']*)'/);
  if (left) throw new Error(`flavors/cdktn: no cdktn equivalent for import '${left[1]}' in src/${rel}: add a rewrite rule`);
  // documentation: the package's docs should name its own dependencies
  out = out.replace(/^(\s*(?:\/\*\*|\*|\/\/).*)$/gm, (line) => line
    .replace(/`@cdktf\/provider-kubernetes`/g, 'a kubernetes provider')
    .replace(/@cdktf\/provider-aws/g, '@cdktn/provider-aws')
    .replace(/\bcdktf\b/g, 'cdktn'));
  return out;
}

function walk(dir, base = dir) {
  const files = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...walk(p, base));
    else files.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return files;
}

function writeIfChanged(file, content) {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Step 1: the rewritten copy of src/ in .build/src. Returns the list of files (posix, relative to src/). */
function copySources() {
  const srcDir = path.join(ROOT, 'src');
  const outDir = path.join(BUILD, 'src');
  const files = walk(srcDir).filter((f) => f.endsWith('.ts'));
  const wanted = new Set(files.concat('aws/manifest.ts'));
  for (const rel of files) {
    let code = rewriteImports(fs.readFileSync(path.join(srcDir, rel), 'utf8'), rel);
    if (rel === 'aws/index.ts') code += "export * from './manifest';\n";
    writeIfChanged(path.join(outDir, rel), code);
  }
  writeIfChanged(path.join(outDir, 'aws', 'manifest.ts'), fs.readFileSync(path.join(HERE, 'manifest.ts'), 'utf8'));
  // files removed from src/ since the last build
  if (fs.existsSync(outDir)) for (const rel of walk(outDir)) if (!wanted.has(rel)) fs.rmSync(path.join(outDir, rel));
  return [...wanted];
}

/** The controller bundles (assets/), which src/private/bundles.ts finds at <package>/assets. */
function copyAssets() {
  const from = path.join(ROOT, 'assets');
  if (!fs.existsSync(path.join(from, 'controller'))) {
    console.log('flavors/cdktn: assets/ missing, running `npx projen bundle`');
    execFileSync('npx', ['projen', 'bundle'], { cwd: ROOT, stdio: 'inherit' });
  }
  fs.rmSync(path.join(BUILD, 'assets'), { recursive: true, force: true });
  fs.cpSync(from, path.join(BUILD, 'assets'), { recursive: true });
}

/** The aws-eks-gpu example, against the transpiled flavor (lib/) and cdktn. */
function exampleSource() {
  const code = fs.readFileSync(path.join(ROOT, 'examples', 'aws-eks-gpu', 'main.ts'), 'utf8');
  return code
    .replace(/'@cdktf\/provider-kubernetes\/lib\/provider'/g, "'../kubernetes-provider'")
    .replace(/'@cdktf\/provider-aws\/lib\/([\w-]+)'/g, "'@cdktn/provider-aws/lib/$1'")
    .replace(/'cdktf'/g, "'cdktn'")
    .replace(/'\.\.\/\.\.\/src((?:\/[\w-]+)?)'/g, "'../../lib$1'");
}

/**
 * Step 2: transpile-only build of .build/src into .build/lib (TypeScript's transpileModule: the same JavaScript as
 * the jsii compile, without type checking, in about a second), and the example.
 */
function transpile(files) {
  const ts = require('typescript');
  const options = {
    module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
    experimentalDecorators: true, isolatedModules: true, sourceMap: false,
  };
  const emit = (from, to) => {
    const { outputText } = ts.transpileModule(fs.readFileSync(from, 'utf8'), { compilerOptions: options, fileName: from });
    writeIfChanged(to, outputText);
  };
  for (const f of files) emit(path.join(BUILD, 'src', f), path.join(BUILD, 'lib', f.replace(/\.ts$/, '.js')));
  // same lazy submodules as the package (the root must not load cdktn for Kubernetes users)
  execFileSync(process.execPath, [path.join(ROOT, 'projenrc', 'lazy-submodules.js'), path.join(BUILD, 'lib', 'index.js')], { stdio: 'ignore' });
  const exDir = path.join(BUILD, 'examples');
  writeIfChanged(path.join(exDir, 'aws-eks-gpu', 'main.ts'), exampleSource());
  writeIfChanged(path.join(exDir, 'kubernetes-provider.ts'), fs.readFileSync(path.join(HERE, 'kubernetes-provider.ts'), 'utf8'));
  emit(path.join(exDir, 'aws-eks-gpu', 'main.ts'), path.join(exDir, 'aws-eks-gpu', 'main.js'));
  emit(path.join(exDir, 'kubernetes-provider.ts'), path.join(exDir, 'kubernetes-provider.js'));
}

/** Step 3: the publishable package, compiled by jsii, packed into dist/cdktn/. */
function buildPackage() {
  const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const tpl = JSON.parse(fs.readFileSync(path.join(HERE, 'package.template.json'), 'utf8'));
  const pkg = {
    ...tpl,
    version: rootPkg.version,
    repository: rootPkg.repository,
    author: rootPkg.author,
    license: rootPkg.license,
  };
  delete pkg['//'];
  writeIfChanged(path.join(BUILD, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(BUILD, 'LICENSE'));
  fs.copyFileSync(path.join(HERE, 'README.md'), path.join(BUILD, 'README.md'));
  fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(BUILD, 'tsconfig.dev.json'));
  writeIfChanged(path.join(BUILD, '.npmignore'), ['/src/', '/examples/', '/tsconfig.json', '/tsconfig.dev.json', '*.tsbuildinfo', '!/lib/**/*.d.ts', '!/assets/', '!/.jsii', ''].join('\n'));
  fs.rmSync(path.join(BUILD, 'lib'), { recursive: true, force: true });
  const jsii = path.join(ROOT, 'node_modules', '.bin', 'jsii');
  console.log('flavors/cdktn: jsii compile of .build (against cdktn, @cdktn/provider-aws, constructs 10.7)');
  execFileSync(jsii, ['--silence-warnings=reserved-word'], { cwd: BUILD, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(ROOT, 'projenrc', 'lazy-submodules.js'), 'lib/index.js'], { cwd: BUILD, stdio: 'inherit' });
  const dist = path.join(ROOT, 'dist', 'cdktn');
  fs.mkdirSync(dist, { recursive: true });
  const out = execFileSync('npm', ['pack', '--pack-destination', dist, '--json'], { cwd: BUILD, encoding: 'utf8' });
  const info = JSON.parse(out)[0];
  console.log(`flavors/cdktn: ${path.join('dist', 'cdktn', info.filename)}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`);
}

function main(argv) {
  const pack = argv.includes('--package');
  const t0 = Date.now();
  const files = copySources();
  copyAssets();
  if (pack) buildPackage();
  else transpile(files);
  console.log(`flavors/cdktn: ${pack ? 'package' : 'transpile-only'} build in ${Date.now() - t0} ms (${path.relative(ROOT, BUILD)})`);
}

module.exports = { rewriteImports, exampleSource, BUILD, build: main };
if (require.main === module) main(process.argv.slice(2));
