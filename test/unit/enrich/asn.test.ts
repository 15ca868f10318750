import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import * as builder from '../../../scripts/build-asn-index.mjs';
import { AsnIndex, AsnIndexFormatError, loadAsnIndex, sharedAsnIndex } from '../../../src/enrich/asn.js';
import { type Hextets, formatIPv4, formatIPv6 } from '../../../src/enrich/network.js';

const csvDir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));

interface Row<T> {
  s: T;
  e: T;
  asn: number;
  org: string;
}

async function readRows<T>(file: string, parse: (s: string) => T): Promise<Row<T>[]> {
  const rows: Row<T>[] = [];
  builder.parseNumCsv(await readFile(path.join(csvDir, file), 'utf8'), (s, e, asn, org) => {
    rows.push({ s: parse(s), e: parse(e), asn: Number(asn), org });
  });
  return rows;
}

function hextets(n: bigint): Hextets {
  const h: number[] = [];
  for (let k = 7; k >= 0; k--) h.push(Number((n >> BigInt(k * 16)) & 0xffffn));
  return h as Hextets;
}

/** Rows whose neighbours do not overlap them: their edges must come back exactly as in the CSV. */
function disjoint<T extends number | bigint>(rows: Row<T>[]): number[] {
  const ok: number[] = [];
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const prev = rows[k - 1];
    const next = rows[k + 1];
    if ((prev === undefined || prev.e < row.s) && (next === undefined || row.e < next.s)) ok.push(k);
  }
  return ok;
}

function sample(indexes: number[], count: number): number[] {
  const step = Math.max(1, Math.floor(indexes.length / count));
  const out = indexes.filter((_, k) => k % step === 0);
  // Always include both ends of the table.
  return [...new Set([indexes[0]!, ...out, indexes[indexes.length - 1]!])];
}

describe('ASN lookups on the real @ip-location-db/asn data', () => {
  let index: AsnIndex;
  beforeAll(async () => {
    index = await sharedAsnIndex();
  }, 120_000);

  it.each([
    ['8.8.8.8', 15169, /google/i],
    ['8.8.4.4', 15169, /google/i],
    ['1.1.1.1', 13335, /cloudflare/i],
    ['1.0.0.1', 13335, /cloudflare/i],
    ['9.9.9.9', 19281, /quad9/i],
    ['2001:4860:4860::8888', 15169, /google/i],
    ['2001:4860:4860:0:0:0:0:8844', 15169, /google/i],
    ['2606:4700:4700::1111', 13335, /cloudflare/i],
    ['2620:fe::fe', 19281, /quad9/i],
  ])('%s → AS%i', (ip, asn, org) => {
    const found = index.lookup(ip);
    expect(found?.number).toBe(asn);
    expect(found?.org).toMatch(org);
  });

  it('looks IPv4-mapped IPv6 up as the IPv4 it carries, in both spellings', () => {
    expect(index.lookup('::ffff:8.8.8.8')?.number).toBe(15169);
    expect(index.lookup('::FFFF:808:808')?.number).toBe(15169);
    expect(index.lookup('::ffff:1.1.1.1')).toEqual(index.lookup('1.1.1.1'));
  });

  it.each([
    '10.0.0.1',
    '172.16.5.4',
    '192.168.0.1',
    '100.64.0.1',
    '127.0.0.1',
    '169.254.169.254',
    '192.0.2.1',
    '198.51.100.1',
    '203.0.113.7',
    '224.0.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '2001:db8::1',
    '3fff::1',
    '::ffff:192.168.1.1',
    'not-an-ip',
    '',
  ])('has no AS for the private/special/invalid address %j', (ip) => {
    expect(index.lookup(ip)).toBeUndefined();
  });

  it('agrees with the IPv4 CSV at range edges: first, last, one before, one past', async () => {
    const rows = await readRows(builder.IPV4_CSV, Number);
    expect(index.size.ipv4).toBeGreaterThan(100_000);
    const picked = sample(disjoint(rows), 3000).filter((k) => builder.isPublicAsn(rows[k]!.asn));
    let gapsSeen = 0;
    for (const k of picked) {
      const row = rows[k]!;
      const expected = { number: row.asn, org: row.org };
      expect(index.lookupIPv4(row.s), formatIPv4(row.s)).toEqual(expected);
      expect(index.lookupIPv4(row.e), formatIPv4(row.e)).toEqual(expected);
      expect(index.lookupIPv4(Math.floor((row.s + row.e) / 2))).toEqual(expected);
      const next = rows[k + 1];
      if (row.e < 0xffffffff) {
        const past = index.lookupIPv4(row.e + 1);
        if (next && next.s === row.e + 1) expect(past?.number).toBe(builder.isPublicAsn(next.asn) ? next.asn : undefined);
        else {
          gapsSeen++;
          expect(past, `one past ${formatIPv4(row.e)} is a gap`).toBeUndefined();
        }
      }
      const prev = rows[k - 1];
      if (row.s > 0 && !(prev && prev.e === row.s - 1)) {
        expect(index.lookupIPv4(row.s - 1), `one before ${formatIPv4(row.s)}`).toBeUndefined();
      }
    }
    // The data has tens of thousands of unrouted gaps; a sample this size must hit some.
    expect(gapsSeen).toBeGreaterThan(50);
    // Before the first range: nothing.
    expect(index.lookupIPv4(rows[0]!.s - 1)).toBeUndefined();
  }, 60_000);

  it('agrees with the IPv6 CSV at range edges', async () => {
    const rows = await readRows(builder.IPV6_CSV, BigInt);
    expect(index.size.ipv6).toBeGreaterThan(50_000);
    let gapsSeen = 0;
    for (const k of sample(disjoint(rows), 3000).filter((k) => builder.isPublicAsn(rows[k]!.asn))) {
      const row = rows[k]!;
      const expected = { number: row.asn, org: row.org };
      expect(index.lookupIPv6(hextets(row.s)), formatIPv6(hextets(row.s))).toEqual(expected);
      expect(index.lookupIPv6(hextets(row.e)), formatIPv6(hextets(row.e))).toEqual(expected);
      const next = rows[k + 1];
      const past = index.lookupIPv6(hextets(row.e + 1n));
      if (next && next.s === row.e + 1n) expect(past?.number).toBe(builder.isPublicAsn(next.asn) ? next.asn : undefined);
      else {
        gapsSeen++;
        expect(past, `one past ${formatIPv6(hextets(row.e))}`).toBeUndefined();
      }
      const prev = rows[k - 1];
      if (!(prev && prev.e === row.s - 1n)) expect(index.lookupIPv6(hextets(row.s - 1n))).toBeUndefined();
    }
    expect(gapsSeen).toBeGreaterThan(50);
    // The text API gives the same answer as the numeric one.
    const first = rows[0]!;
    expect(index.lookup(formatIPv6(hextets(first.s)))).toEqual({ number: first.asn, org: first.org });
  }, 60_000);

  it('resolves overlapping CSV rows in favour of the narrower range', async () => {
    const rows = await readRows(builder.IPV4_CSV, Number);
    let checked = 0;
    for (let k = 1; k < rows.length; k++) {
      const a = rows[k - 1]!;
      const b = rows[k]!;
      if (b.s > a.e) continue;
      const narrow = b.e - b.s <= a.e - a.s ? b : a;
      const wide = narrow === b ? a : b;
      expect(index.lookupIPv4(Math.max(a.s, b.s))?.number).toBe(narrow.asn);
      expect(index.lookupIPv4(Math.min(a.e, b.e))?.number).toBe(narrow.asn);
      if (wide.s < narrow.s) expect(index.lookupIPv4(wide.s)?.number).toBe(wide.asn);
      if (wide.e > narrow.e) expect(index.lookupIPv4(wide.e)?.number).toBe(wide.asn);
      checked++;
    }
    // Known in 2.3.2026061719: one DoD pair (AS749 wide, AS721 narrow). Zero is fine for other data.
    expect(checked).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('keeps org names with commas and quotes intact', async () => {
    const rows = await readRows(builder.IPV4_CSV, Number);
    const quoted = rows.find((r) => r.org.includes('"') && r.org.includes(' '));
    const comma = rows.find((r) => r.org.includes(','));
    for (const row of [quoted, comma]) {
      expect(row).toBeDefined();
      expect(index.lookupIPv4(row!.s)?.org).toBe(row!.org);
    }
  }, 60_000);

  it('names an AS from the table when only the number is known', () => {
    expect(index.orgOf(15169)).toMatch(/google/i);
    expect(index.orgOf(13335)).toMatch(/cloudflare/i);
    expect(index.orgOf(64_500)).toBeUndefined();
  });

  it('gives no AS for rows announced by private or reserved AS numbers', async () => {
    const rows = await readRows(builder.IPV4_CSV, Number);
    const leaked = rows.filter((r) => !builder.isPublicAsn(r.asn));
    for (const row of leaked) expect(index.lookupIPv4(row.s), `AS${row.asn}`).toBeUndefined();
    expect(builder.isPublicAsn(15169)).toBe(true);
    expect(builder.isPublicAsn(399_999)).toBe(true);
    for (const a of [0, 23456, 64496, 64512, 65534, 65535, 65551, 131071, 4_200_000_000, 4_294_967_295]) {
      expect(builder.isPublicAsn(a), `AS${a}`).toBe(false);
    }
  }, 60_000);
});

describe('index file format (script writes, asn.ts reads)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rg-asn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function synthetic(v4: string, v6: string): Promise<Buffer> {
    const csv = await mkdtemp(path.join(dir, 'csv-'));
    await writeFile(path.join(csv, builder.IPV4_CSV), v4);
    await writeFile(path.join(csv, builder.IPV6_CSV), v6);
    return builder.buildAsnIndex({ csvDir: csv, version: 'test' });
  }

  const ip4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

  it('round-trips ranges, gaps, quoted orgs, CRLF, empty orgs and AS0', async () => {
    const v4 = [
      `${ip4(1, 0, 0, 0)},${ip4(1, 0, 0, 255)},13335,"Cloudflare, Inc."`,
      `${ip4(1, 0, 4, 0)},${ip4(1, 0, 7, 255)},201907,"LLC ""SPUTNIK"""`,
      `${ip4(1, 0, 8, 0)},${ip4(1, 0, 8, 255)},396982,`,
      `${ip4(1, 0, 9, 0)},${ip4(1, 0, 9, 255)},0,Unrouted`,
      `${ip4(1, 0, 10, 0)},${ip4(1, 0, 10, 255)},65002,AS65002`,
      `${ip4(255, 255, 255, 0)},${ip4(255, 255, 255, 255)},7018,Top`,
    ].join('\r\n');
    const max = (1n << 128n) - 1n;
    const v6 = [`${0x2001n << 112n},${(0x2001n << 112n) + (1n << 96n) - 1n},6939,Hurricane Electric LLC`, `${max - 255n},${max},3356,"Multi\nline"`].join('\n') + '\n';
    const buf = await synthetic(v4, v6);
    const index = AsnIndex.fromBuffer(buf);
    expect(index.meta).toMatchObject({ version: 'test', ranges: { ipv4: 4, ipv6: 2 } });
    expect(index.lookupIPv4(ip4(1, 0, 0, 0))).toEqual({ number: 13335, org: 'Cloudflare, Inc.' });
    expect(index.lookupIPv4(ip4(1, 0, 0, 255))).toEqual({ number: 13335, org: 'Cloudflare, Inc.' });
    expect(index.lookupIPv4(ip4(1, 0, 1, 0))).toBeUndefined();
    expect(index.lookupIPv4(ip4(1, 0, 3, 255))).toBeUndefined();
    expect(index.lookupIPv4(ip4(1, 0, 4, 0))).toEqual({ number: 201907, org: 'LLC "SPUTNIK"' });
    expect(index.lookupIPv4(ip4(1, 0, 8, 1))).toEqual({ number: 396982 });
    expect(index.lookupIPv4(ip4(1, 0, 9, 1))).toBeUndefined(); // AS0 row dropped
    expect(index.lookupIPv4(ip4(1, 0, 10, 1))).toBeUndefined(); // private ASN dropped
    expect(index.lookupIPv4(ip4(0, 255, 255, 255))).toBeUndefined();
    expect(index.lookupIPv4(0xffffffff)).toEqual({ number: 7018, org: 'Top' });
    expect(index.lookupIPv4(ip4(255, 255, 254, 255))).toBeUndefined();
    expect(index.lookupIPv6([0x2001, 0, 0, 0, 0, 0, 0, 0])?.number).toBe(6939);
    expect(index.lookupIPv6([0x2001, 0, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff])?.number).toBe(6939);
    expect(index.lookupIPv6([0x2001, 1, 0, 0, 0, 0, 0, 0])).toBeUndefined();
    expect(index.lookupIPv6([0x2000, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff])).toBeUndefined();
    expect(index.lookupIPv6([0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff])).toEqual({ number: 3356, org: 'Multi\nline' });
    expect(index.lookupIPv6([0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xfeff])).toBeUndefined();
  });

  it('lets the narrower of overlapping ranges win and the wider keep both sides', async () => {
    const v4 = [
      `${ip4(20, 0, 0, 0)},${ip4(20, 0, 255, 255)},1,Wide`,
      `${ip4(20, 0, 1, 0)},${ip4(20, 0, 1, 255)},2,Narrow`,
      `${ip4(20, 0, 1, 128)},${ip4(20, 0, 1, 191)},3,Narrower`,
      `${ip4(20, 0, 200, 0)},${ip4(20, 1, 0, 255)},4,Straddling`,
      // Unsorted, and an equal start with a wider range listed second.
      `${ip4(9, 0, 0, 0)},${ip4(9, 0, 0, 255)},5,Narrow9`,
      `${ip4(9, 0, 0, 0)},${ip4(9, 0, 255, 255)},6,Wide9`,
    ].join('\n');
    const index = AsnIndex.fromBuffer(await synthetic(v4, ''));
    const at = (a: number, b: number, c: number, d: number): number | undefined => index.lookupIPv4(ip4(a, b, c, d))?.number;
    expect(at(20, 0, 0, 255)).toBe(1);
    expect(at(20, 0, 1, 0)).toBe(2);
    expect(at(20, 0, 1, 127)).toBe(2);
    expect(at(20, 0, 1, 128)).toBe(3);
    expect(at(20, 0, 1, 191)).toBe(3);
    expect(at(20, 0, 1, 192)).toBe(2);
    expect(at(20, 0, 1, 255)).toBe(2);
    expect(at(20, 0, 2, 0)).toBe(1);
    expect(at(20, 0, 199, 255)).toBe(1);
    // Straddling is narrower than Wide (65k vs 66k addresses)... and keeps its part beyond Wide.
    expect(at(20, 0, 200, 0)).toBe(4);
    expect(at(20, 1, 0, 255)).toBe(4);
    expect(at(20, 1, 1, 0)).toBeUndefined();
    expect(at(9, 0, 0, 0)).toBe(5);
    expect(at(9, 0, 0, 255)).toBe(5);
    expect(at(9, 0, 1, 0)).toBe(6);
    expect(at(8, 255, 255, 255)).toBeUndefined();
  });

  it('rejects files that are not a complete index of this format', async () => {
    const buf = await synthetic(`${ip4(1, 0, 0, 0)},${ip4(1, 0, 0, 255)},13335,X`, '');
    expect(() => AsnIndex.fromBuffer(buf.subarray(0, buf.length - 8))).toThrow(AsnIndexFormatError);
    expect(() => AsnIndex.fromBuffer(Buffer.from('not an index at all, not an index at all'))).toThrow(AsnIndexFormatError);
    const otherFormat = Buffer.from(buf);
    otherFormat.writeUInt32LE(99, 8);
    expect(() => AsnIndex.fromBuffer(otherFormat)).toThrow(/format 99/);
    const swapped = Buffer.from(buf);
    swapped.writeUInt32BE(builder.BYTE_ORDER_MARK, 12);
    expect(() => AsnIndex.fromBuffer(swapped)).toThrow(/byte order/);
    // Unaligned views are copied rather than failing.
    const unaligned = Buffer.alloc(buf.length + 1);
    buf.copy(unaligned, 1);
    expect(AsnIndex.fromBuffer(unaligned.subarray(1)).lookupIPv4(ip4(1, 0, 0, 7))?.number).toBe(13335);
  });

  it('writes atomically and removes only older cache files of its own naming', async () => {
    const folder = await mkdtemp(path.join(dir, 'cache-'));
    const keep = ['custom.bin', 'asn-index-prod.bin', 'notes.txt'];
    for (const name of [...keep, 'asn-index-1.0.0-f1.bin']) await writeFile(path.join(folder, name), 'x');
    const buf = await synthetic(`${ip4(1, 0, 0, 0)},${ip4(1, 0, 0, 255)},13335,X`, '');
    await builder.writeIndexAtomic(path.join(folder, 'asn-index-2.0.0-f2.bin'), buf);
    expect((await readdir(folder)).sort()).toEqual([...keep, 'asn-index-2.0.0-f2.bin'].sort());
    await builder.writeIndexAtomic(path.join(folder, 'custom.bin'), buf);
    expect((await readdir(folder)).sort()).toEqual([...keep, 'asn-index-2.0.0-f2.bin'].sort());
    expect(await readFile(path.join(folder, 'custom.bin'))).toEqual(buf);
  });

  it('reports malformed CSV with its line number', () => {
    expect(() => builder.parseNumCsv('1,2,3,ok\n1,2\n', () => {})).toThrow(/line 2/);
    expect(() => builder.parseNumCsv('1,2,3,"unterminated\n', () => {})).toThrow(/unterminated/);
    expect(() => builder.parseNumCsv('1,x,3,org\n', () => {})).toThrow(/non-numeric/);
  });
});

describe('loadAsnIndex cache handling', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rg-asn-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a missing index, saves it, and reads it back next time without building', async () => {
    const file = path.join(dir, 'nested', 'asn-index.bin');
    const events: string[] = [];
    const built = await loadAsnIndex({ path: file, onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['built']);
    expect(built.lookup('8.8.8.8')?.number).toBe(15169);
    const again = await loadAsnIndex({ path: file, onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['built']);
    expect(again.meta.builtAt).toBe(built.meta.builtAt);
    expect(again.lookup('2606:4700:4700::1111')?.number).toBe(13335);
  }, 120_000);

  it('rebuilds an index of another data version or a truncated one', async () => {
    const file = path.join(dir, 'stale.bin');
    const csv = await mkdtemp(path.join(dir, 'csv-'));
    await writeFile(path.join(csv, builder.IPV4_CSV), '16777216,16777471,3356,Old\n');
    await writeFile(path.join(csv, builder.IPV6_CSV), '');
    await writeFile(file, await builder.buildAsnIndex({ csvDir: csv, version: '0.0.1' }));
    const events: string[] = [];
    const index = await loadAsnIndex({ path: file, onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['built']);
    expect(index.lookup('1.0.0.1')?.number).toBe(13335);

    const whole = await readFile(file);
    await writeFile(file, whole.subarray(0, 1000));
    const rebuilt = await loadAsnIndex({ path: file, onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['built', 'built']);
    expect(rebuilt.lookup('8.8.8.8')?.number).toBe(15169);
  }, 120_000);

  it('still returns the index when it cannot be saved, and refuses to build when told not to', async () => {
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'x');
    const events: string[] = [];
    const index = await loadAsnIndex({ path: path.join(blocker, 'asn.bin'), onEvent: (e) => events.push(e.type) });
    expect(events).toEqual(['built', 'save_failed']);
    expect(index.lookup('1.1.1.1')?.number).toBe(13335);
    await expect(loadAsnIndex({ path: path.join(dir, 'missing.bin'), build: false })).rejects.toThrow(/missing or stale/);
  }, 120_000);
});
