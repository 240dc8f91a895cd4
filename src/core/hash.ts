/* eslint-disable no-bitwise */
/**
 * Stable hashing of plain data: key order does not matter, the same spec always yields the same hash.
 * The controller compares the hash stored in its state with the spec's to notice a changed plan.
 */

/** JSON with object keys sorted at every level (arrays keep their order); `undefined` fields are dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
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
