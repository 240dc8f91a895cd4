/**
 * The sticky-routing bucket: hash(key) mod 100, defined once as Lua source (run by the gateway's Envoy Lua
 * filter) with a TypeScript twin (run by tests and the docs). The arithmetic stays below 2^53, so Lua 5.1 doubles
 * (Envoy's LuaJIT), Lua 5.3 integers and JavaScript numbers all compute the same bucket.
 *
 * Hash: h = (h * 4194301 + byte) mod (2^31 - 1) over the key's bytes from h = 7, then three non-linear rounds
 * h = (h * 4194301 + floor(h / 4096)) mod (2^31 - 1); bucket = floor(h * 100 / (2^31 - 1)). Every product stays
 * below 2^53. The Lua works on floats on purpose (Lua 5.3 VMs with 32-bit integers would overflow).
 */
import { BUCKET_COUNT, BUCKET_HEADER } from '../constants';

const MULTIPLIER = 4194301;
const MODULUS = 2147483647;
const SEED = 7;
const ROUNDS = 3;

/** The bucket (0..99) of a key: the TypeScript twin of the Lua `bucket()` function. */
export function bucketOf(key: string): number {
  const bytes = new TextEncoder().encode(key);
  let h = SEED;
  for (const b of bytes) h = (h * MULTIPLIER + b) % MODULUS;
  for (let r = 0; r < ROUNDS; r++) h = (h * MULTIPLIER + Math.floor(h / 4096)) % MODULUS;
  return Math.floor((h * BUCKET_COUNT) / MODULUS);
}

/**
 * The value of query parameter `name` in a request path, form-decoded (`+` is a space, `%XX` a byte), the first
 * occurrence: the TypeScript twin of the Lua `query_param()`. `a%40b` and `a@b` are the same key
 * (WHATWG URL `application/x-www-form-urlencoded` parsing, https://url.spec.whatwg.org/#urlencoded-parsing).
 */
export function queryParamOf(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of path.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    if (formDecode(pair.slice(0, eq)) === name) return formDecode(pair.slice(eq + 1));
  }
  return undefined;
}

function formDecode(s: string): string {
  const raw = new TextEncoder().encode(s.replace(/\+/g, ' '));
  const bytes: number[] = [];
  const hex = (b: number) => (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102);
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && i + 2 < raw.length && hex(raw[i + 1]) && hex(raw[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16));
      i += 2;
    } else {
      bytes.push(raw[i]);
    }
  }
  // keys that decode to invalid UTF-8 differ from the Lua filter, which hashes the raw bytes
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Whether `host` (lower-case, no port) matches an HTTPRoute hostname: exact, or `*.x` for one or more labels before `.x`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** Where the sticky key comes from. */
export type BucketKeySource = { readonly header: string } | { readonly query: string };

/** The Lua `bucket(key)` function alone (tests run exactly this text). */
export const LUA_BUCKET_FUNCTION = `
local function bucket(key)
  local h = ${SEED}.0
  for i = 1, #key do
    h = (h * ${MULTIPLIER}.0 + string.byte(key, i)) % ${MODULUS}.0
  end
  for _ = 1, ${ROUNDS} do
    h = (h * ${MULTIPLIER}.0 + math.floor(h / 4096.0)) % ${MODULUS}.0
  end
  return math.floor(h * ${BUCKET_COUNT}.0 / ${MODULUS}.0)
end`;

/** One rollout's sticky split as the gateway's filter serves it: its hosts, path prefix and key. */
export interface BucketEntry {
  readonly key: BucketKeySource;
  /** Host names of the environment (empty: every host). */
  readonly hosts: readonly string[];
  readonly pathPrefix?: string;
}

/** Dynamic metadata namespace a bucket filter marks its tagged requests with (Envoy `streamInfo():dynamicMetadata()`). */
export const BUCKET_METADATA_NAMESPACE = 'model-rollout.dev/bucket';

/** The Envoy Lua filter for one rollout (`luaBucketFilterFor` with one entry). */
export function luaBucketFilter(source: BucketKeySource, hosts: readonly string[], pathPrefix: string | undefined): string {
  return luaBucketFilterFor([{ key: source, hosts, pathPrefix }]);
}

/**
 * The Envoy Lua filter of one gateway, serving every sticky rollout on it. For every request:
 * 1. a request another bucket filter of this library already tagged (dynamic metadata under
 *    `BUCKET_METADATA_NAMESPACE`, which only filters can write, never a client) is left alone: filters of several
 *    apps on one gateway chain without undoing each other;
 * 2. otherwise any client-sent bucket header is removed (no client picks a version);
 * 3. the first entry whose hosts (wildcards included) and path prefix match (longest prefix first) sets the bucket
 *    from its key's hash (a random bucket without the key) and marks the request tagged.
 * The route is re-selected so matching sees the header: `clearRouteCache()` where the Envoy has it (1.34+), and
 * Envoy's Lua filter clears the route cache on any header change by default (`clear_route_cache`, default true).
 * Query keys are form-decoded (`a%40b` = `a@b`), like `queryParamOf()`.
 * @see https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/lua_filter
 */
export function luaBucketFilterFor(entries: readonly BucketEntry[]): string {
  const ordered = [...entries].sort((a, b) => (b.pathPrefix ?? '/').length - (a.pathPrefix ?? '/').length);
  const entryList = ordered.map((e) => {
    const key = 'header' in e.key ? `header = ${JSON.stringify(e.key.header.toLowerCase())}` : `query = ${JSON.stringify(e.key.query)}`;
    return `  { hosts = { ${e.hosts.map((h) => JSON.stringify(h.toLowerCase())).join(', ')} }, prefix = ${JSON.stringify(e.pathPrefix ?? '/')}, ${key} },`;
  }).join('\n');
  return `${LUA_BUCKET_FUNCTION}

local entries = {
${entryList}
}
local META = ${JSON.stringify(BUCKET_METADATA_NAMESPACE)}

local function form_decode(s)
  s = string.gsub(s, "%+", " ")
  return (string.gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function query_param(path, name)
  local q = string.match(path, "%?(.*)$")
  if q == nil then return nil end
  for pair in string.gmatch(q, "[^&]+") do
    local k, v = string.match(pair, "^([^=]+)=(.*)$")
    if k ~= nil and form_decode(k) == name then return form_decode(v) end
  end
  return nil
end

local function host_matches(pattern, host)
  if string.sub(pattern, 1, 2) == "*." then
    local suffix = string.sub(pattern, 2)
    return #host > #suffix and string.sub(host, -#suffix) == suffix
  end
  return pattern == host
end

local function entry_of(handle)
  local path = handle:headers():get(":path") or "/"
  local authority = string.lower((string.gsub(handle:headers():get(":authority") or "", ":%d+$", "")))
  for _, e in ipairs(entries) do
    if string.sub(path, 1, #e.prefix) == e.prefix then
      if #e.hosts == 0 then return e end
      for _, h in ipairs(e.hosts) do
        if host_matches(h, authority) then return e end
      end
    end
  end
  return nil
end

local function reroute(handle)
  if handle.clearRouteCache ~= nil then handle:clearRouteCache() end
end

function envoy_on_request(handle)
  local meta = handle:streamInfo():dynamicMetadata()
  local mark = meta:get(META)
  if type(mark) == "table" and mark.tagged then return end
  -- a client-sent bucket would otherwise pick the canary on any request no filter tags
  handle:headers():remove(${JSON.stringify(BUCKET_HEADER)})
  local e = entry_of(handle)
  if e == nil then
    reroute(handle)
    return
  end
  local key
  if e.header ~= nil then
    key = handle:headers():get(e.header)
  else
    key = query_param(handle:headers():get(":path") or "", e.query)
  end
  local b
  if key == nil or key == "" then
    b = math.random(0, ${BUCKET_COUNT - 1})
  else
    b = bucket(key)
  end
  handle:headers():replace(${JSON.stringify(BUCKET_HEADER)}, tostring(b))
  meta:set(META, "tagged", true)
  reroute(handle)
end
`;
}
