/**
 * The Lambda's deployment package, built once with the bundle: `node projenrc/zip-bundle.js <dir>` writes
 * `<dir>/lambda.zip` holding `<dir>/index.js` as `index.js` (the handler `index.handler`).
 *
 * Why not cdktf's `AssetType.ARCHIVE` of the directory at synth time: cdktf zips through a child process
 * (`execSync("node <cdktf>/lib/private/fs.js <src> <dest>")`, lib/private/fs.js `archiveSync`), a node start on
 * every synthesis, and needs `node` on the shell's PATH. This zip is built here instead, and shipped in the package.
 *
 * The file is byte-for-byte reproducible: one deflated entry, DOS timestamp 1980-01-01 00:00 (the format's
 * epoch), mode 0644, no extra fields (PKWARE APPNOTE.TXT 4.3.7 local file header, 4.3.12 central directory header,
 * 4.3.16 end of central directory record). So the asset's hash, and Terraform's `source_code_hash`, change only
 * when the bundle does.
 */
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node projenrc/zip-bundle.js <bundle directory>');
  process.exit(2);
}
const name = Buffer.from('index.js');
const data = fs.readFileSync(path.join(dir, 'index.js'));
const deflated = zlib.deflateRawSync(data, { level: 9 });
const crc = crc32(data);
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01

/**
 * CRC-32 as ZIP uses it (APPNOTE 4.4.7: polynomial 0xEDB88320 reflected, initial and final value 0xFFFFFFFF), the
 * same value as `zlib.crc32`. Written out because `zlib.crc32` needs Node 20.15, and this script runs in every
 * build: the package's `engines` (>= 20.0) is what a contributor needs too.
 */
function crc32(bytes) {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/**
 * The fields the local header and the central directory header share, in the same order (APPNOTE 4.3.7 from
 * "version needed to extract", 4.3.12 from the same field): written at `at` in `b`.
 */
function entryFields(b, at) {
  b.writeUInt16LE(20, at); // version needed to extract: 2.0 (deflate)
  b.writeUInt16LE(0, at + 2); // general purpose bit flag
  b.writeUInt16LE(8, at + 4); // compression method: deflate
  b.writeUInt16LE(DOS_TIME, at + 6);
  b.writeUInt16LE(DOS_DATE, at + 8);
  b.writeUInt32LE(crc, at + 10);
  b.writeUInt32LE(deflated.length, at + 14);
  b.writeUInt32LE(data.length, at + 18);
  b.writeUInt16LE(name.length, at + 22);
  b.writeUInt16LE(0, at + 24); // extra field length
}

const local = Buffer.alloc(30);
local.writeUInt32LE(0x04034b50, 0); // local file header signature
entryFields(local, 4);

const central = Buffer.alloc(46);
central.writeUInt32LE(0x02014b50, 0); // central file header signature
central.writeUInt16LE((3 << 8) | 20, 4); // version made by: UNIX, 2.0 (so the external attributes carry the mode)
entryFields(central, 6);
central.writeUInt16LE(0, 32); // file comment length
central.writeUInt16LE(0, 34); // disk number start
central.writeUInt16LE(0, 36); // internal file attributes
central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external file attributes: regular file, rw-r--r--
central.writeUInt32LE(0, 42); // offset of the local header

const centralOffset = local.length + name.length + deflated.length;
const centralSize = central.length + name.length;
const end = Buffer.alloc(22);
end.writeUInt32LE(0x06054b50, 0); // end of central directory signature
end.writeUInt16LE(0, 4);
end.writeUInt16LE(0, 6);
end.writeUInt16LE(1, 8); // entries on this disk
end.writeUInt16LE(1, 10); // entries in all
end.writeUInt32LE(centralSize, 12);
end.writeUInt32LE(centralOffset, 16);
end.writeUInt16LE(0, 20); // comment length

const out = path.join(dir, 'lambda.zip');
fs.writeFileSync(out, Buffer.concat([local, name, deflated, central, name, end]));
console.log(`zip-bundle: ${out} (${data.length} bytes, ${deflated.length} deflated)`);
