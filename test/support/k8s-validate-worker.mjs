// The validator thread behind test/support/k8s-validate.ts: one per jest worker process, alive as long as it is.
// It keeps what is expensive to build between batches: the parsed and bound declaration files of the upstream
// models and TypeScript's libraries, module resolutions, and the imported model classes (the packages are
// ESM-only; jest runs CommonJS). Each request is one batch; the answer goes back on `port` and `flag` wakes the
// caller, who waits synchronously (Atomics.wait), so `validateStrict()` stays a plain function.
import path from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import ts from 'typescript';

const { port, signal } = workerData;
const flag = new Int32Array(signal);

const options = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  // the project's lib (tsconfig.json): no DOM declarations to parse; the models' declarations check cleanly with it
  lib: ['lib.es2022.d.ts'],
};

// every file but the batch is immutable while the thread lives: parse (and bind) each once
const base = ts.createCompilerHost(options, true);
const sources = new Map();
const resolutions = ts.createModuleResolutionCache(base.getCurrentDirectory(), (f) => f, options);
let batch = { name: '', text: '' };
let previousProgram;
const host = {
  ...base,
  fileExists: (f) => f === batch.name || base.fileExists(f),
  readFile: (f) => (f === batch.name ? batch.text : base.readFile(f)),
  getSourceFile(fileName, languageVersionOrOptions, onError) {
    if (fileName === batch.name) return ts.createSourceFile(fileName, batch.text, languageVersionOrOptions, true);
    let sf = sources.get(fileName);
    if (!sf) {
      sf = base.getSourceFile(fileName, languageVersionOrOptions, onError);
      if (sf) sources.set(fileName, sf);
    }
    return sf;
  },
  getModuleResolutionCache: () => resolutions,
  resolveModuleNameLiterals(literals, containingFile, redirectedReference, compilerOptions, containingSourceFile) {
    return literals.map((literal) => ts.resolveModuleName(literal.text, containingFile, compilerOptions, host, resolutions,
      redirectedReference, ts.getModeForUsageLocation(containingSourceFile, literal, compilerOptions)));
  },
};

/** 1. unknown fields and types: TypeScript excess-property checks against the upstream interfaces. */
function typeErrors(file, items) {
  const imports = new Map();
  for (const { obj, module } of items) {
    if (!imports.has(module)) imports.set(module, new Set());
    imports.get(module).add(`I${obj.kind}`);
  }
  const statements = [];
  for (const [module, names] of imports) statements.push(`import type { ${[...names].join(', ')} } from '${module}';`);
  // the line each object's statement starts on, to name the object a diagnostic belongs to
  const starts = [];
  let line = statements.length;
  items.forEach(({ obj }, i) => {
    const statement = `export const o${i}: I${obj.kind} = ${JSON.stringify(obj, null, 1)};`;
    starts.push(line);
    line += statement.split('\n').length;
    statements.push(statement);
  });
  // one file name per thread and the previous program passed as `oldProgram`: TypeScript then reuses the program's
  // structure (module resolutions, the processed import graph of the models' declarations) when only the batch's
  // text changed (`tryReuseStructureFromOldProgram`, typescript/src/compiler/program.ts), instead of walking the
  // whole graph again for every batch
  const name = path.join(path.dirname(file), `batch-${threadId}.mts`);
  batch = { name, text: statements.join('\n') };
  const program = ts.createProgram({ rootNames: [name], options, host, oldProgram: previousProgram });
  previousProgram = program;
  const source = program.getSourceFile(name);
  const objectAt = (pos) => {
    const line = source.getLineAndCharacterOfPosition(pos).line;
    let idx = 0;
    while (idx + 1 < items.length && starts[idx + 1] <= line) idx++;
    return idx;
  };
  const errors = [];
  for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
    const idx = d.start === undefined ? 0 : objectAt(d.start);
    errors.push(`${items[idx].label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return errors;
}

/** 2. values: the models' own validators (`new Model(obj).validate()`: required fields, formats, enums). */
async function valueErrors(items) {
  const errors = [];
  for (const { obj, module, label } of items) {
    try {
      const mod = await import(module);
      const Model = mod[obj.kind];
      if (!Model) {
        errors.push(`${label}: no model class ${obj.kind} in ${module}`);
        continue;
      }
      new Model(obj).validate();
    } catch (e) {
      errors.push(`${label}: ${String(e.message).replace(/\s+/g, ' ').slice(0, 500)}`);
    }
  }
  return errors;
}

parentPort.on('message', async ({ file, items, warmup }) => {
  if (warmup) {
    // load and check what a first batch needs while the test file is still loading; no answer
    await Promise.all([typeErrors(file, items), valueErrors(items)]).catch(() => undefined);
    return;
  }
  let answer;
  try {
    answer = { errors: [...typeErrors(file, items), ...(await valueErrors(items))] };
  } catch (e) {
    answer = { failure: String(e?.stack ?? e) };
  }
  port.postMessage(JSON.stringify(answer));
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
