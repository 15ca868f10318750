#!/usr/bin/env node
// Builds the binary IP→ASN index that src/enrich/asn.ts loads, from the @ip-location-db/asn CSVs.
//
// Why a build step: parsing ~515k CSV rows (BigInt for IPv6) takes seconds; reading a ready-made file
// of typed arrays takes milliseconds. The file lives in node_modules/.cache/replayguard/, named after
// the data package version, so `npm ci` (which wipes node_modules) or a data update both lead to a
// rebuild, and asn.ts also builds it itself on first use if this script never ran.
//
// Plain Node ESM (no TypeScript) so `prepare` can run it before anything is compiled.
//
// Usage: node scripts/build-asn-index.mjs [--force] [--out FILE] [--quiet]
//
// File format (all integers little-endian u32; every section starts 8-byte aligned so the loader can
// lay Uint32Array views straight over the file):
//   0   magic "RGASNIX\0"
//   8   format version, byte-order mark 0x01020304 (read natively: a mismatch means another endianness)
//   16  n4, n6, nOrgs, metaOffset, metaLength, totalLength
//   40  offsets of: v4Start v4End v4Asn v4Org v6Start v6End v6Asn v6Org orgOffsets orgBytes, orgBytesLength
//   84  zero padding up to HEADER_SIZE
//   meta: UTF-8 JSON {source, version, csv: {ipv4Bytes, ipv6Bytes}, rows, overlaps, builtAt}
//   v4Start/v4End: first/last address (inclusive), sorted, non-overlapping; gaps mean "no ASN"
//   v6Start/v6End: 4 words per entry, most significant word first
//   v?Org: index into the org table, 0xffffffff for none
//   orgOffsets: nOrgs+1 byte offsets into orgBytes (UTF-8)
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MAGIC = 'RGASNIX\0';
// Bump when the file layout or what the builder keeps changes: the number is part of the cache name.
export const FORMAT_VERSION = 2;
export const BYTE_ORDER_MARK = 0x01020304;
export const HEADER_SIZE = 128;
export const NO_ORG = 0xffffffff;
export const SOURCE_PACKAGE = '@ip-location-db/asn';
export const IPV4_CSV = 'asn-ipv4-num.csv';
export const IPV6_CSV = 'asn-ipv6-num.csv';

/** Where the data package is, its version and the CSV sizes (the cache key). */
export function locateAsnSource(from = import.meta.url) {
  const require = createRequire(from);
  const pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  const dir = path.dirname(pkgJson);
  const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
  return {
    dir,
    version: String(version),
    // <node_modules>/@ip-location-db/asn → <node_modules>
    nodeModules: path.resolve(dir, '..', '..'),
    ipv4Bytes: fs.statSync(path.join(dir, IPV4_CSV)).size,
    ipv6Bytes: fs.statSync(path.join(dir, IPV6_CSV)).size,
  };
}

export function indexFileName(version) {
  return `asn-index-${version.replace(/[^0-9A-Za-z._-]/g, '_')}-f${FORMAT_VERSION}.bin`;
}

/** The cache path: REPLAYGUARD_ASN_INDEX if set, else node_modules/.cache/replayguard/<name>. */
export function defaultIndexPath(source = locateAsnSource()) {
  const fromEnv = process.env.REPLAYGUARD_ASN_INDEX;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(source.nodeModules, '.cache', 'replayguard', indexFileName(source.version));
}

/**
 * Parses one "-num" CSV (start,end,asn,org; org optionally RFC 4180 quoted) and calls
 * onRow(start, end, asn, org, line). Scans by index instead of splitting lines so a quoted org
 * containing a comma, a doubled quote or even a newline is read correctly.
 */
export function parseNumCsv(text, onRow) {
  const n = text.length;
  let i = 0;
  let line = 0;
  const fail = (msg) => {
    throw new Error(`${msg} at line ${line}`);
  };
  while (i < n) {
    line++;
    const c0 = text.charCodeAt(i);
    if (c0 === 10 || c0 === 13) {
      i++;
      continue;
    }
    const c1 = text.indexOf(',', i);
    const c2 = c1 === -1 ? -1 : text.indexOf(',', c1 + 1);
    const c3 = c2 === -1 ? -1 : text.indexOf(',', c2 + 1);
    if (c3 === -1) fail('expected 4 fields');
    const start = text.slice(i, c1);
    const end = text.slice(c1 + 1, c2);
    const asn = text.slice(c2 + 1, c3);
    let org;
    let j = c3 + 1;
    if (text.charCodeAt(j) === 34) {
      let k = j + 1;
      org = '';
      for (;;) {
        const q = text.indexOf('"', k);
        if (q === -1) fail('unterminated quoted field');
        if (text.charCodeAt(q + 1) === 34) {
          org += text.slice(k, q + 1);
          k = q + 2;
        } else {
          org += text.slice(k, q);
          j = q + 1;
          break;
        }
      }
      const nl = text.indexOf('\n', j);
      const rest = text.slice(j, nl === -1 ? n : nl).trim();
      if (rest !== '') fail('text after a quoted field');
      i = nl === -1 ? n : nl + 1;
    } else {
      const nl = text.indexOf('\n', j);
      const lineEnd = nl === -1 ? n : nl;
      org = text.slice(j, lineEnd);
      if (org.endsWith('\r')) org = org.slice(0, -1);
      i = lineEnd + 1;
    }
    if (!/^\d+$/.test(start) || !/^\d+$/.test(end) || !/^\d+$/.test(asn)) fail('non-numeric start, end or asn');
    onRow(start, end, asn, org, line);
  }
}

/**
 * Turns rows sorted by start into sorted, non-overlapping ranges. The data is meant to be disjoint,
 * but a release can overlap (2026-06 has one: a DoD /14-ish row and a narrower AS721 row inside
 * it). Routing semantics decide: the narrower (more specific) range wins where they overlap and the
 * wider one keeps the rest on both sides. `one` is 1 or 1n so the same code serves Number and BigInt.
 */
export function resolveOverlaps(rows, one) {
  const out = [];
  const pending = []; // remainders of wider ranges, sorted by start; rarely non-empty
  let overlaps = 0;
  let next = 0;
  const take = () => {
    if (pending.length > 0 && (next >= rows.length || pending[0].s <= rows[next].s)) return pending.shift();
    return next < rows.length ? rows[next++] : undefined;
  };
  const defer = (r) => {
    let k = pending.length;
    while (k > 0 && pending[k - 1].s > r.s) k--;
    pending.splice(k, 0, r);
  };
  for (let r = take(); r !== undefined; r = take()) {
    for (;;) {
      const last = out[out.length - 1];
      if (last === undefined || r.s > last.e) {
        out.push(r);
        break;
      }
      overlaps++;
      if (r.w <= last.w) {
        if (last.e > r.e) defer({ ...last, s: r.e + one });
        if (r.s === last.s) out.pop();
        else last.e = r.s - one;
        continue; // r may overlap the range before last too
      }
      if (r.e <= last.e) break; // wider and entirely under a narrower range: nothing left of it
      r = { ...r, s: last.e + one };
    }
  }
  return { ranges: out, overlaps };
}

const align8 = (n) => (n + 7) & ~7;

/**
 * False for AS numbers that never identify a network on the Internet: AS0 ("not routed", RFC 7607),
 * AS_TRANS 23456, documentation (RFC 5398), private use (RFC 6996) and reserved (RFC 7300) numbers.
 * A few dozen rows carry private ASNs leaked into the route collectors' view; saying "AS65002" would
 * be the name of someone's internal network, so those addresses get no AS instead.
 */
export function isPublicAsn(a) {
  return !(
    a === 0 ||
    a === 23456 ||
    (a >= 64496 && a <= 131071) ||
    a >= 4200000000
  );
}

/** Reads the CSVs in `csvDir` and returns the index file's bytes. */
export async function buildAsnIndex({ csvDir, version, ipv4Bytes, ipv6Bytes } = {}) {
  if (!csvDir) {
    const source = locateAsnSource();
    ({ dir: csvDir, version, ipv4Bytes, ipv6Bytes } = source);
  }
  const [v4Text, v6Text] = await Promise.all([
    fsp.readFile(path.join(csvDir, IPV4_CSV), 'utf8'),
    fsp.readFile(path.join(csvDir, IPV6_CSV), 'utf8'),
  ]);
  ipv4Bytes ??= Buffer.byteLength(v4Text);
  ipv6Bytes ??= Buffer.byteLength(v6Text);

  const orgIndex = new Map();
  const orgs = [];
  const orgOf = (name) => {
    if (name === '') return NO_ORG;
    let k = orgIndex.get(name);
    if (k === undefined) {
      k = orgs.length;
      orgs.push(name);
      orgIndex.set(name, k);
    }
    return k;
  };

  const read = (text, file, parseNum, max) => {
    const rows = [];
    let sorted = true;
    parseNumCsv(text, (start, end, asn, org, line) => {
      const s = parseNum(start);
      const e = parseNum(end);
      const a = Number(asn);
      if (e < s || e > max) throw new Error(`${file}: bad range at line ${line}`);
      if (a > 0xffffffff) throw new Error(`${file}: ASN out of range at line ${line}`);
      if (!isPublicAsn(a)) return;
      const prev = rows[rows.length - 1];
      if (prev !== undefined && (s < prev.s || (s === prev.s && e - s > prev.w))) sorted = false;
      rows.push({ s, e, w: e - s, asn: a, org: orgOf(org) });
    });
    // Wider first on equal starts so the narrower row, processed later, wins.
    if (!sorted) rows.sort((x, y) => (x.s < y.s ? -1 : x.s > y.s ? 1 : x.w > y.w ? -1 : x.w < y.w ? 1 : 0));
    return rows;
  };

  const rows4 = read(v4Text, IPV4_CSV, Number, 0xffffffff);
  const rows6 = read(v6Text, IPV6_CSV, BigInt, (1n << 128n) - 1n);
  const v4 = resolveOverlaps(rows4, 1);
  const v6 = resolveOverlaps(rows6, 1n);

  const n4 = v4.ranges.length;
  const n6 = v6.ranges.length;
  const encoder = new TextEncoder();
  const orgChunks = orgs.map((o) => encoder.encode(o));
  const orgBytesLength = orgChunks.reduce((sum, c) => sum + c.length, 0);

  const meta = Buffer.from(
    JSON.stringify({
      source: SOURCE_PACKAGE,
      version,
      csv: { ipv4Bytes, ipv6Bytes },
      rows: { ipv4: rows4.length, ipv6: rows6.length },
      ranges: { ipv4: n4, ipv6: n6 },
      overlaps: { ipv4: v4.overlaps, ipv6: v6.overlaps },
      orgs: orgs.length,
      builtAt: new Date().toISOString(),
    }),
  );

  let at = HEADER_SIZE;
  const place = (bytes) => {
    const off = at;
    at = align8(at + bytes);
    return off;
  };
  const metaOffset = place(meta.length);
  const off = {
    v4Start: place(n4 * 4),
    v4End: place(n4 * 4),
    v4Asn: place(n4 * 4),
    v4Org: place(n4 * 4),
    v6Start: place(n6 * 16),
    v6End: place(n6 * 16),
    v6Asn: place(n6 * 4),
    v6Org: place(n6 * 4),
    orgOffsets: place((orgs.length + 1) * 4),
    orgBytes: place(orgBytesLength),
  };
  const total = at;

  const buf = Buffer.alloc(total);
  const u32 = (byteOffset, length) => new Uint32Array(buf.buffer, buf.byteOffset + byteOffset, length);
  buf.write(MAGIC, 0, 'latin1');
  const head = [
    FORMAT_VERSION,
    BYTE_ORDER_MARK,
    n4,
    n6,
    orgs.length,
    metaOffset,
    meta.length,
    total,
    off.v4Start,
    off.v4End,
    off.v4Asn,
    off.v4Org,
    off.v6Start,
    off.v6End,
    off.v6Asn,
    off.v6Org,
    off.orgOffsets,
    off.orgBytes,
    orgBytesLength,
  ];
  // Native order on purpose: the loader maps these bytes as Uint32Array, and the byte-order mark
  // tells it whether the file was written on a machine of the same endianness.
  u32(8, head.length).set(head);
  meta.copy(buf, metaOffset);

  const v4Start = u32(off.v4Start, n4);
  const v4End = u32(off.v4End, n4);
  const v4Asn = u32(off.v4Asn, n4);
  const v4Org = u32(off.v4Org, n4);
  v4.ranges.forEach((r, k) => {
    v4Start[k] = r.s;
    v4End[k] = r.e;
    v4Asn[k] = r.asn;
    v4Org[k] = r.org;
  });

  const v6Start = u32(off.v6Start, n6 * 4);
  const v6End = u32(off.v6End, n6 * 4);
  const v6Asn = u32(off.v6Asn, n6);
  const v6Org = u32(off.v6Org, n6);
  const M32 = 0xffffffffn;
  const words = (big, into, k) => {
    into[k * 4] = Number((big >> 96n) & M32);
    into[k * 4 + 1] = Number((big >> 64n) & M32);
    into[k * 4 + 2] = Number((big >> 32n) & M32);
    into[k * 4 + 3] = Number(big & M32);
  };
  v6.ranges.forEach((r, k) => {
    words(r.s, v6Start, k);
    words(r.e, v6End, k);
    v6Asn[k] = r.asn;
    v6Org[k] = r.org;
  });

  const orgOffsets = u32(off.orgOffsets, orgs.length + 1);
  let o = 0;
  orgChunks.forEach((chunk, k) => {
    orgOffsets[k] = o;
    buf.set(chunk, off.orgBytes + o);
    o += chunk.length;
  });
  orgOffsets[orgs.length] = o;
  return buf;
}

/** Reads just the header and meta; undefined if the file is missing, truncated or of another format. */
export function readIndexMeta(buf) {
  if (buf.length < HEADER_SIZE || buf.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const head = new DataView(buf.buffer, buf.byteOffset, HEADER_SIZE);
  const native = (k) => head.getUint32(k, true);
  const le = native(12) === BYTE_ORDER_MARK;
  const at = (k) => head.getUint32(k, le);
  if (at(8) !== FORMAT_VERSION || at(12) !== BYTE_ORDER_MARK || at(36) !== buf.length) return undefined;
  try {
    return JSON.parse(buf.toString('utf8', at(28), at(28) + at(32)));
  } catch {
    return undefined;
  }
}

/** True when `buf` is a complete index for this data package version and these CSVs. */
export function isCurrentIndex(buf, source) {
  const meta = readIndexMeta(buf);
  // A file from a machine of the other endianness parses above but must be rebuilt for this one.
  const nativeLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const fileLE = buf.length >= 16 && buf.readUInt32LE(12) === BYTE_ORDER_MARK;
  return (
    meta !== undefined &&
    nativeLE === fileLE &&
    meta.source === SOURCE_PACKAGE &&
    meta.version === source.version &&
    meta.csv?.ipv4Bytes === source.ipv4Bytes &&
    meta.csv?.ipv6Bytes === source.ipv6Bytes
  );
}

/**
 * Writes via a temp file and rename so a crash or a concurrent builder (several workers starting on
 * a fresh clone) never leaves a half-written index for a reader to trust; then removes indexes of
 * other data versions or formats, which would otherwise pile up with every data update.
 */
export async function writeIndexAtomic(file, buf) {
  const dir = path.dirname(file);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fsp.writeFile(tmp, buf);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  // Only in a folder we name files in (the default cache), never next to a file the operator named.
  const ours = /^asn-index-.+-f\d+\.bin$/;
  const base = path.basename(file);
  if (!ours.test(base)) return;
  for (const name of await fsp.readdir(dir).catch(() => [])) {
    if (name !== base && ours.test(name)) await fsp.rm(path.join(dir, name), { force: true });
  }
}

/** Builds and writes the index unless a current one exists. */
export async function ensureAsnIndex({ out, force = false } = {}) {
  const source = locateAsnSource();
  const file = out ? path.resolve(out) : defaultIndexPath(source);
  if (!force) {
    const existing = await fsp.readFile(file).catch(() => undefined);
    if (existing && isCurrentIndex(existing, source)) return { file, built: false, bytes: existing.length };
  }
  const buf = await buildAsnIndex({
    csvDir: source.dir,
    version: source.version,
    ipv4Bytes: source.ipv4Bytes,
    ipv6Bytes: source.ipv6Bytes,
  });
  await writeIndexAtomic(file, buf);
  return { file, built: true, bytes: buf.length, meta: readIndexMeta(buf) };
}

async function main(argv) {
  const force = argv.includes('--force');
  const quiet = argv.includes('--quiet');
  const outAt = argv.indexOf('--out');
  const out = outAt === -1 ? undefined : argv[outAt + 1];
  const t0 = performance.now();
  const result = await ensureAsnIndex({ out, force });
  const ms = Math.round(performance.now() - t0);
  if (quiet) return;
  if (!result.built) {
    console.log(`asn index up to date: ${result.file}`);
    return;
  }
  const m = result.meta;
  console.log(
    `asn index built in ${ms} ms: ${result.file} (${(result.bytes / 1048576).toFixed(1)} MiB, ` +
      `${m.ranges.ipv4} IPv4 + ${m.ranges.ipv6} IPv6 ranges, ${m.orgs} orgs, ` +
      `overlaps resolved ${m.overlaps.ipv4}/${m.overlaps.ipv6}, ${SOURCE_PACKAGE}@${m.version})`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`build-asn-index: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
