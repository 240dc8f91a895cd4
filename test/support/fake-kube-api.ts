/**
 * A FAKE Kubernetes API server on loopback (plain HTTP), for the controller's Kubernetes adapter tests.
 * It enforces the API rules the controller relies on, and nothing more:
 * - bearer-token authentication (401 otherwise);
 * - RBAC as an allow-list of (verb, path) pairs: anything else is 403 Forbidden;
 * - 404 for unknown objects;
 * - resourceVersion: bumped on every write; a JSON-patch `test` of `/metadata/resourceVersion` that does not
 *   match fails with 409 Conflict (the real API server answers a failed `test` with 422; the adapter treats
 *   both as a conflict);
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
  /** Called before a PATCH is applied (to simulate a concurrent writer). */
  public beforePatch?: (path: string) => void;
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
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
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
      if (this.allow && !this.allow.has(`${method} ${path}`)) return reply(403, failure(403, `forbidden: ${method} ${path}`));
      const scale = path.endsWith('/scale');
      const objectPath = scale ? path.slice(0, -'/scale'.length) : path;
      const obj = this.objects.get(objectPath);
      if (!obj) return reply(404, failure(404, `${objectPath} not found`));
      if (method === 'GET') return reply(200, obj);
      if (method !== 'PATCH') return reply(405, failure(405, 'MethodNotAllowed'));
      this.beforePatch?.(objectPath);
      const next: Obj = JSON.parse(JSON.stringify(obj));
      if (contentType === 'application/json-patch+json') {
        for (const op of body as Array<{ op: string; path: string; value?: unknown }>) {
          const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
          const parent = keys.slice(0, -1).reduce((o: any, k) => (o == null ? undefined : o[k]), next);
          const key = keys[keys.length - 1];
          if (op.op === 'test') {
            if (JSON.stringify(parent?.[key]) !== JSON.stringify(op.value)) {
              return reply(409, failure(409, `Operation cannot be fulfilled: the object has been modified (${op.path} is ${JSON.stringify(parent?.[key])}, not ${JSON.stringify(op.value)})`));
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
      next.metadata.resourceVersion = String(++this.version);
      this.objects.set(objectPath, next);
      return reply(200, next);
    });
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
