#!/usr/bin/env node
// The static checks of `npm test` in one process over ONE TypeScript program:
//
//   node test/support/static-checks.js [--tsconfig test/tsconfig.json] [--fix] [--] [extra files...]
//
// 1. Type-check: builds a `ts.Program` from test/tsconfig.json (src, tests, examples, bench), plus .projenrc.ts,
//    and prints what `tsc --noEmit -p` reports, in tsc's format (see `typeCheck`: the same calls in the same
//    order as tsc's `emitFilesAndReportErrors`, declaration diagnostics included).
// 2. Lint: ESLint through its Node API, same config (.eslintrc.json), same patterns and extensions as the `eslint`
//    task (.projenrc.ts / .projen/tasks.json), with `parserOptions.programs = [program]` and the project service
//    turned off. typescript-eslint then takes each file's AST and type checker from that program
//    (@typescript-eslint/typescript-estree dist/parser.js: `parseSettings.programs` -> `useProvidedPrograms`) instead
//    of building its own programs through the project service (which cost ~15 s of CPU here: a second and third
//    parse and bind of the same 1500 files).
//
// Fixes: the `eslint` task runs with `--fix`, so a fixable problem does not fail it. A provided program cannot be
// re-parsed after a fix (its source files keep the old text, typescript-estree's fix-cycle fallback exists only for
// its own single-run programs), so this pass lints without fixing; files with fixable problems are then linted
// again by a stock ESLint (the .eslintrc.json config, project service) with `fix: true`, and the fixes are written,
// exactly as `projen eslint` would. Only those files cost the second pass, usually none.
//
// Exits non-zero when tsc or `projen eslint` would: any TypeScript error, or any ESLint error left after fixing.
'use strict';
// before TypeScript and ESLint load: V8's tier-up threshold for a short-lived process (./v8-tiering.js)
require('./v8-tiering').tuneTiering();
const path = require('path');
const ts = require('typescript');

const root = path.join(__dirname, '..', '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const tsconfigPath = path.resolve(root, option('--tsconfig', 'test/tsconfig.json'));
const split = argv.indexOf('--');
const extraFiles = split >= 0 ? argv.slice(split + 1).map((f) => path.resolve(root, f)) : [];
// the `eslint` task's patterns (.projen/tasks.json); missing ones are skipped as with --no-error-on-unmatched-pattern
const lintPatterns = ['src', 'test', 'build-tools', 'examples', 'bench', 'projenrc', '.projenrc.ts'];
const lintExtensions = ['.ts', '.tsx'];

const started = process.hrtime.bigint();
const seconds = () => `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`;

function createProgram() {
  const config = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  // .projenrc.ts is linted (allowDefaultProject) but in no tsconfig that `tsc -p test/tsconfig.json` reads:
  // it joins the program so the lint pass finds it there, and it is type-checked too (it passes)
  const rootNames = [...new Set([...config.fileNames, path.join(root, '.projenrc.ts'), ...extraFiles])];
  const program = ts.createProgram({ rootNames, options: config.options, projectReferences: config.projectReferences });
  return { program, configDiagnostics: config.errors };
}

/**
 * The diagnostics `tsc --noEmit -p` reports, in its order and with its short-circuits: typescript/src/compiler/
 * watch.ts `emitFilesAndReportErrors` (config file, syntactic; then options and global; then semantic; then, with
 * `noEmit` and `declaration` as here, the declaration diagnostics). tsc exits non-zero on any of them.
 */
function typeCheck(program, configDiagnostics) {
  const all = [...configDiagnostics];
  const clean = () => all.length === configDiagnostics.length;
  all.push(...program.getSyntacticDiagnostics());
  if (clean()) {
    all.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
    if (clean()) all.push(...program.getSemanticDiagnostics());
    const options = program.getCompilerOptions();
    if (options.noEmit && (options.declaration || options.composite) && clean()) all.push(...program.getDeclarationDiagnostics());
  }
  const diagnostics = ts.sortAndDeduplicateDiagnostics(all);
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => ts.sys.newLine };
  if (diagnostics.length > 0) {
    process.stdout.write(ts.formatDiagnostics(diagnostics, host));
  }
  return diagnostics.length;
}

async function lint(program) {
  const { loadESLint } = require('eslint');
  // the project's config is .eslintrc.json (projen), as under the `eslint` task's ESLINT_USE_FLAT_CONFIG=false
  const LegacyESLint = await loadESLint({ useFlatConfig: false });
  const patterns = lintPatterns.filter((p) => require('fs').existsSync(path.join(root, p)));
  const shared = { cwd: root, extensions: lintExtensions, errorOnUnmatchedPattern: false };
  const eslint = new LegacyESLint({
    ...shared,
    fix: false,
    overrideConfig: { parserOptions: { projectService: false, project: null, programs: [program] } },
  });
  let results = await eslint.lintFiles(patterns);
  const fixable = results.filter((r) => r.fixableErrorCount + r.fixableWarningCount > 0).map((r) => r.filePath);
  if (fixable.length > 0) {
    // what `eslint --fix` does for these files: stock config, fixes written, the remaining problems reported
    const fixer = new LegacyESLint({ ...shared, fix: true });
    const fixed = await fixer.lintFiles(fixable);
    await LegacyESLint.outputFixes(fixed);
    const byPath = new Map(fixed.map((r) => [r.filePath, r]));
    results = results.map((r) => byPath.get(r.filePath) ?? r);
    process.stdout.write(`eslint: fixed ${fixed.filter((r) => r.output !== undefined).length} file(s): ${fixable.map((f) => path.relative(root, f)).join(', ')}\n`);
  }
  const formatter = await eslint.loadFormatter('stylish');
  const text = await formatter.format(results);
  if (text) process.stdout.write(text);
  return { errors: results.reduce((n, r) => n + r.errorCount, 0), files: results.length };
}

(async () => {
  const { program, configDiagnostics } = createProgram();
  const typeErrors = typeCheck(program, configDiagnostics);
  const checkedAt = seconds();
  const { errors: lintErrors, files } = await lint(program);
  process.stdout.write(`static checks: ${program.getRootFileNames().length} root files type-checked (${typeErrors} error(s), ${checkedAt}), `
    + `${files} files linted (${lintErrors} error(s)), ${seconds()} in all\n`);
  if (typeErrors > 0) process.stdout.write(`tsc: Found ${typeErrors} error(s).\n`);
  process.exitCode = typeErrors > 0 || lintErrors > 0 ? 1 : 0;
})().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exitCode = 2;
});
