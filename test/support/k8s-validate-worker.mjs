// The validator thread behind test/support/k8s-validate.ts. It keeps what is expensive to build between batches:
// the parsed and bound declaration files of the upstream models and TypeScript's libraries, module resolutions,
// and the imported model classes (the packages are ESM-only; jest runs CommonJS). Each request is one batch.
// There is ONE for the whole jest run, started by jest-global-setup.js in jest's own process, answering every worker
// process on a Unix socket (`workerData.socket`), one JSON line per batch each way; the workers reach it through
// ./k8s-validate-proxy.mjs, and their callers wait synchronously (Atomics.wait), so `validateStrict()` stays a plain
// function. Loading TypeScript and the models costs ~2 s of CPU, paid once instead of once per worker process.
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, threadId, workerData } from 'node:worker_threads';

// Listening comes first: jest's global setup waits for it, not for TypeScript to load (~1 s); batches wait for that
// here, behind the warm-up.
let loaded;
const ready = new Promise((resolve) => { loaded = resolve; });
// The one batch file, in memory only: its path decides how its imports resolve (from the project's node_modules)
const BATCH_FILE = path.join(fileURLToPath(new URL('../../node_modules/.cache/k8s-validate/', import.meta.url)), `batch-${threadId}.mts`);
// batches from every worker process, one at a time (typeErrors reuses one program; valueErrors awaits imports)
let queue = ready.then(() => warmUp());
const server = net.createServer((conn) => {
  conn.setEncoding('utf8');
  let pending = '';
  conn.on('data', (chunk) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const request = JSON.parse(pending.slice(0, end));
      pending = pending.slice(end + 1);
      queue = queue.then(() => answer(request)).then((text) => { conn.write(`${text}\n`); });
    }
  });
  conn.on('error', () => undefined);
});
server.listen(workerData.socket, () => parentPort.postMessage('listening'));
const { default: ts } = await import('typescript');

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

/**
 * Model modules imported by some batch so far, in the order first seen. Every batch imports all of them, in that
 * order, so the batch file's imports stay the same from one batch to the next (a new module changes them once).
 */
const knownModules = [
  // the API groups this library renders, known from the start (a hint: any other module joins when first seen), so
  // the warm-up parses them all and the batches that follow reuse that structure from the first one on
  'kubernetes-models/apps/v1', 'kubernetes-models/v1', 'kubernetes-models/policy/v1', 'kubernetes-models/batch/v1',
  'kubernetes-models/autoscaling/v2', 'kubernetes-models/rbac.authorization.k8s.io/v1',
  '@kubernetes-models/keda/keda.sh/v1alpha1', '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
  '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1', '@kubernetes-models/karpenter/karpenter.sh/v1',
  '@kubernetes-models/karpenter/karpenter.k8s.aws/v1', '@kubernetes-models/istio/networking.istio.io/v1alpha3',
];

/** 1. unknown fields and types: TypeScript excess-property checks against the upstream interfaces; per item. */
function typeErrors(items) {
  for (const { module } of items) if (!knownModules.includes(module)) knownModules.push(module);
  const statements = knownModules.map((module, i) => `import type * as m${i} from '${module}';`);
  // the line each object's statement starts on, to name the object a diagnostic belongs to
  const starts = [];
  let line = statements.length;
  items.forEach(({ obj, module }, i) => {
    const statement = `export const o${i}: m${knownModules.indexOf(module)}.I${obj.kind} = ${JSON.stringify(obj, null, 1)};`;
    starts.push(line);
    line += statement.split('\n').length;
    statements.push(statement);
  });
  // one file name (`BATCH_FILE`), the same imports in every batch (`knownModules`) and the previous program passed as
  // `oldProgram`: TypeScript then reuses the program's structure (module resolutions, the processed import graph of
  // the models' declarations) when only the batch's text changed (`tryReuseStructureFromOldProgram`,
  // typescript/src/compiler/program.ts: imports unchanged, so `StructureIsReused.Completely`), instead of walking the
  // whole graph again for every batch (measured: 2.2 s of the validator's CPU over a run, when each batch imported
  // only the kinds it held)
  const name = BATCH_FILE;
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
  const errors = items.map(() => []);
  for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
    const idx = d.start === undefined ? 0 : objectAt(d.start);
    errors[idx].push(`${items[idx].label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return errors;
}

/** 2. values: the models' own validators (`new Model(obj).validate()`: required fields, formats, enums); per item. */
async function valueErrors(items) {
  const errors = [];
  for (const { obj, module, label } of items) {
    try {
      const mod = await import(module);
      const Model = mod[obj.kind];
      if (!Model) {
        errors.push([`${label}: no model class ${obj.kind} in ${module}`]);
        continue;
      }
      new Model(obj).validate();
      errors.push([]);
    } catch (e) {
      errors.push([`${label}: ${String(e.message).replace(/\s+/g, ' ').slice(0, 500)}`]);
    }
  }
  return errors;
}

/**
 * Each item's errors by its module, label and JSON: the checks are pure and judge every object on its own (its own
 * statement in the batch file, its own model instance), so an object seen before has the same errors. Tests
 * synthesize the same manifests again and again: over a run about half of the objects, and 72 % of their bytes, had
 * been checked before.
 */
const seen = new Map();

/** One batch's answer as the caller reads it: `{ errors }`, or `{ failure }` when the checks themselves broke. */
async function answer({ items }) {
  try {
    const keys = items.map(({ obj, module, label }) => `${module}\n${label}\n${JSON.stringify(obj)}`);
    const fresh = [];
    const freshKeys = new Set();
    items.forEach((item, i) => {
      if (!seen.has(keys[i]) && !freshKeys.has(keys[i])) {
        freshKeys.add(keys[i]);
        fresh.push(item);
      }
    });
    if (fresh.length > 0) {
      const types = typeErrors(fresh);
      const values = await valueErrors(fresh);
      [...freshKeys].forEach((key, j) => seen.set(key, { types: types[j], values: values[j] }));
    }
    // type errors first, then value errors, each in the items' order
    const checked = keys.map((key) => seen.get(key));
    return JSON.stringify({ errors: [...checked.flatMap((c) => c.types), ...checked.flatMap((c) => c.values)] });
  } catch (e) {
    return JSON.stringify({ failure: String(e?.stack ?? e) });
  }
}

/** Load and check what a first batch needs, while jest starts its workers. */
async function warmUp() {
  const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'warmup' } };
  // a failure here shows again, with its message, in the first real batch's answer
  await answer({ items: [{ obj, module: 'kubernetes-models/apps/v1', label: 'warmup' }] });
}

loaded();
