/**
 * A minimal Kubernetes API client over node:https: GET, JSON patch and merge patch, with the in-cluster service
 * account (token, CA, namespace) or explicit credentials (the CLI's kubeconfig). No dependencies.
 */
import * as fs from 'fs';
import { notInCluster } from '../errors';
import { HttpError, request } from '../http-request';

/** Where the API is and how to authenticate. */
export interface KubeConnection {
  readonly server: string;
  readonly token?: string;
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly insecureSkipTlsVerify?: boolean;
  readonly timeoutMs?: number;
  /** Client-side rate limit: requests a second on average. @default KUBE_QPS */
  readonly qps?: number;
  /** Client-side rate limit: requests sent at once before the average applies. @default KUBE_BURST */
  readonly burst?: number;
}

/**
 * Default client-side rate limit of one controller process: 200 requests a second, bursts of 400 (the CronJob's
 * ROLLOUT_KUBE_QPS and ROLLOUT_KUBE_BURST override them). client-go's defaults (5 and 10: rest.Config QPS/Burst)
 * are for controllers that watch and read from a cache; Argo CD's application controller, which also reads
 * without a watch per object, defaults to 50 and 100 (ARGOCD_K8S_CLIENT_QPS/BURST). This controller lists once per
 * pass and then writes about one state per progressing rollout per tick (five when it takes a step), so 1,000
 * rollouts at 10 s ticks need 100 requests a second and more when many step at once; API Priority and Fairness answers an overloaded server with 429 and Retry-After, which the
 * client honours (http-request.ts).
 * @see https://kubernetes.io/docs/concepts/cluster-administration/flow-control/
 */
export const KUBE_QPS = 200;
export const KUBE_BURST = 400;

/** A token bucket: `take()` resolves when a request may be sent (FIFO, no busy wait). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly qps: number, private readonly burst: number, private readonly clock: () => number = Date.now) {
    this.tokens = burst;
    this.last = clock();
  }

  public take(): Promise<void> {
    const next = this.queue.then(async () => {
      const now = this.clock();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        await new Promise((r) => setTimeout(r, ((1 - this.tokens) / this.qps) * 1000));
        this.tokens = 1;
        this.last = this.clock();
      }
      this.tokens -= 1;
    });
    this.queue = next;
    return next;
  }
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster connection of a pod's service account. */
export function inClusterConnection(): KubeConnection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw notInCluster();
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: fs.readFileSync(`${SA_DIR}/token`, 'utf8').trim(),
    ca: fs.readFileSync(`${SA_DIR}/ca.crt`),
    ...positive('qps', process.env[ENV_KUBE_QPS]),
    ...positive('burst', process.env[ENV_KUBE_BURST]),
  };
}

/** Overrides of the client-side rate limit (requests a second, and burst). */
export const ENV_KUBE_QPS = 'ROLLOUT_KUBE_QPS';
export const ENV_KUBE_BURST = 'ROLLOUT_KUBE_BURST';

function positive(key: 'qps' | 'burst', value: string | undefined): { qps?: number; burst?: number } {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? { [key]: n } : {};
}

/** The pod's namespace, from the service account mount. */
export function inClusterNamespace(): string | undefined {
  try {
    return fs.readFileSync(`${SA_DIR}/namespace`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** One JSON-patch operation. */
export type JsonPatchOp =
  | { readonly op: 'test' | 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/** A Kubernetes object as JSON. */
export type KubeObject = { metadata: { name: string; namespace?: string; resourceVersion?: string }; [key: string]: any };

/** 409 Conflict: the API's answer to a stale resourceVersion on update. */
function isConflict(e: unknown): boolean {
  return e instanceof HttpError && e.status === 409;
}

/**
 * Whether a failed guarded write failed because the object moved on since `version`. The API server answers a
 * failed JSON-patch `test` with 422 Unprocessable Entity (kubernetes/kubernetes#68346), the same status as a
 * patch it refuses for good (an immutable ConfigMap, an invalid object): re-read the resourceVersion to tell.
 */
export async function movedOn(kube: KubeClient, path: string, e: unknown, version: string | undefined): Promise<boolean> {
  if (isConflict(e)) return true;
  if (!(e instanceof HttpError) || e.status !== 422) return false;
  const now = await kube.get(path).then((o) => o.metadata.resourceVersion, () => undefined);
  return now !== undefined && now !== version;
}

/**
 * Objects listed at the start of a pass, by API path. A client viewing it (`KubeClient.viewing`) answers the first
 * GET of each listed object from it and every later GET of the same object from the API server: the fence, the
 * re-read before a guarded write and a second pass after a conflict all read fresh.
 */
export interface ListedObjects {
  readonly byPath: Map<string, KubeObject>;
  /** When the lists were taken (ms). */
  readonly at: number;
}

/** How long listed objects answer GETs: a tick started later reads from the API server. */
const LISTED_MAX_AGE_MS = 30_000;

export class KubeClient {
  /** Shared by every request of this client and its views (one client per controller process). */
  private readonly limiter: TokenBucket;
  private readonly consumed = new Set<string>();

  constructor(private readonly conn: KubeConnection, limiter?: TokenBucket, private readonly listed?: ListedObjects) {
    this.limiter = limiter ?? new TokenBucket(conn.qps ?? KUBE_QPS, conn.burst ?? KUBE_BURST);
  }

  /** A client with the same connection and rate limit whose first GET of each object in `listed` is answered from it. */
  public viewing(listed: ListedObjects): KubeClient {
    return new KubeClient(this.conn, this.limiter, listed);
  }

  public async get(path: string): Promise<KubeObject> {
    const listed = this.listed?.byPath.get(path);
    if (listed && !this.consumed.has(path) && Date.now() - this.listed!.at <= LISTED_MAX_AGE_MS) {
      this.consumed.add(path);
      // every listed object belongs to one rollout: once read it is dropped, so a pass holds each object once
      this.listed!.byPath.delete(path);
      return listed;
    }
    return this.send(this.url(path), this.options('GET'));
  }

  /** Every object of a list path matching `labelSelector`, page by page (`limit` and `continue`). */
  public async list(path: string, labelSelector: string, pageSize = 500): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ labelSelector, limit: String(pageSize), ...(token ? { continue: token } : {}) });
      const page = await this.send(this.url(`${path}?${query}`), this.options('GET')) as unknown as { items?: KubeObject[]; metadata?: { continue?: string } };
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }

  public async jsonPatch(path: string, ops: readonly JsonPatchOp[]): Promise<KubeObject> {
    return this.send(this.url(managed(path)), { ...this.options('PATCH', 'application/json-patch+json'), body: JSON.stringify(ops) });
  }

  public async mergePatch(path: string, patch: unknown): Promise<KubeObject> {
    return this.send(this.url(managed(path)), { ...this.options('PATCH', 'application/merge-patch+json'), body: JSON.stringify(patch) });
  }

  /** POST an object (a create, or a review such as SelfSubjectRulesReview). */
  public async create(path: string, body: unknown): Promise<KubeObject> {
    return this.send(this.url(path), { ...this.options('POST', 'application/json'), body: JSON.stringify(body) });
  }

  private async send(url: string, options: Parameters<typeof request>[1]): Promise<KubeObject> {
    await this.limiter.take();
    return JSON.parse(await request(url, options));
  }

  private url(path: string): string {
    return `${this.conn.server.replace(/\/$/, '')}${path}`;
  }

  private options(method: string, contentType?: string) {
    return {
      method,
      headers: {
        ...(this.conn.token ? { authorization: `Bearer ${this.conn.token}` } : {}),
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      ca: this.conn.ca,
      cert: this.conn.cert,
      key: this.conn.key,
      insecureSkipTlsVerify: this.conn.insecureSkipTlsVerify,
      timeoutMs: this.conn.timeoutMs ?? 10_000,
    };
  }
}

/**
 * The field manager of every write: the API server records the controller as the owner of the fields it writes
 * (the route's rules, the floors), so server-side apply conflicts name it and `kubectl get --show-managed-fields`
 * shows who moved traffic. Without it the server records the user agent's prefix.
 * @see https://kubernetes.io/docs/reference/using-api/server-side-apply/#managers
 */
const FIELD_MANAGER = 'model-rollout-controller';

function managed(path: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}fieldManager=${FIELD_MANAGER}`;
}

/** API paths of the objects the controller touches. */
export const paths = {
  configMap: (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`,
  httpRoute: (ns: string, name: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/${name}`,
  deployment: (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
  deploymentScale: (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}/scale`,
  scaledObject: (ns: string, name: string) => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects/${name}`,
  hpa: (ns: string, name: string) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${name}`,
};
