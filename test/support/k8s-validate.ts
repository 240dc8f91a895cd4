/**
 * Strict validation of synthesized Kubernetes objects against the upstream models: `kubernetes-models` (core,
 * apps, policy, autoscaling, rbac, batch, ...) and `@kubernetes-models/{gateway-api,keda,karpenter,istio}`.
 *
 * Two checks, because the upstream validators accept unknown fields:
 * 1. unknown fields: every object becomes an object literal typed with its model's interface (`IDeployment`,
 *    `IHTTPRoute`, ...) in a generated `.mts` file that the TypeScript compiler checks; excess-property checking on
 *    fresh literals is recursive, so a misspelled field anywhere is an error, as are wrong types;
 * 2. values: the models' own ajv validators (`new Model(obj).validate()`: required fields, formats, enums), run
 *    in an ESM child process (the packages are ESM-only; jest runs CommonJS).
 * Objects of kinds without an upstream model are errors unless the caller allow-lists the kind with a reason.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { validatePodMonitor } from './prometheus-operator-schema';

const ROOT = path.join(__dirname, '..', '..');
const WORK = path.join(ROOT, 'node_modules', '.cache', 'k8s-validate');

/** Upstream model packages of API groups that are not built into Kubernetes. */
const THIRD_PARTY: Record<string, string> = {
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'keda.sh': '@kubernetes-models/keda',
  'eventing.keda.sh': '@kubernetes-models/keda',
  'karpenter.sh': '@kubernetes-models/karpenter',
  'karpenter.k8s.aws': '@kubernetes-models/karpenter',
  'networking.istio.io': '@kubernetes-models/istio',
  'security.istio.io': '@kubernetes-models/istio',
  'telemetry.istio.io': '@kubernetes-models/istio',
  'extensions.istio.io': '@kubernetes-models/istio',
};

const exportsCache = new Map<string, Set<string>>();
function hasExport(pkg: string, subpath: string): boolean {
  if (!exportsCache.has(pkg)) {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'));
    exportsCache.set(pkg, new Set(Object.keys(manifest.exports ?? {})));
  }
  return exportsCache.get(pkg)!.has(subpath);
}

/** The module of an apiVersion's models, if an upstream package has them. */
export function modelModule(apiVersion: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '') return hasExport('kubernetes-models', `./${version}`) ? `kubernetes-models/${version}` : undefined;
  const pkg = THIRD_PARTY[group];
  if (pkg) return hasExport(pkg, `./${group}/${version}`) ? `${pkg}/${group}/${version}` : undefined;
  return hasExport('kubernetes-models', `./${group}/${version}`) ? `kubernetes-models/${group}/${version}` : undefined;
}

/** Options of `validateStrict`. */
export interface ValidateOptions {
  /** Kinds (`http.keda.sh/v1alpha1/HTTPScaledObject`) with no upstream model, accepted for the given reason. */
  readonly allow?: Record<string, string>;
}

let previous: ts.Program | undefined;
let batch = 0;

/** Every problem found in `objects`, as `Kind/name: message` lines. Empty when all are valid. */
export function validateStrict(objects: readonly any[], options: ValidateOptions = {}): string[] {
  const errors: string[] = [];
  const checked: Array<{ obj: any; module: string; label: string }> = [];
  for (const obj of objects) {
    const label = `${obj?.kind}/${obj?.metadata?.name}`;
    const id = `${obj?.apiVersion}/${obj?.kind}`;
    const module = typeof obj?.apiVersion === 'string' ? modelModule(obj.apiVersion) : undefined;
    if (id === 'monitoring.coreos.com/v1/PodMonitor') {
      // no upstream typed model installed: checked against the operator's field list (prometheus-operator-schema.ts)
      errors.push(...validatePodMonitor(obj));
      continue;
    }
    if (!module) {
      if (!options.allow?.[id]) errors.push(`${label}: no upstream model for ${id}; allow-list it with a reason if that is expected`);
      continue;
    }
    checked.push({ obj, module, label });
  }
  if (checked.length === 0) return errors;

  // 1. unknown fields and types: TypeScript excess-property checks against the upstream interfaces
  fs.mkdirSync(WORK, { recursive: true });
  const file = path.join(WORK, `batch-${process.pid}-${batch++}.mts`);
  const imports = new Map<string, Set<string>>();
  checked.forEach(({ obj, module }) => {
    if (!imports.has(module)) imports.set(module, new Set());
    imports.get(module)!.add(`I${obj.kind}`);
  });
  const lines: string[] = [];
  for (const [module, names] of imports) lines.push(`import type { ${[...names].join(', ')} } from '${module}';`);
  const starts: number[] = [];
  checked.forEach(({ obj }, i) => {
    starts.push(lines.length);
    lines.push(`export const o${i}: I${obj.kind} = ${JSON.stringify(obj, null, 1)};`.split('\n').join('\n'));
    // count the lines the statement took
    const extra = lines[lines.length - 1].split('\n').length - 1;
    for (let k = 0; k < extra; k++) lines.push('');
  });
  const text = lines.join('\n');
  fs.writeFileSync(file, text);
  try {
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    }, undefined, previous);
    previous = program;
    const source = program.getSourceFile(file)!;
    const objectAt = (pos: number) => {
      const line = source.getLineAndCharacterOfPosition(pos).line;
      let idx = 0;
      while (idx + 1 < checked.length && starts[idx + 1] <= line) idx++;
      return idx;
    };
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const idx = d.start === undefined ? 0 : objectAt(d.start);
      errors.push(`${checked[idx].label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
  } finally {
    fs.rmSync(file, { force: true });
  }

  // 2. values: the models' own validators, in an ESM child process
  const script = `
    let input = '';
    process.stdin.on('data', (c) => { input += c; });
    process.stdin.on('end', async () => {
      const items = JSON.parse(input);
      const out = [];
      for (const { obj, module, label } of items) {
        try {
          const mod = await import(module);
          const Model = mod[obj.kind];
          if (!Model) { out.push(label + ': no model class ' + obj.kind + ' in ' + module); continue; }
          new Model(obj).validate();
        } catch (e) {
          out.push(label + ': ' + String(e.message).replace(/\\s+/g, ' ').slice(0, 500));
        }
      }
      process.stdout.write(JSON.stringify(out));
    });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    input: JSON.stringify(checked),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  errors.push(...(JSON.parse(out) as string[]));
  return errors;
}

/** Jest helper: fail with every problem listed. */
export function expectValid(objects: readonly any[], options: ValidateOptions = {}): void {
  const errors = validateStrict(objects, options);
  if (errors.length > 0) throw new Error(`${errors.length} schema problem(s):\n${errors.join('\n')}`);
}
