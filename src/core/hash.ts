/* eslint-disable no-bitwise */
/**
 * Stable hashing of plain data: key order does not matter, the same spec always yields the same hash.
 * The controller compares the hash stored in its state with the spec's to notice a changed plan.
 */

/** Keys seen before, quoted (a spec's keys repeat: `kind`, `weight`, ...); bounded. */
const QUOTED_KEYS = new Map<string, string>();

/** JSON with object keys sorted at every level (arrays keep their order); `undefined` fields are dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    let quoted = QUOTED_KEYS.get(k);
    if (quoted === undefined) {
      quoted = JSON.stringify(k);
      if (QUOTED_KEYS.size < 10_000) QUOTED_KEYS.set(k, quoted);
    }
    out += `${first ? '' : ','}${quoted}:${canonicalJson(v)}`;
    first = false;
  }
  return out + '}';
}

/**
 * Whether two plain data values have the same canonical JSON, without building it: key order does not matter,
 * `undefined` fields are absent, an `undefined` array item is `null`, a non-finite number is `null`.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ao = a !== null && typeof a === 'object';
  const bo = b !== null && typeof b === 'object';
  if (!ao || !bo) return ao === bo && canonicalJson(a) === canonicalJson(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    n++;
    if (y[k] === undefined || !sameData(x[k], y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) n--;
  return n === 0;
}

/**
 * 64-bit hash of a string as 16 hex digits: two independent 32-bit FNV-1a style lanes with
 * murmur finalizers. Not cryptographic; collision-resistant enough for change detection.
 */
export function hashString(input: string): string {
  let h1 = 0x811c9dc5 ^ input.length;
  let h2 = 0x01000193 ^ (input.length * 31);
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = fmix(h1 ^ (h2 >>> 7));
  h2 = fmix(h2 ^ (h1 >>> 11));
  return hex(h1) + hex(h2);
}

/** Hash of plain data, independent of key order. */
export function hashOf(value: unknown): string {
  return hashString(canonicalJson(value));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
