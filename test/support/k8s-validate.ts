/**
 * Strict validation of synthesized Kubernetes objects against the upstream models: `kubernetes-models` (core,
 * apps, policy, autoscaling, rbac, batch, ...) and `@kubernetes-models/{gateway-api,keda,karpenter,istio}`.
 *
 * Two checks, because the upstream validators accept unknown fields:
 * 1. unknown fields: every object becomes an object literal typed with its model's interface (`IDeployment`,
 *    `IHTTPRoute`, ...) in a generated `.mts` file that the TypeScript compiler checks; excess-property checking on
 *    fresh literals is recursive, so a misspelled field anywhere is an error, as are wrong types;
 * 2. values: the models' own ajv validators (`new Model(obj).validate()`: required fields, formats, enums).
 * Objects of kinds without an upstream model are errors unless the caller allow-lists the kind with a reason.
 *
 * Both checks run in ONE validator thread for the whole jest run (./k8s-validate-worker.mjs, served from jest's own
 * process by jest-global-setup.js; each worker process reaches it through ./k8s-validate-proxy.mjs): the models'
 * declaration files are parsed and bound once, and the ESM-only model packages imported once, instead of once per
 * batch or per process. Calls stay synchronous.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { MessagePort, Worker as WorkerThread } from 'worker_threads';
import { validatePodMonitor } from './prometheus-operator-schema';

const ROOT = path.join(__dirname, '..', '..');
/** How long a batch may take before the validator thread is taken for dead. */
const TIMEOUT_MS = 120_000;

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

/** The validator thread's handles: realm-neutral, so sharing them does not keep a test file's realm alive. */
interface ValidatorThread {
  readonly worker: WorkerThread;
  readonly port: MessagePort;
  readonly flag: Int32Array;
}
const KEY = Symbol.for('cdk-model-rollout/test/k8s-validator');
/** The `worker_threads` core module itself (`import * as` would give this test file's own wrapper of it). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const coreThreads = () => require('worker_threads') as typeof import('worker_threads') & Record<symbol, ValidatorThread | undefined>;

/**
 * This process' thread to the run's validator (served from jest's own process by jest-global-setup.js, socket path in
 * `MODEL_ROLLOUT_K8S_VALIDATOR`), started when a test file first imports this module. The handles are kept on the
 * `worker_threads` core module, one object per process, so that a runner with a module registry per test file
 * (jest's own) does not start one thread per file.
 */
function validatorThread(): ValidatorThread {
  const threads = coreThreads();
  const existing = threads[KEY];
  if (existing && existing.worker.threadId !== -1) return existing;
  const socket = process.env.MODEL_ROLLOUT_K8S_VALIDATOR;
  if (!socket) throw new Error('no k8s validator: it starts in jest\'s globalSetup (test/support/jest-global-setup.js); run the tests through jest');
  const signal = new SharedArrayBuffer(4);
  const { port1, port2 } = new threads.MessageChannel();
  const worker = new threads.Worker(path.join(__dirname, 'k8s-validate-proxy.mjs'), {
    workerData: { port: port2, signal, socket },
    transferList: [port2],
  });
  // never keeps a jest worker alive; ends with it
  worker.unref();
  port1.unref();
  const created: ValidatorThread = { worker, port: port1, flag: new Int32Array(signal) };
  threads[KEY] = created;
  return created;
}
// started when a test file imports this module, not at its first batch
validatorThread();

/** Runs both checks on `items` in the validator thread, waiting synchronously for the answer. */
function checkInThread(items: ReadonlyArray<{ obj: any; module: string; label: string }>): string[] {
  const thread = validatorThread();
  const threads = coreThreads();
  Atomics.store(thread.flag, 0, 0);
  thread.worker.postMessage({ items });
  if (Atomics.wait(thread.flag, 0, 0, TIMEOUT_MS) === 'timed-out') {
    // a late answer must not be taken for the next batch's: the next call starts a new thread
    threads[KEY] = undefined;
    void thread.worker.terminate();
    throw new Error(`the k8s validator thread did not answer in ${TIMEOUT_MS / 1000} s`);
  }
  const reply = threads.receiveMessageOnPort(thread.port);
  if (!reply) throw new Error('the k8s validator thread answered without a message');
  const answer = JSON.parse(reply.message as string) as { errors?: string[]; failure?: string };
  if (answer.failure !== undefined) throw new Error(`the k8s validator thread failed: ${answer.failure}`);
  return answer.errors!;
}

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
  errors.push(...checkInThread(checked));
  return errors;
}

/** Jest helper: fail with every problem listed. */
export function expectValid(objects: readonly any[], options: ValidateOptions = {}): void {
  const errors = validateStrict(objects, options);
  if (errors.length > 0) throw new Error(`${errors.length} schema problem(s):\n${errors.join('\n')}`);
}
