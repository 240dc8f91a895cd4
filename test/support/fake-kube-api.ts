/**
 * A FAKE Kubernetes API server on loopback (plain HTTP), for the controller's Kubernetes adapter tests.
 * It enforces the API rules the controller relies on, and nothing more:
 * - bearer-token authentication (401 otherwise);
 * - RBAC as an allow-list of (verb, path) pairs: anything else is 403 Forbidden;
 * - 404 for unknown objects;
 * - resourceVersion: bumped on every write. A JSON-patch `test` that does not match fails with 422
 *   Unprocessable Entity, as the real API server answers it (kubernetes/kubernetes#68346: "kube-apiserver would
 *   return 422 Unprocessable Entity when a json patch couldn't be applied"; message from evanphx/json-patch,
 *   "testing value <path> failed"), whichever path was tested. A PUT (update) whose `metadata.resourceVersion`
 *   is stale fails with 409 Conflict ("the object has been modified; please apply your changes to the latest
 *   version and try again"), like the real one;
 * - `immutable: true` ConfigMaps refuse every change to `data` with 422 (field is immutable);
 * - `faults`: scripted answers (status, Retry-After, slow trickle) for the next requests to a path;
 * - JSON patch (add/replace/remove/test on object paths), JSON merge patch, and the Deployment `scale`
 *   subresource (PATCH sets the Deployment's `spec.replicas`).
 */
import * as http from 'http';
import * as net from 'net';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string }; [k: string]: any };

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: unknown;
  readonly status: number;
}

export class FakeKubeApi {
  public readonly objects = new Map<string, Obj>();
  public readonly requests: FakeRequest[] = [];
  /** Allowed `VERB path` pairs; undefined allows everything. */
  public allow?: Set<string>;
  /** Called before a PATCH is applied (to simulate a concurrent writer); may be async (a race at that point). */
  public beforePatch?: (path: string) => void | Promise<void>;
  /**
   * Applied to a patched object before it is stored, as a CRD's structural schema prunes fields it does not know
   * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning).
   */
  public prune?: (path: string, obj: Obj) => void;
  /** Called before any request is answered (a race at every API call). */
  public beforeRequest?: (method: string, path: string) => void | Promise<void>;
  /** Scripted answers for the next requests to a path: status (with Retry-After seconds), or a slow trickle. */
  public readonly faults: Array<{ path: string; status?: number; retryAfter?: string; trickleMs?: number }> = [];
  private server?: http.Server;
  private version = 100;
  public url = '';

  constructor(public readonly token = 'test-token') {}

  public put(path: string, obj: Obj): void {
    this.objects.set(path, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.version) } });
  }

  /** Simulate another writer touching an object (bumps its resourceVersion). */
  public touch(path: string): void {
    const o = this.objects.get(path);
    if (o) o.metadata.resourceVersion = String(++this.version);
  }

  public async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this.url;
  }

  public async stop(): Promise<void> {
    const closed = new Promise<void>((r) => this.server?.close(() => r()));
    // close() waits for the open connections to end (https://nodejs.org/api/http.html#serverclosecallback): after
    // the CLI's not-found test (two parallel reads, one failing) one stayed open until the server's keep-alive
    // timeout, 4 s of the suite. Teardown ends them all.
    this.server?.closeAllConnections();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => void this.answer(req, res, raw));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    {
      const method = req.method ?? 'GET';
      const path = (req.url ?? '').split('?')[0];
      const contentType = req.headers['content-type'];
      const body = raw ? JSON.parse(raw) : undefined;
      const reply = (status: number, payload: unknown) => {
        this.requests.push({ method, path, contentType, body, status });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401, failure(401, 'Unauthorized'));
      await this.beforeRequest?.(method, path);
      const fault = this.faults.findIndex((f) => f.path === path);
      if (fault >= 0) {
        const f = this.faults.splice(fault, 1)[0];
        if (f.trickleMs) {
          // headers now, then one byte per interval: an idle timeout never fires
          this.requests.push({ method, path, contentType, body, status: 200 });
          res.writeHead(200, { 'content-type': 'application/json' });
          const timer = setInterval(() => { if (!res.writableEnded) res.write(' '); }, f.trickleMs);
          res.on('close', () => clearInterval(timer));
          return;
        }
        this.requests.push({ method, path, contentType, body, status: f.status! });
        res.writeHead(f.status!, { 'content-type': 'application/json', ...(f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}) });
        res.end(JSON.stringify(failure(f.status!, 'scripted fault')));
        return;
      }
      if (this.allow && !this.allow.has(`${method} ${path}`)) return reply(403, failure(403, `forbidden: ${method} ${path}`));
      const scale = path.endsWith('/scale');
      const objectPath = scale ? path.slice(0, -'/scale'.length) : path;
      const obj = this.objects.get(objectPath);
      if (!obj) return reply(404, failure(404, `${objectPath} not found`));
      if (method === 'GET') return reply(200, obj);
      if (method === 'PUT') {
        const sent = body as Obj;
        if (sent.metadata?.resourceVersion !== undefined && sent.metadata.resourceVersion !== obj.metadata.resourceVersion) {
          return reply(409, { ...failure(409, `Operation cannot be fulfilled on ${objectPath}: the object has been modified; please apply your changes to the latest version and try again`), reason: 'Conflict' });
        }
        const next = { ...sent, metadata: { ...sent.metadata, resourceVersion: String(++this.version) } };
        this.objects.set(objectPath, next);
        return reply(200, next);
      }
      if (method !== 'PATCH') return reply(405, failure(405, 'MethodNotAllowed'));
      await this.beforePatch?.(objectPath);
      const current = this.objects.get(objectPath)!;
      const next: Obj = JSON.parse(JSON.stringify(current));
      if (contentType === 'application/json-patch+json') {
        for (const op of body as Array<{ op: string; path: string; value?: unknown }>) {
          const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
          const parent = keys.slice(0, -1).reduce((o: any, k) => (o == null ? undefined : o[k]), next);
          const key = keys[keys.length - 1];
          if (op.op === 'test') {
            if (JSON.stringify(parent?.[key]) !== JSON.stringify(op.value)) {
              return reply(422, { ...failure(422, `the server rejected our request due to an error in our request: testing value ${op.path} failed: test failed`), reason: 'Invalid' });
            }
          } else if (parent == null || typeof parent !== 'object') {
            return reply(422, failure(422, `doc is missing path: ${op.path}`));
          } else if (op.op === 'remove') {
            delete parent[key];
          } else {
            parent[key] = op.value;
          }
        }
      } else if (contentType === 'application/merge-patch+json') {
        if (scale) next.spec = { ...next.spec, replicas: (body as any).spec.replicas };
        else merge(next, body);
      } else {
        return reply(415, failure(415, `unsupported content type ${contentType}`));
      }
      if (current.immutable === true && JSON.stringify(current.data) !== JSON.stringify(next.data)) {
        return reply(422, { ...failure(422, `ConfigMap "${current.metadata.name}" is invalid: data: Forbidden: field is immutable when \`immutable\` is set`), reason: 'Invalid' });
      }
      this.prune?.(objectPath, next);
      next.metadata.resourceVersion = String(++this.version);
      this.objects.set(objectPath, next);
      return reply(200, next);
    }
  }
}

function merge(target: any, patch: any): void {
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) merge(target[k], v);
    else target[k] = v;
  }
}

function failure(code: number, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code };
}
