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

/**
 * The Envoy Lua filter: for requests of the environment (host and path prefix), set the bucket header from the
 * key's hash; requests without the key get a random bucket. The header is always overwritten, so clients cannot
 * pick a bucket, and the route cache is cleared so route matching sees the header.
 */
export function luaBucketFilter(source: BucketKeySource, hosts: readonly string[], pathPrefix: string | undefined): string {
  const hostList = hosts.map((h) => JSON.stringify(h.toLowerCase())).join(', ');
  const keyExpr = 'header' in source
    ? `handle:headers():get(${JSON.stringify(source.header.toLowerCase())})`
    : `query_param(handle:headers():get(":path") or "", ${JSON.stringify(source.query)})`;
  return `${LUA_BUCKET_FUNCTION}

local hosts = { ${hostList} }
local prefix = ${JSON.stringify(pathPrefix ?? '/')}

local function query_param(path, name)
  local q = string.match(path, "?(.*)$")
  if q == nil then return nil end
  for k, v in string.gmatch(q, "([^&=]+)=([^&]*)") do
    if k == name then return v end
  end
  return nil
end

local function ours(handle)
  local path = handle:headers():get(":path") or "/"
  if string.sub(path, 1, #prefix) ~= prefix then return false end
  if #hosts == 0 then return true end
  local authority = string.lower(string.gsub(handle:headers():get(":authority") or "", ":%d+$", ""))
  for _, h in ipairs(hosts) do
    if h == authority then return true end
  end
  return false
end

function envoy_on_request(handle)
  if not ours(handle) then return end
  local key = ${keyExpr}
  local b
  if key == nil or key == "" then
    b = math.random(0, ${BUCKET_COUNT - 1})
  else
    b = bucket(key)
  end
  handle:headers():replace(${JSON.stringify(BUCKET_HEADER)}, tostring(b))
  handle:clearRouteCache()
end
`;
}
