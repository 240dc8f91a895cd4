// TypeScript for the shared-realm runner (shared-realm-runner.js), transformed once per file content and kept on disk
// under jest's cache directory, as jest keeps its own transforms (<cacheDirectory>/shared-realm-ts/<key>.json; the key
// is esbuild-jest.js' own: its options, esbuild's version, the path and the source).
//
// Each worker process would otherwise transform every file it loads, through a synchronous round trip to its own
// esbuild service (~1 s of CPU per process). Instead the runner warms the cache from jest's process before the files
// start (`warm`: every .ts file of the project's source folders, asynchronously, so esbuild works on them in
// parallel), and a worker transforms a file itself only when it asks before the warm-up got to it.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const transformer = require('./esbuild-jest');

/** The project's folders with TypeScript that tests load. */
const SOURCE_FOLDERS = ['src', 'test', 'bench', 'examples'];
const SKIP = new Set(['node_modules', 'dist', 'lib', '.build']);

function entry(dir, filename, source) {
  return path.join(dir, `${transformer.getCacheKey(source, filename)}.json`);
}

function store(file, result) {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, JSON.stringify({ code: result.code, map: result.map }));
  // atomic: a reader sees the whole entry or none (two processes may write the same one; both write the same text)
  fs.renameSync(tmp, file);
}

/** `{ code, map }` of `filename`, from the cache or transformed now (and stored). */
function transformFile(dir, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const file = entry(dir, filename, source);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    const result = transformer.process(source, filename);
    fs.mkdirSync(dir, { recursive: true });
    store(file, result);
    return result;
  }
}

function* typeScriptFiles(folder) {
  let names;
  try {
    names = fs.readdirSync(folder, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of names) {
    if (d.isDirectory() && !SKIP.has(d.name)) yield* typeScriptFiles(path.join(folder, d.name));
    else if (d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')) yield path.join(folder, d.name);
  }
}

/** Transform every .ts file under the project's source folders that the cache lacks; resolves to how many. */
async function warm(dir, rootDir) {
  const { transform } = require('esbuild');
  fs.mkdirSync(dir, { recursive: true });
  const missing = [];
  for (const folder of SOURCE_FOLDERS) {
    for (const filename of typeScriptFiles(path.join(rootDir, folder))) {
      const source = fs.readFileSync(filename, 'utf8');
      const file = entry(dir, filename, source);
      if (!fs.existsSync(file)) missing.push({ filename, source, file });
    }
  }
  // a file esbuild rejects is left out: the worker that loads it transforms it and the error fails that file only
  await Promise.all(missing.map(({ filename, source, file }) => transform(source, { ...transformer.OPTIONS, sourcefile: filename })
    .then((result) => store(file, result), () => undefined)));
  return missing.length;
}

module.exports = { transformFile, warm };
