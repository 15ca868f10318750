// IP → autonomous system, from the @ip-location-db/asn prefix table (RouteViews + NRO + DB-IP,
// CC BY 4.0). The table is compiled once by scripts/build-asn-index.mjs into a file of typed arrays;
// this module maps Uint32Array views over that file (no per-range objects, ~13 MiB for ~515k ranges)
// and answers with a binary search, so a lookup costs O(log n) and allocates only its result.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Hextets, parseIp, isPublicIPv4, isPublicIPv6 } from './network.js';

export interface AsInfo {
  number: number;
  org?: string;
}

export interface AsnIndexMeta {
  source: string;
  version: string;
  csv?: { ipv4Bytes: number; ipv6Bytes: number };
  ranges: { ipv4: number; ipv6: number };
  orgs: number;
  builtAt: string;
}

// Must match scripts/build-asn-index.mjs (the round-trip test in test/unit/enrich/asn.test.ts
// builds with the script and reads with this module).
const MAGIC = 'RGASNIX\0';
const FORMAT_VERSION = 2;
const BYTE_ORDER_MARK = 0x01020304;
const HEADER_SIZE = 128;
const NO_ORG = 0xffffffff;
const SOURCE_PACKAGE = '@ip-location-db/asn';
const BUILD_SCRIPT = path.join('scripts', 'build-asn-index.mjs');

export class AsnIndexFormatError extends Error {
  readonly code = 'ASN_INDEX_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'AsnIndexFormatError';
  }
}

export class AsnIndex {
  readonly meta: AsnIndexMeta;
  readonly byteLength: number;
  private readonly v4Start: Uint32Array;
  private readonly v4End: Uint32Array;
  private readonly v4Asn: Uint32Array;
  private readonly v4Org: Uint32Array;
  private readonly v6Start: Uint32Array;
  private readonly v6End: Uint32Array;
  private readonly v6Asn: Uint32Array;
  private readonly v6Org: Uint32Array;
  private readonly orgOffsets: Uint32Array;
  private readonly orgBytes: Buffer;
  // Decoded lazily: most of the ~80k org names are never asked for by one deployment.
  private readonly orgNames: (string | undefined)[];
  private orgByAsn: Map<number, number> | undefined;

  private constructor(buf: Buffer) {
    if (buf.length < HEADER_SIZE || buf.toString('latin1', 0, 8) !== MAGIC) {
      throw new AsnIndexFormatError('not an ASN index file');
    }
    // Typed-array views need 4-byte alignment; fs.readFile gives a fresh ArrayBuffer (offset 0),
    // but a Buffer from a pool or a slice might not be aligned.
    if (buf.byteOffset % 8 !== 0) buf = Buffer.from(buf);
    const u32 = (byteOffset: number, length: number): Uint32Array =>
      new Uint32Array(buf.buffer, buf.byteOffset + byteOffset, length);
    const head = u32(8, 19);
    const word = (k: number): number => head[k] ?? 0;
    if (word(1) !== BYTE_ORDER_MARK) throw new AsnIndexFormatError('ASN index written with another byte order');
    if (word(0) !== FORMAT_VERSION) throw new AsnIndexFormatError(`ASN index format ${word(0)}, expected ${FORMAT_VERSION}`);
    if (word(7) !== buf.length) throw new AsnIndexFormatError('ASN index file is truncated');
    const n4 = word(2);
    const n6 = word(3);
    const nOrgs = word(4);
    this.meta = JSON.parse(buf.toString('utf8', word(5), word(5) + word(6))) as AsnIndexMeta;
    this.byteLength = buf.length;
    this.v4Start = u32(word(8), n4);
    this.v4End = u32(word(9), n4);
    this.v4Asn = u32(word(10), n4);
    this.v4Org = u32(word(11), n4);
    this.v6Start = u32(word(12), n6 * 4);
    this.v6End = u32(word(13), n6 * 4);
    this.v6Asn = u32(word(14), n6);
    this.v6Org = u32(word(15), n6);
    this.orgOffsets = u32(word(16), nOrgs + 1);
    this.orgBytes = buf.subarray(word(17), word(17) + word(18));
    this.orgNames = new Array<string | undefined>(nOrgs);
  }

  static fromBuffer(buf: Buffer): AsnIndex {
    return new AsnIndex(buf);
  }

  get size(): { ipv4: number; ipv6: number } {
    return { ipv4: this.v4Asn.length, ipv6: this.v6Asn.length };
  }

  /**
   * The AS announcing `ip`, or undefined for an address in no range (gaps are real: unrouted space),
   * a private/documentation/special address, or text that is not an IP. IPv4-mapped IPv6 is looked
   * up as the IPv4 it carries.
   */
  lookup(ip: string): AsInfo | undefined {
    const p = parseIp(ip);
    if (!p) return undefined;
    if (p.v === 4) return isPublicIPv4(p.n) ? this.lookupIPv4(p.n) : undefined;
    return isPublicIPv6(p.h) ? this.lookupIPv6(p.h) : undefined;
  }

  /** Raw table lookup of an unsigned 32-bit IPv4 address (no special-address filtering). */
  lookupIPv4(n: number): AsInfo | undefined {
    const starts = this.v4Start;
    // Last range whose start <= n.
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= n) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found === -1 || n > (this.v4End[found] as number)) return undefined;
    return this.info(this.v4Asn[found] as number, this.v4Org[found] as number);
  }

  /** Raw table lookup of an IPv6 address given as eight 16-bit groups. */
  lookupIPv6(h: Hextets): AsInfo | undefined {
    const w0 = ((h[0] << 16) | h[1]) >>> 0;
    const w1 = ((h[2] << 16) | h[3]) >>> 0;
    const w2 = ((h[4] << 16) | h[5]) >>> 0;
    const w3 = ((h[6] << 16) | h[7]) >>> 0;
    const starts = this.v6Start;
    let lo = 0;
    let hi = this.v6Asn.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp128(starts, mid * 4, w0, w1, w2, w3) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found === -1 || cmp128(this.v6End, found * 4, w0, w1, w2, w3) < 0) return undefined;
    return this.info(this.v6Asn[found] as number, this.v6Org[found] as number);
  }

  /**
   * An organisation name for an AS number, for when the source told us the ASN but not who it is.
   * The first name seen in the table; the map is built on first use (~80k entries, ~20 ms).
   */
  orgOf(asn: number): string | undefined {
    if (!this.orgByAsn) {
      const map = new Map<number, number>();
      const add = (asns: Uint32Array, orgs: Uint32Array): void => {
        for (let k = 0; k < asns.length; k++) {
          const a = asns[k] as number;
          const o = orgs[k] as number;
          if (o !== NO_ORG && !map.has(a)) map.set(a, o);
        }
      };
      add(this.v4Asn, this.v4Org);
      add(this.v6Asn, this.v6Org);
      this.orgByAsn = map;
    }
    const o = this.orgByAsn.get(asn);
    return o === undefined ? undefined : this.orgName(o);
  }

  private info(asn: number, org: number): AsInfo {
    const name = org === NO_ORG ? undefined : this.orgName(org);
    return name === undefined ? { number: asn } : { number: asn, org: name };
  }

  private orgName(k: number): string | undefined {
    let name = this.orgNames[k];
    if (name === undefined) {
      const start = this.orgOffsets[k];
      const end = this.orgOffsets[k + 1];
      if (start === undefined || end === undefined) return undefined;
      name = this.orgBytes.toString('utf8', start, end);
      this.orgNames[k] = name;
    }
    return name;
  }
}

function cmp128(words: Uint32Array, at: number, w0: number, w1: number, w2: number, w3: number): number {
  const a0 = words[at] as number;
  if (a0 !== w0) return a0 < w0 ? -1 : 1;
  const a1 = words[at + 1] as number;
  if (a1 !== w1) return a1 < w1 ? -1 : 1;
  const a2 = words[at + 2] as number;
  if (a2 !== w2) return a2 < w2 ? -1 : 1;
  const a3 = words[at + 3] as number;
  return a3 === w3 ? 0 : a3 < w3 ? -1 : 1;
}

interface AsnSource {
  dir: string;
  version: string;
  nodeModules: string;
  ipv4Bytes: number;
  ipv6Bytes: number;
}

/** The subset of scripts/build-asn-index.mjs this module calls. */
interface AsnBuilder {
  buildAsnIndex(opts: { csvDir: string; version: string; ipv4Bytes: number; ipv6Bytes: number }): Promise<Buffer>;
  writeIndexAtomic(file: string, buf: Buffer): Promise<void>;
}

async function locateSource(): Promise<AsnSource> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  const dir = path.dirname(pkgJson);
  const [pkg, v4, v6] = await Promise.all([
    readFile(pkgJson, 'utf8'),
    stat(path.join(dir, 'asn-ipv4-num.csv')),
    stat(path.join(dir, 'asn-ipv6-num.csv')),
  ]);
  const version = String((JSON.parse(pkg) as { version?: unknown }).version);
  return { dir, version, nodeModules: path.resolve(dir, '..', '..'), ipv4Bytes: v4.size, ipv6Bytes: v6.size };
}

/** node_modules/.cache/replayguard/asn-index-<data version>-f<format>.bin, or $REPLAYGUARD_ASN_INDEX. */
export async function defaultAsnIndexPath(): Promise<string> {
  return indexPathFor(await locateSource());
}

function indexPathFor(source: AsnSource): string {
  const fromEnv = process.env['REPLAYGUARD_ASN_INDEX'];
  if (fromEnv) return path.resolve(fromEnv);
  const name = `asn-index-${source.version.replace(/[^0-9A-Za-z._-]/g, '_')}-f${FORMAT_VERSION}.bin`;
  return path.join(source.nodeModules, '.cache', 'replayguard', name);
}

function isCurrent(index: AsnIndex, source: AsnSource): boolean {
  const m = index.meta;
  return (
    m.source === SOURCE_PACKAGE &&
    m.version === source.version &&
    m.csv?.ipv4Bytes === source.ipv4Bytes &&
    m.csv?.ipv6Bytes === source.ipv6Bytes
  );
}

// The builder is found by walking up from this file rather than by a fixed relative import, so the
// same code works from src/ under vitest/tsx and from any dist/ layout the build chooses.
async function importBuilder(): Promise<AsnBuilder> {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    const candidate = path.join(dir, BUILD_SCRIPT);
    if (existsSync(candidate)) return (await import(pathToFileURL(candidate).href)) as AsnBuilder;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find ${BUILD_SCRIPT} above ${fileURLToPath(import.meta.url)} to build the ASN index`);
}

export interface LoadAsnIndexOptions {
  /** Index file to read (and to write when building). Default: see defaultAsnIndexPath(). */
  path?: string;
  /** Build from the CSVs when the file is missing or stale (default true). */
  build?: boolean;
  /** Told about a build and about a failure to save it, e.g. to log it. */
  onEvent?: (event: { type: 'built'; file: string; ms: number } | { type: 'save_failed'; file: string; error: Error }) => void;
}

/**
 * Loads the index, building it from the CSVs first if the cached file is missing, truncated, of an
 * older format or for another data version. When the cache folder is not writable (read-only
 * node_modules in a container) the freshly built index is still used, just not saved.
 */
export async function loadAsnIndex(opts: LoadAsnIndexOptions = {}): Promise<AsnIndex> {
  const source = await locateSource();
  const file = opts.path ? path.resolve(opts.path) : indexPathFor(source);
  try {
    const index = AsnIndex.fromBuffer(await readFile(file));
    if (isCurrent(index, source)) return index;
  } catch (err) {
    // Unreadable counts as missing: the build below either fixes it or still hands back an index.
    const code = (err as NodeJS.ErrnoException).code;
    const unreadable = code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES' || code === 'EPERM';
    if (!unreadable && !(err instanceof AsnIndexFormatError) && !(err instanceof SyntaxError)) throw err;
  }
  if (opts.build === false) throw new Error(`ASN index ${file} is missing or stale; run: node ${BUILD_SCRIPT}`);
  const builder = await importBuilder();
  const t0 = performance.now();
  const buf = await builder.buildAsnIndex({
    csvDir: source.dir,
    version: source.version,
    ipv4Bytes: source.ipv4Bytes,
    ipv6Bytes: source.ipv6Bytes,
  });
  opts.onEvent?.({ type: 'built', file, ms: performance.now() - t0 });
  try {
    await builder.writeIndexAtomic(file, buf);
  } catch (error) {
    opts.onEvent?.({ type: 'save_failed', file, error: error as Error });
  }
  return AsnIndex.fromBuffer(buf);
}

const shared = new Map<string, Promise<AsnIndex>>();

/** One index per file per process: every enricher (and every test file) shares the ~13 MiB. */
export function sharedAsnIndex(opts: LoadAsnIndexOptions = {}): Promise<AsnIndex> {
  const key = opts.path ? path.resolve(opts.path) : '';
  let p = shared.get(key);
  if (!p) {
    p = loadAsnIndex(opts);
    // A failed load must not poison later attempts (e.g. after the operator fixes permissions).
    p.catch(() => shared.delete(key));
    shared.set(key, p);
  }
  return p;
}
