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
 *   2. --transpile (default): transpile-only (TypeScript's transpileModule, no type check) into .build/lib/ and copies assets/ beside it,
 *      plus the examples/aws-eks-gpu app rewritten the same way, for the flavor test (test/flavors/cdktn.test.ts);
 *   3. --package: the real package: package.json from flavors/cdktn/package.template.json, a jsii compile against
 *      cdktn's assemblies, lazy submodules, and `npm pack` into dist/cdktn/.
 * Resolution: .build/ lies inside flavors/cdktn/, so `cdktn`, `@cdktn/provider-aws`, `constructs` (10.7) and cdk8s
 * resolve from flavors/cdktn/node_modules (installed by `node flavors/cdktn/deps.js`), and build tools (esbuild,
 * jsii, @types) from the repository's node_modules further up.
 *
 * The same transpile without any rewrite, `--flavor=cdktf`, is the reference build the flavor test compares with
 * (flavors/.build/cdktf, resolving cdktf, its providers and constructs 10.8 from the repository's node_modules).
 *
 * Usage: node flavors/cdktn/build.js [--flavor=cdktn|cdktf] [--package]
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = __dirname;
const BUILD = path.join(HERE, '.build');
/**
 * The package build's own folder: the transpile build (the flavor test's) and the jsii compile (the package, and the
 * Python flavor built from it) may run at the same time in one test run, and each rewrites its lib/.
 */
const PACKAGE_BUILD = path.join(HERE, '.build-package');
/**
 * The reference build for the flavor test: the same transpile of src/ without rewriting. It lives in flavors/.build/,
 * where `cdktf`, its providers, constructs 10.8 and cdk8s resolve from the repository's node_modules.
 */
const BUILD_CDKTF = path.join(ROOT, 'flavors', '.build', 'cdktf');

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

/** The two flavors: where each is built, how its sources and the example are rewritten, and what it adds. */
const FLAVORS = {
  cdktn: {
    dir: BUILD,
    rewrite: (code, rel) => rewriteImports(code, rel) + (rel === 'aws/index.ts' ? "export * from './manifest';\n" : ''),
    extraSources: { 'aws/manifest.ts': path.join(HERE, 'manifest.ts') },
    example: (code) => code
      .replace(/'@cdktf\/provider-kubernetes\/lib\/provider'/g, "'../kubernetes-provider'")
      .replace(/'@cdktf\/provider-aws\/lib\/([\w-]+)'/g, "'@cdktn/provider-aws/lib/$1'")
      .replace(/'cdktf'/g, "'cdktn'"),
    exampleExtras: { 'kubernetes-provider.ts': path.join(HERE, 'kubernetes-provider.ts') },
  },
  cdktf: {
    dir: BUILD_CDKTF,
    rewrite: (code) => code,
    extraSources: {},
    example: (code) => code,
    exampleExtras: {},
  },
};

function walk(dir, base = dir) {
  const files = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...walk(p, base));
    else files.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return files;
}

/** Writes `content` unless the file already holds it; returns whether it wrote. */
function writeIfChanged(file, content) {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return true;
}

/** Step 1: the rewritten copy of src/ in <dir>/src. Returns the files (posix, relative to src/) and which changed. */
function copySources(flavor) {
  const srcDir = path.join(ROOT, 'src');
  const outDir = path.join(flavor.dir, 'src');
  const sources = {};
  for (const rel of walk(srcDir).filter((f) => f.endsWith('.ts'))) sources[rel] = flavor.rewrite(fs.readFileSync(path.join(srcDir, rel), 'utf8'), rel);
  for (const [rel, from] of Object.entries(flavor.extraSources)) sources[rel] = fs.readFileSync(from, 'utf8');
  const changed = Object.keys(sources).filter((rel) => writeIfChanged(path.join(outDir, rel), sources[rel]));
  // files removed from src/ since the last build, and their JavaScript
  for (const rel of walk(outDir)) {
    if (sources[rel] !== undefined) continue;
    fs.rmSync(path.join(outDir, rel));
    fs.rmSync(path.join(flavor.dir, 'lib', rel.replace(/\.ts$/, '.js')), { force: true });
  }
  return { files: Object.keys(sources), changed };
}

/** The controller bundles (assets/), which src/private/bundles.ts finds at <package>/assets. */
function copyAssets(flavor) {
  const from = path.join(ROOT, 'assets');
  if (!fs.existsSync(path.join(from, 'controller'))) {
    console.log('flavors/cdktn: assets/ missing, running `npx projen bundle`');
    execFileSync('npx', ['projen', 'bundle'], { cwd: ROOT, stdio: 'inherit' });
  }
  for (const rel of walk(from)) {
    const to = path.join(flavor.dir, 'assets', rel);
    const content = fs.readFileSync(path.join(from, rel));
    if (fs.existsSync(to) && fs.readFileSync(to).equals(content)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, content);
  }
}

/** The aws-eks-gpu example of a flavor, against its transpiled lib/. */
function exampleSource(flavor) {
  const code = fs.readFileSync(path.join(ROOT, 'examples', 'aws-eks-gpu', 'main.ts'), 'utf8');
  return flavor.example(code).replace(/'\.\.\/\.\.\/src((?:\/[\w-]+)?)'/g, "'../../lib$1'");
}

/**
 * Step 2: transpile-only build of <dir>/src into <dir>/lib (TypeScript's transpileModule: the same JavaScript as
 * the jsii compile, without type checking; only files whose source changed), and the example in <dir>/examples.
 * This builds a package, it does not run TypeScript (scripts run with test/support/register-ts.js): the output must
 * have the jsii compile's shape, which projenrc/lazy-submodules.js rewrites (`exports.k8s = __importStar(require(...))`).
 */
function transpile(flavor, { files, changed }) {
  const ts = require('typescript');
  const options = {
    module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
    experimentalDecorators: true, isolatedModules: true, sourceMap: false,
  };
  const emit = (from, to) => {
    const { outputText } = ts.transpileModule(fs.readFileSync(from, 'utf8'), { compilerOptions: options, fileName: from });
    writeIfChanged(to, outputText);
  };
  const lib = (f) => path.join(flavor.dir, 'lib', f.replace(/\.ts$/, '.js'));
  const todo = new Set(changed);
  for (const f of files) if (!fs.existsSync(lib(f))) todo.add(f);
  for (const f of todo) emit(path.join(flavor.dir, 'src', f), lib(f));
  // same lazy submodules as the package (the root must not load Terraform for Kubernetes users)
  if (todo.has('index.ts')) execFileSync(process.execPath, [path.join(ROOT, 'projenrc', 'lazy-submodules.js'), lib('index.ts')], { stdio: 'ignore' });
  const exDir = path.join(flavor.dir, 'examples');
  const examples = { 'aws-eks-gpu/main.ts': exampleSource(flavor) };
  for (const [rel, from] of Object.entries(flavor.exampleExtras)) examples[rel] = fs.readFileSync(from, 'utf8');
  for (const [rel, code] of Object.entries(examples)) {
    const js = path.join(exDir, rel.replace(/\.ts$/, '.js'));
    if (writeIfChanged(path.join(exDir, rel), code) || !fs.existsSync(js)) emit(path.join(exDir, rel), js);
  }
  return todo.size;
}

/** Step 3: the publishable package, compiled by jsii, packed into dist/cdktn/. */
function buildPackage(dir) {
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
  writeIfChanged(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE'));
  fs.copyFileSync(path.join(HERE, 'README.md'), path.join(dir, 'README.md'));
  // the root's compiler options (rootDir src, outDir lib, strict), which jsii validates
  fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  writeIfChanged(path.join(dir, '.npmignore'), ['/src/', '/examples/', '/tsconfig.json', '*.tsbuildinfo', '!/lib/**/*.d.ts', '!/assets/', '!/.jsii', ''].join('\n'));
  fs.rmSync(path.join(dir, 'lib'), { recursive: true, force: true });
  const jsii = path.join(ROOT, 'node_modules', '.bin', 'jsii');
  console.log(`flavors/cdktn: jsii compile of ${path.relative(HERE, dir)} (against cdktn, @cdktn/provider-aws, constructs 10.7)`);
  execFileSync(jsii, ['--silence-warnings=reserved-word'], { cwd: dir, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(ROOT, 'projenrc', 'lazy-submodules.js'), 'lib/index.js'], { cwd: dir, stdio: 'inherit' });
  const dist = path.join(ROOT, 'dist', 'cdktn');
  fs.mkdirSync(dist, { recursive: true });
  const out = execFileSync('npm', ['pack', '--pack-destination', dist, '--json'], { cwd: dir, encoding: 'utf8' });
  const info = JSON.parse(out)[0];
  console.log(`flavors/cdktn: ${path.join('dist', 'cdktn', info.filename)}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`);
}

/**
 * Builds a flavor. `--package` (cdktn only): the publishable package; otherwise the transpile-only build.
 * Returns the build folder.
 */
function build(argv = [], name = 'cdktn') {
  const pack = argv.includes('--package');
  const flavor = pack ? { ...FLAVORS[name], dir: PACKAGE_BUILD } : FLAVORS[name];
  const t0 = Date.now();
  const sources = copySources(flavor);
  copyAssets(flavor);
  let what;
  if (pack) {
    if (name !== 'cdktn') throw new Error('only the cdktn flavor is packaged here (the main package is the projen build)');
    buildPackage(flavor.dir);
    what = 'package';
  } else {
    what = `transpile-only, ${transpile(flavor, sources)} file(s) transpiled`;
  }
  console.log(`flavors: ${name} ${what} in ${Date.now() - t0} ms (${path.relative(ROOT, flavor.dir)})`);
  return flavor.dir;
}

module.exports = { rewriteImports, exampleSource: (name) => exampleSource(FLAVORS[name]), build, BUILD, BUILD_CDKTF, PACKAGE_BUILD };
if (require.main === module) {
  const argv = process.argv.slice(2);
  const flavor = argv.find((a) => a.startsWith('--flavor='))?.slice('--flavor='.length) ?? 'cdktn';
  build(argv, flavor);
}
