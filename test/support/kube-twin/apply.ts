/**
 * Field ownership (`metadata.managedFields`) and server-side apply.
 *
 * Follows https://kubernetes.io/docs/reference/using-api/server-side-apply/ and its implementation in
 * sigs.k8s.io/structured-merge-diff (fieldpath, merge) + k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager:
 * - every manager owns a set of field paths, serialised as `fieldsV1` (`f:<field>`, `k:<key json>` for map-list
 *   elements, `v:<value json>` for set elements, `.` for "the element itself");
 * - an apply by manager M conflicts (409, reason Conflict, causes of type FieldManagerConflict) when it sets a
 *   field owned by ANOTHER manager to a different value; the message is built like
 *   internal/conflict.go `getConflictMessage`: `Apply failed with 1 conflict: conflict with "x": .spec.replicas`;
 *   Update managers print as `"x" using apps/v1`;
 * - `force=true` takes the conflicting fields away from their owners;
 * - fields M applied before but not now are removed from the object unless another manager still owns them;
 * - same value set by two appliers = shared ownership (no conflict);
 * - atomic lists are one leaf, map-lists merge element-wise by key, sets union;
 * - non-apply writes (create/update/patch, operation "Update") take ownership of every field they change, without
 *   conflicts, and the manager name defaults to the User-Agent prefix before the first "/"
 *   (handlers/rest.go `managerOrUserAgent`/`prefixFromUserAgent`: kubectl's agent "kubectl/v1.32..." -> "kubectl";
 *   kubectl itself sends `fieldManager=kubectl-client-side-apply`, `kubectl-edit`, `kubectl-patch`, ...).
 * Simplifications: no defaulting/conversion before diffing, status is not tracked, a map-list has one key field.
 */
import { clone, isObject, Json, JsonObject, jsonEqual } from './patch';
import { groupVersion, listTypeAt, ResourceDef } from './resources';
import { ApiError } from './status';
import { KubeObject, rfc3339 } from './store';

/** A path as fieldsV1 tokens, e.g. ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"a"}', 'f:image']. */
export type FieldPath = readonly string[];

interface Leaf { readonly path: FieldPath; readonly value: Json | typeof ELEMENT }
const ELEMENT = Symbol('element');

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time: string;
  fields: Map<string, FieldPath>;
}

const SKIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

const pk = (p: FieldPath): string => p.join('\u0000');

/** The owned-field leaves of an object (status and server-set metadata excluded). */
export function leavesOf(def: ResourceDef, obj: JsonObject): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SKIP_META.has(mk)) walk(def, mv, [k, mk], [`f:${k}`, `f:${mk}`], out);
      continue;
    }
    walk(def, v, [k], [`f:${k}`], out);
  }
  return out;
}

function walk(def: ResourceDef, v: Json, names: string[], path: string[], out: Map<string, Leaf>): void {
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (entries.length === 0) out.set(pk(path), { path, value: {} });
    for (const [k, c] of entries) walk(def, c, [...names, k], [...path, `f:${k}`], out);
    return;
  }
  if (Array.isArray(v)) {
    const lt = listTypeAt(def, names);
    if (lt.type === 'atomic') {
      out.set(pk(path), { path, value: v });
    } else if (lt.type === 'set') {
      for (const e of v) {
        const p = [...path, `v:${JSON.stringify(e)}`];
        out.set(pk(p), { path: p, value: e });
      }
    } else {
      for (const e of v) {
        if (!isObject(e)) continue;
        const p = [...path, `k:${JSON.stringify({ [lt.key]: e[lt.key] })}`];
        out.set(pk(p), { path: p, value: ELEMENT });
        for (const [k, c] of Object.entries(e)) walk(def, c, [...names, k], [...p, `f:${k}`], out);
      }
    }
    return;
  }
  out.set(pk(path), { path, value: v });
}

// ---------------------------------------------------------------- fieldsV1 encoding

export function encodeFieldsV1(fields: Iterable<FieldPath>): JsonObject {
  const root: JsonObject = {};
  const self = new Set<JsonObject>();
  for (const path of fields) {
    let node = root;
    for (const t of path) node = (node[t] ??= {}) as JsonObject;
    self.add(node);
  }
  const finish = (node: JsonObject): void => {
    const kids = Object.keys(node);
    if (kids.length > 0 && self.has(node)) node['.'] = {};
    for (const k of kids) finish(node[k] as JsonObject);
  };
  finish(root);
  return root;
}

export function decodeFieldsV1(tree: Json, prefix: string[] = [], out = new Map<string, FieldPath>()): Map<string, FieldPath> {
  if (!isObject(tree)) return out;
  for (const [k, v] of Object.entries(tree)) {
    if (k === '.') {
      out.set(pk(prefix), prefix);
      continue;
    }
    const p = [...prefix, k];
    if (isObject(v) && Object.keys(v).length === 0) out.set(pk(p), p);
    else decodeFieldsV1(v, p, out);
  }
  return out;
}

export function readManagers(obj: JsonObject | undefined): ManagerEntry[] {
  const mf = isObject(obj?.metadata) ? (obj!.metadata as JsonObject).managedFields : undefined;
  if (!Array.isArray(mf)) return [];
  return mf.filter(isObject).map((e) => ({
    manager: String(e.manager ?? ''),
    operation: e.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(e.apiVersion ?? ''),
    subresource: typeof e.subresource === 'string' ? e.subresource : undefined,
    time: String(e.time ?? ''),
    fields: decodeFieldsV1(e.fieldsV1 ?? {}),
  }));
}

export function writeManagers(obj: KubeObject, entries: ManagerEntry[]): void {
  const kept = entries.filter((e) => e.fields.size > 0);
  if (kept.length === 0) {
    delete obj.metadata.managedFields;
    return;
  }
  obj.metadata.managedFields = kept.map((e) => {
    const out: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsType: 'FieldsV1', fieldsV1: encodeFieldsV1(e.fields.values()) };
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

/** Renders a path like structured-merge-diff's Path.String(): `.spec.containers[name="a"].image`. */
export function renderPath(path: FieldPath): string {
  return path.map((t) => {
    if (t.startsWith('f:')) return `.${t.slice(2)}`;
    if (t.startsWith('k:')) {
      const keys = JSON.parse(t.slice(2)) as JsonObject;
      return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    }
    if (t.startsWith('v:')) return `[=${t.slice(2)}]`;
    return `[${t.slice(2)}]`;
  }).join('');
}

// ---------------------------------------------------------------- Update operations

export interface WriteContext { readonly def: ResourceDef; readonly manager: string; readonly subresource?: string; readonly now: Date }

/**
 * Ownership after a non-apply write: the writer takes every changed or added field from everyone else, removed
 * fields leave every set. A request that itself rewrote `metadata.managedFields` keeps what it wrote
 * (that is how kubectl's client-side-apply -> server-side-apply migration edits ownership).
 */
export function trackUpdate(ctx: WriteContext, before: KubeObject | undefined, after: KubeObject): void {
  const requested = after.metadata.managedFields;
  const previous = before?.metadata.managedFields;
  if (requested !== undefined && !jsonEqual(requested, previous)) {
    writeManagers(after, readManagers(after));
    return;
  }
  const entries = readManagers(before);
  const oldLeaves = before ? leavesOf(ctx.def, before) : new Map<string, Leaf>();
  const newLeaves = leavesOf(ctx.def, after);
  const changed = [...newLeaves.values()].filter((l) => !sameLeaf(oldLeaves.get(pk(l.path)), l));
  const removed = [...oldLeaves.keys()].filter((k) => !newLeaves.has(k));
  for (const e of entries) {
    for (const k of removed) e.fields.delete(k);
    for (const l of changed) e.fields.delete(pk(l.path));
  }
  if (changed.length > 0) {
    const mine = entryFor(entries, ctx, 'Update');
    for (const l of changed) mine.fields.set(pk(l.path), l.path);
    mine.time = rfc3339(ctx.now);
  }
  writeManagers(after, entries);
}

function sameLeaf(a: Leaf | undefined, b: Leaf): boolean {
  return a !== undefined && (a.value === ELEMENT ? b.value === ELEMENT : b.value !== ELEMENT && jsonEqual(a.value, b.value));
}

function entryFor(entries: ManagerEntry[], ctx: WriteContext, operation: 'Apply' | 'Update'): ManagerEntry {
  const apiVersion = groupVersion(ctx.def);
  let e = entries.find((x) => x.manager === ctx.manager && x.operation === operation && (x.subresource ?? '') === (ctx.subresource ?? ''));
  if (!e) {
    e = { manager: ctx.manager, operation, apiVersion, subresource: ctx.subresource, time: rfc3339(ctx.now), fields: new Map() };
    entries.push(e);
  }
  e.apiVersion = apiVersion;
  return e;
}

// ---------------------------------------------------------------- Apply

/** The result of a server-side apply: the new object (managedFields set) or a 409 conflict error. */
export function serverSideApply(ctx: WriteContext, live: KubeObject | undefined, applied: KubeObject, force: boolean): KubeObject {
  const entries = readManagers(live);
  const liveLeaves = live ? leavesOf(ctx.def, live) : new Map<string, Leaf>();
  const appliedLeaves = leavesOf(ctx.def, applied);
  const others = entries.filter((e) => !(e.manager === ctx.manager && e.operation === 'Apply'));

  const conflicts: { path: FieldPath; entry: ManagerEntry }[] = [];
  for (const leaf of appliedLeaves.values()) {
    if (leaf.value === ELEMENT) continue;
    const current = liveLeaves.get(pk(leaf.path));
    if (current === undefined || sameLeaf(current, leaf)) continue;
    for (const e of others) if (e.fields.has(pk(leaf.path))) conflicts.push({ path: leaf.path, entry: e });
  }
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
  for (const c of conflicts) c.entry.fields.delete(pk(c.path));

  const mine = entryFor(entries, ctx, 'Apply');
  const result: KubeObject = live ? clone(live) : { metadata: {} };
  // Shortest paths first: a removed map-list element takes its fields with it; the key field of an element that
  // stays (another manager owns part of it) is never removed.
  const stale = [...mine.fields.entries()].filter(([k, path]) => !appliedLeaves.has(k) && !isElementKey(path) && !ownedByOthers(entries, mine, path));
  for (const [, path] of stale.sort((a, b) => a[1].length - b[1].length)) removePath(result, path);
  mergeApplied(ctx.def, result, applied, []);
  mine.fields = new Map([...appliedLeaves.values()].map((l) => [pk(l.path), l.path]));
  mine.time = rfc3339(ctx.now);
  writeManagers(result, entries);
  return result;
}

function isElementKey(path: FieldPath): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  return parent !== undefined && parent.startsWith('k:') && last.startsWith('f:') && last.slice(2) in (JSON.parse(parent.slice(2)) as JsonObject);
}

function ownedByOthers(entries: ManagerEntry[], mine: ManagerEntry, path: FieldPath): boolean {
  const prefix = pk(path);
  return entries.some((e) => e !== mine && [...e.fields.keys()].some((k) => k === prefix || k.startsWith(prefix + '\u0000')));
}

function applyConflict(conflicts: { path: FieldPath; entry: ManagerEntry }[]): ApiError {
  const who = (e: ManagerEntry): string => (e.operation === 'Update' ? `"${e.manager}" using ${e.apiVersion}` : `"${e.manager}"`);
  const causes = conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with ${who(c.entry)}`, field: renderPath(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${who(conflicts[0].entry)}: ${renderPath(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(who(c.entry), [...(byManager.get(who(c.entry)) ?? []), `- ${renderPath(c.path)}`]);
    const parts = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!]);
    message = `Apply failed with ${conflicts.length} conflicts: ${parts.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/**
 * Removes the field at `path` (a map key, a map-list element or a set value), then the lists and maps that this
 * left empty (a dropped last env entry leaves no `env: []`); missing paths are ignored.
 */
function removePath(obj: JsonObject, path: FieldPath): void {
  const chain: Json[] = [obj];
  for (let i = 0; i < path.length - 1; i++) {
    const next = step(chain[i], path[i]);
    if (next === undefined) return;
    chain.push(next);
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const node = chain[i];
    const token = path[i];
    if (token.startsWith('f:') && isObject(node)) {delete node[token.slice(2)];} else if (Array.isArray(node)) {
      const at = node.findIndex((e) => matches(e, token));
      if (at >= 0) node.splice(at, 1);
    }
    const emptied = Array.isArray(node) ? node.length === 0 : isObject(node) && Object.keys(node).length === 0;
    if (!emptied || i <= 1) return;
  }
}

function step(node: Json, token: string): Json | undefined {
  if (token.startsWith('f:')) return isObject(node) ? node[token.slice(2)] : undefined;
  if (Array.isArray(node)) return node.find((e) => matches(e, token));
  return undefined;
}

function matches(element: Json, token: string): boolean {
  if (token.startsWith('k:')) {
    const keys = JSON.parse(token.slice(2)) as JsonObject;
    return isObject(element) && Object.entries(keys).every(([k, v]) => jsonEqual(element[k], v));
  }
  if (token.startsWith('v:')) return jsonEqual(element, JSON.parse(token.slice(2)));
  return false;
}

/** Merges an applied configuration into `target` by the schema's list semantics. */
function mergeApplied(def: ResourceDef, target: JsonObject, applied: JsonObject, names: string[]): void {
  for (const [k, v] of Object.entries(applied)) {
    if (names.length === 0 && k === 'status') continue;
    const fieldNames = [...names, k];
    const cur = target[k];
    if (isObject(v)) {
      if (!isObject(cur)) target[k] = {};
      mergeApplied(def, target[k] as JsonObject, v, fieldNames);
    } else if (Array.isArray(v)) {
      target[k] = mergeList(def, Array.isArray(cur) ? cur : [], v, fieldNames);
    } else {
      target[k] = v;
    }
  }
}

function mergeList(def: ResourceDef, cur: Json[], applied: Json[], names: string[]): Json[] {
  const lt = listTypeAt(def, names);
  if (lt.type === 'atomic') return clone(applied);
  const out = clone(cur);
  for (const e of applied) {
    if (lt.type === 'set') {
      if (!out.some((x) => jsonEqual(x, e))) out.push(clone(e));
      continue;
    }
    const at = out.findIndex((x) => isObject(x) && isObject(e) && jsonEqual(x[lt.key], e[lt.key]));
    if (at < 0) out.push(clone(e));
    else if (isObject(e)) mergeApplied(def, out[at] as JsonObject, e, names);
  }
  return out;
}
