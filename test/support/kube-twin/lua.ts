/**
 * Runs Envoy HTTP Lua filters with the real LuaJIT (the runtime Envoy embeds: "LuaJIT is used as the runtime",
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/lua_filter) through harness.lua,
 * which provides the request handle API of that page. One LuaJIT process per batch of requests.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface LuaRequest { readonly headers: Readonly<Record<string, string>> }

export interface LuaResult {
  /** Header values after the filter, by lower-case name. */
  readonly headers: Record<string, string[]>;
  readonly routeCacheCleared: boolean;
  readonly respond?: { status: string; body: string };
  readonly error?: string;
}

const HARNESS = path.join(__dirname, 'harness.lua');

/** Runs `envoy_on_request` of `source` on every request (one LuaJIT process); `seed` seeds math.random. */
export function runLuaFilter(source: string, requests: readonly LuaRequest[], seed = 1, luajit = 'luajit'): LuaResult[] {
  return runLuaFilterChain([source], requests, seed, luajit);
}

/**
 * Runs the filters `sources` in order on every request, as one Envoy filter chain: one stream handle (headers and
 * dynamic metadata) per request, shared by the filters (one LuaJIT process, each filter in its own environment).
 */
export function runLuaFilterChain(sources: readonly string[], requests: readonly LuaRequest[], seed = 1, luajit = 'luajit'): LuaResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-twin-lua-'));
  try {
    const files = sources.map((source, i) => {
      const file = path.join(dir, `filter-${i}.lua`);
      fs.writeFileSync(file, source);
      return file;
    });
    const input = requests.map((r) => Object.entries(r.headers).map(([k, v]) => `${encode(k.toLowerCase())}\t${encode(v)}\t`).join('') + '\n').join('');
    const run = spawnSync(luajit, [HARNESS, files[0], String(seed), ...files.slice(1)], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.error) throw run.error;
    const lines = run.stdout.split('\n').filter(Boolean);
    if (run.status !== 0 || lines.length !== requests.length) {
      throw new Error(`luajit failed (exit ${run.status}): ${run.stderr || lines[0] || ''}`);
    }
    return lines.map((l) => JSON.parse(l) as LuaResult);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Percent-encodes everything but unreserved characters, so tabs and newlines never reach the line format. */
function encode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += BYTE[b];
  return out;
}
/** Each byte as `encode` writes it: itself when unreserved, else `%xx` (a table: the per-byte regex cost 0.4 s a run). */
const BYTE = Array.from({ length: 256 }, (_, b) => (/[A-Za-z0-9\-._~:/?=&,;]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`));
