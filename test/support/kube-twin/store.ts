/**
 * Object storage of the twin, keyed by group/version/resource/namespace/name.
 *
 * Follows the ObjectMeta contract of the API conventions
 * (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#metadata)
 * and https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions:
 * - `resourceVersion` is an opaque string that changes on every write; like etcd's revision it comes from ONE
 *   global counter, so a list's `metadata.resourceVersion` is the latest write;
 * - `uid` and `creationTimestamp` are set on create and never change;
 * - `generation` starts at 1 and is bumped when the desired state changes (for CRDs: anything outside
 *   `metadata` and `status`; the twin uses the same rule for built-in kinds, whose spec is the desired state).
 * Cluster-scoped objects are stored with namespace ''.
 *
 * Stored objects are deep-frozen and never changed in place (a write stores a new object), so reads hand out the
 * stored object itself: the world and the gateway read the store at every simulated second and request, and
 * cloning on every read was most of the cluster scenarios' CPU. A caller that wants to change what it read
 * clones it first (writing to a frozen object throws in strict mode, so a missed clone fails loudly).
 */
import { randomUUID } from 'crypto';
import { clone, isObject, JsonObject, jsonEqual } from './patch';
import { groupVersion, ResourceDef } from './resources';

export type KubeObject = JsonObject & { metadata: JsonObject };

export interface StoredKey { readonly def: ResourceDef; readonly namespace: string; readonly name: string }

export class Store {
  private readonly objects = new Map<string, KubeObject>();
  private revision = 1000;
  /**
   * `listView` answers by resource prefix and namespace, valid while `revision` is `listedAt` (every write bumps
   * it). The router lists HTTPRoutes and Deployments for every simulated request, and the world at every second,
   * between writes that come once a tick: listing and sorting the whole map each time was the twin's top cost.
   */
  private readonly lists = new Map<string, ReadonlyArray<Readonly<KubeObject>>>();
  private listedAt = -1;
  /** Seconds since the epoch used for creationTimestamp and managedFields times (the world's clock can move it). */
  public now: () => Date = () => new Date();

  public get latestResourceVersion(): string {
    return String(this.revision);
  }

  public get(def: ResourceDef, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(key(def, namespace, name));
  }

  /** Objects of a resource, in one namespace or (namespace undefined) all of them, sorted by namespace/name. */
  public list(def: ResourceDef, namespace?: string): KubeObject[] {
    // a copy: the cached list is shared by every reader until the next write
    return this.listView(def, namespace).slice() as KubeObject[];
  }

  /** `get`, typed read-only: for the world's router and autoscalers, which never change what they read. */
  public view(def: ResourceDef, namespace: string, name: string): Readonly<KubeObject> | undefined {
    return this.objects.get(key(def, namespace, name));
  }

  /** `list`, typed read-only. */
  public listView(def: ResourceDef, namespace?: string): ReadonlyArray<Readonly<KubeObject>> {
    const prefix = `${def.group}/${def.version}/${def.resource}/`;
    if (this.listedAt !== this.revision) {
      this.lists.clear();
      this.listedAt = this.revision;
    }
    const cacheKey = namespace === undefined ? prefix : `${prefix}\0${namespace}`;
    let listed = this.lists.get(cacheKey);
    if (!listed) {
      listed = Object.freeze([...this.objects.entries()]
        .filter(([k, o]) => k.startsWith(prefix) && (namespace === undefined || (o.metadata.namespace ?? '') === namespace))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => o));
      this.lists.set(cacheKey, listed);
    }
    return listed;
  }

  /** Stores a new object, stamping uid, creationTimestamp, generation and resourceVersion. */
  public create(def: ResourceDef, namespace: string, obj: KubeObject): KubeObject {
    const out = clone(obj);
    out.apiVersion = groupVersion(def);
    out.kind = def.kind;
    const meta = out.metadata;
    if (def.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    meta.generation = 1;
    meta.resourceVersion = String(++this.revision);
    this.objects.set(key(def, namespace, String(meta.name)), deepFreeze(out));
    return out;
  }

  /** Replaces a stored object: keeps the immutable metadata, bumps resourceVersion (and generation on spec change). */
  public update(def: ResourceDef, namespace: string, obj: KubeObject): KubeObject {
    const k = key(def, namespace, String(obj.metadata.name));
    const old = this.objects.get(k);
    if (!old) throw new Error(`store: ${k} does not exist`);
    const out = clone(obj);
    out.apiVersion = groupVersion(def);
    out.kind = def.kind;
    for (const f of ['uid', 'creationTimestamp', 'namespace']) {
      if (old.metadata[f] !== undefined) out.metadata[f] = old.metadata[f];
      else delete out.metadata[f];
    }
    const gen = Number(old.metadata.generation ?? 1);
    out.metadata.generation = desiredStateChanged(old, out) ? gen + 1 : gen;
    out.metadata.resourceVersion = String(++this.revision);
    this.objects.set(k, deepFreeze(out));
    return out;
  }

  public delete(def: ResourceDef, namespace: string, name: string): KubeObject | undefined {
    const k = key(def, namespace, name);
    const old = this.objects.get(k);
    this.objects.delete(k);
    if (old) this.revision++;
    return old;
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function key(def: ResourceDef, namespace: string, name: string): string {
  return `${def.group}/${def.version}/${def.resource}/${def.namespaced ? namespace : ''}/${name}`;
}

function desiredStateChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): JsonObject => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return !jsonEqual(strip(a), strip(b));
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function metaOf(o: unknown): JsonObject {
  return isObject(o) && isObject(o.metadata) ? o.metadata : {};
}
