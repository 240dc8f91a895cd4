/**
 * The three PATCH formats of the API server other than apply.
 *
 * Follows:
 * - JSON patch, RFC 6902 (https://www.rfc-editor.org/rfc/rfc6902) with JSON pointers of RFC 6901 (`~1` is `/`,
 *   `~0` is `~`; `-` appends). The apiserver applies it with evanphx/json-patch and turns ANY apply error (failed
 *   `test`, missing path for replace/remove) into HTTP 422 via `errors.NewGenericServerResponse(
 *   http.StatusUnprocessableEntity, ...)` in k8s.io/apiserver/pkg/endpoints/handlers/patch.go (jsonPatcher.applyJSPatch).
 * - JSON merge patch, RFC 7386 (https://www.rfc-editor.org/rfc/rfc7386): objects merge recursively, `null`
 *   deletes, anything else (arrays included) replaces.
 * - Strategic merge patch, k8s.io/apimachinery/pkg/util/strategicpatch/patch.go and
 *   https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md:
 *   lists with a patchMergeKey merge element-wise by key, merge lists of scalars union, other lists replace;
 *   directives `$patch: replace|delete|merge`, `$retainKeys`, `$setElementOrder/<list>` and
 *   `$deleteFromPrimitiveList/<list>` (the ones kubectl's three-way patch emits).
 */
import { ListType } from './resources';
import { badRequest, unprocessable } from './status';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** A deep copy of JSON data: what a real server's answer is, a fresh decoding of its bytes. */
export function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------- RFC 6902 JSON patch

export interface JsonPatchOp { op: string; path: string; value?: Json; from?: string }

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container holding the last token of `tokens`, or undefined when the path does not exist. */
function parentOf(doc: Json, tokens: string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const t of tokens.slice(0, -1)) cur = child(cur, t);
  return cur;
}

function child(container: Json | undefined, token: string): Json | undefined {
  if (Array.isArray(container)) {
    const i = Number(token);
    return /^\d+$/.test(token) && i < container.length ? container[i] : undefined;
  }
  if (isObject(container)) return Object.prototype.hasOwnProperty.call(container, token) ? container[token] : undefined;
  return undefined;
}

function getAt(doc: Json, path: string, op: string): Json {
  const tokens = parsePointer(path);
  const v = tokens.length === 0 ? doc : child(parentOf(doc, tokens), tokens[tokens.length - 1]);
  if (v === undefined) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return v;
}

function removeAt(doc: Json, path: string, op: string): Json {
  const tokens = parsePointer(path);
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1];
  if (child(parent, last) === undefined) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  if (Array.isArray(parent)) return parent.splice(Number(last), 1)[0];
  const obj = parent as JsonObject;
  const old = obj[last];
  delete obj[last];
  return old;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens);
  const last = tokens[tokens.length - 1];
  const op = replace ? 'replace' : 'add';
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!/^\d+$/.test(last) && last !== '-') throw unprocessable(`${op} operation does not apply: invalid index "${last}"`);
    if (replace ? i >= parent.length : i > parent.length) throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) throw unprocessable(`replace operation does not apply: doc is missing key: "${path}": missing value`);
    parent[last] = value;
  } else {
    throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return doc;
}

/** Applies an RFC 6902 patch; every failure is a 422 like the real apiserver. */
export function applyJsonPatch(docIn: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(docIn);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add': doc = addAt(doc, raw.path, clone(raw.value as Json), false); break;
      case 'replace': doc = addAt(doc, raw.path, clone(raw.value as Json), true); break;
      case 'remove': removeAt(doc, raw.path, 'remove'); break;
      case 'test':
        if (!jsonEqual(getAt(doc, raw.path, 'test'), raw.value)) throw unprocessable(`testing value ${raw.path} failed: test failed`);
        break;
      case 'move': {
        const v = removeAt(doc, raw.from ?? '', 'move');
        doc = addAt(doc, raw.path, v, false);
        break;
      }
      case 'copy': doc = addAt(doc, raw.path, clone(getAt(doc, raw.from ?? '', 'copy')), false); break;
      default: throw badRequest(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return doc;
}

// ---------------------------------------------------------------- RFC 7386 merge patch

export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------- strategic merge patch

/** Resolves the list semantics of a field path (field names only). */
export type ListTypeOf = (path: readonly string[]) => ListType;

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

export function applyStrategicMergePatch(original: Json, patch: Json, listTypeOf: ListTypeOf): Json {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return smpMap(isObject(original) ? original : {}, patch, [], listTypeOf) ?? {};
}

function smpMap(original: JsonObject, patch: JsonObject, path: string[], lt: ListTypeOf): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch);
  const out: JsonObject = clone(original);
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    const fieldPath = [...path, key];
    if (value === null) {
      delete out[key];
    } else if (isObject(value)) {
      const merged = smpMap(isObject(out[key]) ? (out[key] as JsonObject) : {}, value, fieldPath, lt);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = smpList(Array.isArray(out[key]) ? (out[key] as Json[]) : [], value, fieldPath, lt);
    } else {
      out[key] = value;
    }
  }
  applyListDirectives(out, patch, path, lt);
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

/** `$deleteFromPrimitiveList/<f>` removes scalars; `$setElementOrder/<f>` reorders the merged list. */
function applyListDirectives(out: JsonObject, patch: JsonObject, path: string[], lt: ListTypeOf): void {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM) && Array.isArray(value)) {
      const field = key.slice(DELETE_FROM.length);
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((x) => !value.some((d) => jsonEqual(d, x)));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER) || !Array.isArray(value)) continue;
    const field = key.slice(SET_ORDER.length);
    const list = out[field];
    if (!Array.isArray(list)) continue;
    const type = lt([...path, field]);
    const keyOf = (x: Json): Json => (type.type === 'map' && isObject(x) ? x[type.key] : x);
    const rank = (x: Json): number => {
      const i = value.findIndex((o) => jsonEqual(keyOf(o), keyOf(x)));
      return i < 0 ? value.length : i;
    };
    // Stable sort: listed elements first in the given order, server-only elements keep their relative order.
    out[field] = list.map((x, i) => ({ x, i })).sort((a, b) => rank(a.x) - rank(b.x) || a.i - b.i).map((e) => e.x);
  }
}

function smpList(original: Json[], patch: Json[], path: string[], lt: ListTypeOf): Json[] {
  const type = lt(path);
  if (type.type === 'atomic') return stripAll(patch);
  if (type.type === 'set') {
    const out = clone(original);
    for (const v of patch) if (!out.some((x) => jsonEqual(x, v))) out.push(clone(v));
    return out;
  }
  if (patch.some((e) => isObject(e) && e.$patch === 'replace')) {
    return patch.filter((e) => !(isObject(e) && e.$patch === 'replace')).map((e) => stripAll(e));
  }
  const out = clone(original);
  for (const element of patch) {
    if (!isObject(element)) throw badRequest(`strategic merge: list ${path.join('.')} expects objects keyed by ${type.key}`);
    const k = element[type.key];
    const at = out.findIndex((x) => isObject(x) && jsonEqual(x[type.key], k));
    if (element.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = smpMap(out[at] as JsonObject, element, path, lt);
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else {
      out.push(smpMap({}, element, path, lt) ?? {});
    }
  }
  return out;
}

function stripDirectives(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (!k.startsWith('$')) out[k] = stripAll(v);
  return out;
}

function stripAll<T extends Json>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => stripAll(x)) as T;
  if (isObject(v)) return stripDirectives(v) as T;
  return v;
}
