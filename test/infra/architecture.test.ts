/**
 * The layout's rules, checked on the import graph of src/ (read by TypeScript's import scanner, `ts.preProcessFile`:
 * no module is loaded, nothing is type-checked):
 * - no import cycles, counting every edge madge counts: `import` and `import type`, `export ... from`, `require()`,
 *   `import()` and `typeof import()` in a type;
 * - nothing reachable from the Kubernetes entry point (src/k8s/index.ts) or the target-neutral root imports a
 *   Terraform package, so a Kubernetes-only app never loads cdktf;
 * - private/ folders are re-exported by no index.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { REPO_ROOT } from '../support/paths';

const SRC = path.join(REPO_ROOT, 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Every module specifier a file imports or re-exports, type-only ones included: static imports and re-exports,
 * `require('...')`, `import('...')` in code and in types (comments and strings are not imports).
 */
function specifiers(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles.map((f) => f.fileName);
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, specifiers(f)]));
const rel = (f: string) => path.relative(SRC, f);

describe('the import graph of src/', () => {
  test('has no cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'visiting');
      stack.push(f);
      for (const s of graph.get(f) ?? []) {
        const to = resolveLocal(f, s);
        if (!to) continue;
        if (state.get(to) === 'visiting') cycles.push([...stack.slice(stack.indexOf(to)), to].map(rel).join(' -> '));
        else if (!state.has(to)) visit(to);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  test.each(['k8s/index.ts', 'rollout/index.ts'])('nothing reachable from %s imports a Terraform package', (entry) => {
    const seen = new Set<string>();
    const terraform: string[] = [];
    const walk = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const s of graph.get(f) ?? []) {
        if (/^(cdktf|cdktn|@cdktf\/|@cdktn\/)/.test(s)) terraform.push(`${rel(f)} imports ${s}`);
        const to = resolveLocal(f, s);
        if (to) walk(to);
      }
    };
    walk(path.join(SRC, entry));
    expect(seen.size).toBeGreaterThan(5);
    expect(terraform).toEqual([]);
  });

  test('no index re-exports a private/ folder', () => {
    const leaks = files.filter((f) => f.endsWith('index.ts')).flatMap((f) => (graph.get(f) ?? []).filter((s) => s.includes('private')).map((s) => `${rel(f)}: ${s}`));
    expect(leaks).toEqual([]);
  });
});
