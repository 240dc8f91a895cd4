/**
 * Runs a synthesized pod's container as the kubelet would, so a test exercises the shipped artifact on the shipped
 * path: the command and args of the container spec, its `env` (literal values, and `valueFrom` ConfigMap/Secret keys
 * read from the API), its volumes (ConfigMap and Secret volumes as one file per key, `items` honoured, read from
 * the API like the kubelet does), the service-account mount (`token`, `ca.crt`, `namespace` under
 * /var/run/secrets/kubernetes.io/serviceaccount) and the API server's address in `KUBERNETES_SERVICE_HOST`/`_PORT`.
 * Nothing else reaches the process: no variable of the test's own environment but PATH.
 *
 * The mounts are bind mounts at the container's paths inside a private mount namespace (`unshare --mount`, util-linux),
 * so they exist only for that process; it runs as the pod's `runAsUser`/`runAsGroup` (`setpriv`). Both need root,
 * which CI has; elsewhere `podRunnerAvailable()` says why not.
 * @see https://kubernetes.io/docs/concepts/configuration/configmap/#using-configmaps-as-files-from-a-pod
 * @see https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod
 * @see https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/#directly-accessing-the-rest-api
 * @see https://kubernetes.io/docs/concepts/services-networking/service/#environment-variables
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubeTwin } from './kube-twin';
import { TlsFront } from './tls-front';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Why pods cannot run here, or undefined when they can (root, `unshare` and `setpriv`). */
export function podRunnerUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'running a pod needs root (bind mounts in a private mount namespace)';
  for (const tool of ['unshare', 'setpriv']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `\`${tool}\` (util-linux) is not installed`;
  }
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  if (probe.status !== 0) return '`unshare --mount` is not permitted in this sandbox';
  return undefined;
}

/** A running container: its output lines so far, and how to stop it. */
export interface RunningPod {
  readonly process: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, as the kubelet sends at a deadline or deletion, then clean up. */
  stop(): Promise<void>;
}

export interface RunPodOptions {
  readonly twin: KubeTwin;
  /** The API server as the pod reaches it (TLS, signed by the CA the pod gets in `ca.crt`). */
  readonly apiServer: TlsFront;
  readonly namespace: string;
  /** The pod spec as synthesized (e.g. a CronJob's `spec.jobTemplate.spec.template.spec`). */
  readonly podSpec: any;
  /** Which container; default the first. */
  readonly container?: string;
}

/** Start the container of `podSpec` as the kubelet would. */
export function runPod(options: RunPodOptions): RunningPod {
  const { twin, apiServer, namespace, podSpec } = options;
  const container = options.container ? podSpec.containers.find((c: any) => c.name === options.container) : podSpec.containers[0];
  if (!container) throw new Error(`no container ${options.container ?? '(first)'} in the pod spec`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pod-'));
  fs.chmodSync(root, 0o755);
  const mounts: Array<{ source: string; target: string }> = [];

  // volumes: one directory per volume, one file per key (or per `items` entry), mode 0644 (the default)
  const volumes = new Map<string, string>();
  for (const v of podSpec.volumes ?? []) {
    const dir = path.join(root, 'volumes', v.name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const files = volumeFiles(twin, namespace, v);
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(dir, file), content, { mode: 0o644 });
    }
    volumes.set(v.name, dir);
  }
  for (const m of container.volumeMounts ?? []) {
    const source = volumes.get(m.name);
    if (!source) throw new Error(`volumeMount ${m.name} names no volume of the pod`);
    mounts.push({ source: m.subPath ? path.join(source, m.subPath) : source, target: m.mountPath });
  }
  // the service account's token, the cluster CA and the namespace (automountServiceAccountToken)
  if (podSpec.automountServiceAccountToken !== false) {
    const sa = path.join(root, 'serviceaccount');
    fs.mkdirSync(sa, { mode: 0o755 });
    fs.writeFileSync(path.join(sa, 'token'), twin.serviceAccountToken(namespace, podSpec.serviceAccountName ?? 'default'), { mode: 0o644 });
    fs.writeFileSync(path.join(sa, 'ca.crt'), apiServer.ca, { mode: 0o644 });
    fs.writeFileSync(path.join(sa, 'namespace'), namespace, { mode: 0o644 });
    mounts.push({ source: sa, target: SA_DIR });
  }

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    KUBERNETES_SERVICE_HOST: apiServer.host,
    KUBERNETES_SERVICE_PORT: String(apiServer.port),
  };
  for (const e of container.env ?? []) env[e.name] = envValue(twin, namespace, e);

  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  if (argv.length === 0) throw new Error('the container has no command: the image\'s entrypoint is not known here');
  const security = { ...(podSpec.securityContext ?? {}), ...(container.securityContext ?? {}) };
  const user = [
    ...(security.runAsUser !== undefined ? [`--reuid=${security.runAsUser}`] : []),
    ...(security.runAsGroup !== undefined ? [`--regid=${security.runAsGroup}`, '--clear-groups'] : []),
  ];
  // mkdir creates the mount points on the host (empty directories); the mounts themselves stay in the namespace
  const script = [
    'set -e',
    ...mounts.flatMap((m) => [`mkdir -p ${sh(m.target)}`, `mount --bind ${sh(m.source)} ${sh(m.target)}`]),
    ...mounts.filter((m) => (container.volumeMounts ?? []).some((v: any) => v.mountPath === m.target && v.readOnly) || m.target === SA_DIR)
      .map((m) => `mount -o remount,bind,ro ${sh(m.target)}`),
    `exec ${user.length > 0 ? `setpriv ${user.join(' ')} ` : ''}${argv.map(sh).join(' ')}`,
  ].join('\n');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  lines(child.stdout!, stdout);
  lines(child.stderr!, stderr);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    stdout,
    stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function volumeFiles(twin: KubeTwin, namespace: string, v: any): Record<string, string | Buffer> {
  const pick = (data: Record<string, string | Buffer>, items?: Array<{ key: string; path: string }>) => (items
    ? Object.fromEntries(items.map((i) => [i.path, data[i.key]]))
    : data);
  if (v.configMap) {
    const cm = twin.object('v1', 'ConfigMap', namespace, v.configMap.name) as any;
    if (!cm) throw new Error(`ConfigMap ${namespace}/${v.configMap.name} of volume ${v.name} does not exist: the kubelet would not start the pod`);
    return pick({ ...(cm.data ?? {}) }, v.configMap.items);
  }
  if (v.secret) {
    const secret = twin.object('v1', 'Secret', namespace, v.secret.secretName) as any;
    if (!secret) throw new Error(`Secret ${namespace}/${v.secret.secretName} of volume ${v.name} does not exist: the kubelet would not start the pod`);
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, b64]) => [k, Buffer.from(String(b64), 'base64')]));
    return pick(data, v.secret.items);
  }
  throw new Error(`volume ${v.name}: only configMap and secret volumes are run here`);
}

function envValue(twin: KubeTwin, namespace: string, e: any): string {
  if (e.value !== undefined) return String(e.value);
  const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
  if (!ref) throw new Error(`env ${e.name}: only value, configMapKeyRef and secretKeyRef are run here`);
  const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
  const obj = twin.object('v1', kind, namespace, ref.name) as any;
  const raw = obj?.data?.[ref.key];
  if (raw === undefined) throw new Error(`env ${e.name}: ${kind} ${namespace}/${ref.name} has no key ${ref.key}`);
  return kind === 'Secret' ? Buffer.from(String(raw), 'base64').toString('utf8') : String(raw);
}

function lines(stream: NodeJS.ReadableStream, into: string[]): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts);
  });
  stream.on('end', () => { if (rest) into.push(rest); });
}

function sh(word: string): string {
  return `'${word.replace(/'/g, '\'\\\'\'')}'`;
}
