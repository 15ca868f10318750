// Network lists (rules/lists/*.yaml): named sets of ASNs and CIDRs, optionally giving their members a
// network class (hosting, anonymizer, tor, relay, satellite, mobile, corporate). Rules use the class
// (`net_class`) and exceptions name lists. Users extend them by adding files; they reload with the rules.
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { parseIp, type Hextets } from '../enrich/network.js';
import type { EnrichedEvent } from '../events/schema.js';
import type { RuleLoadError } from './loader.js';
import { parseYamlWithPositions } from './yaml.js';

/** Most specific first: an address on several lists takes the first class here. */
export const NETWORK_CLASSES = ['tor', 'anonymizer', 'relay', 'vpn', 'hosting', 'satellite', 'mobile', 'corporate'] as const;
export type NetworkClass = (typeof NETWORK_CLASSES)[number];

const listSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/),
  class: z.enum(NETWORK_CLASSES).optional(),
  description: z.string().max(4000).optional(),
  source: z.string().max(1000).optional(),
  asns: z.array(z.number().int().min(1).max(4_294_967_295)).default([]),
  cidrs: z.array(z.string().max(64)).default([]),
});

interface Range4 {
  start: number;
  end: number;
}

function v6ToBig(h: Hextets): bigint {
  let n = 0n;
  for (const x of h) n = (n << 16n) | BigInt(x);
  return n;
}

export function parseCidr(text: string): { v: 4; start: number; end: number } | { v: 6; start: bigint; end: bigint } | undefined {
  const [addr, bitsText] = text.trim().split('/');
  if (addr === undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.v === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (bitsText !== undefined && !/^\d+$/.test(bitsText))) return undefined;
  if (ip.v === 4) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const start = (ip.n & mask) >>> 0;
    return { v: 4, start, end: (start | (~mask >>> 0)) >>> 0 };
  }
  const n = v6ToBig(ip.h);
  const hostBits = 128n - BigInt(bits);
  const start = (n >> hostBits) << hostBits;
  return { v: 6, start, end: start + (1n << hostBits) - 1n };
}

/** A set of CIDRs answering membership by binary search over merged, sorted ranges. */
export class CidrSet {
  readonly #v4: Range4[];
  readonly #v6: { start: bigint; end: bigint }[];

  constructor(cidrs: readonly string[]) {
    const v4: Range4[] = [];
    const v6: { start: bigint; end: bigint }[] = [];
    for (const c of cidrs) {
      const r = parseCidr(c);
      if (!r) throw new Error(`not a CIDR: ${c}`);
      if (r.v === 4) v4.push({ start: r.start, end: r.end });
      else v6.push({ start: r.start, end: r.end });
    }
    this.#v4 = merge(v4.sort((a, b) => a.start - b.start), (a, b) => b.start <= a.end + 1, (a, b) => (b.end > a.end ? b.end : a.end));
    this.#v6 = merge(v6.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)), (a, b) => b.start <= a.end + 1n, (a, b) => (b.end > a.end ? b.end : a.end));
  }

  get size(): number {
    return this.#v4.length + this.#v6.length;
  }

  has(ip: string): boolean {
    const p = parseIp(ip);
    if (!p) return false;
    if (p.v === 4) return search(this.#v4, p.n, (a, b) => a - b);
    return search(this.#v6, v6ToBig(p.h), (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function merge<T extends { end: unknown }>(sorted: T[], overlaps: (a: T, b: T) => boolean, maxEnd: (a: T, b: T) => T['end']): T[] {
  const out: T[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && overlaps(last, r)) last.end = maxEnd(last, r);
    else out.push({ ...r });
  }
  return out;
}

function search<N>(ranges: { start: N; end: N }[], x: N, cmp: (a: N, b: N) => number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (cmp(x, r.start) < 0) hi = mid - 1;
    else if (cmp(x, r.end) > 0) lo = mid + 1;
    else return true;
  }
  return false;
}

export interface NetworkList {
  name: string;
  class?: NetworkClass;
  file: string;
  asns: Set<number>;
  cidrs: CidrSet;
}

export class NetworkLists {
  readonly #lists = new Map<string, NetworkList>();
  readonly #classed: NetworkList[];

  constructor(lists: readonly NetworkList[] = []) {
    for (const l of lists) this.#lists.set(l.name, l);
    this.#classed = lists.filter((l) => l.class !== undefined).sort((a, b) => NETWORK_CLASSES.indexOf(a.class!) - NETWORK_CLASSES.indexOf(b.class!));
  }

  get names(): string[] {
    return [...this.#lists.keys()];
  }

  get(name: string): NetworkList | undefined {
    return this.#lists.get(name);
  }

  contains(name: string, ip: string, asn: number | undefined): boolean {
    const l = this.#lists.get(name);
    if (!l) return false;
    return (asn !== undefined && l.asns.has(asn)) || l.cidrs.has(ip);
  }

  /** The network class of an address: the most specific list it is on, else the source's proxy flag. */
  classify(event: Pick<EnrichedEvent, 'ip' | 'as' | 'is_proxy'>): NetworkClass | undefined {
    const asn = event.as?.number;
    for (const l of this.#classed) if ((asn !== undefined && l.asns.has(asn)) || l.cidrs.has(event.ip)) return l.class;
    if (event.is_proxy) return 'anonymizer';
    return undefined;
  }
}

export async function loadListDir(dir: string): Promise<{ lists: NetworkList[]; errors: RuleLoadError[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lists: [], errors: [] };
    throw err;
  }
  const lists: NetworkList[] = [];
  const errors: RuleLoadError[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const file = relative(process.cwd(), path) || path;
    const parsed = parseYamlWithPositions(await readFile(path, 'utf8'), file, listSchema);
    errors.push(...parsed.errors);
    if (!parsed.value) continue;
    const v = parsed.value;
    const bad = v.cidrs.findIndex((c) => parseCidr(c) === undefined);
    if (bad !== -1) {
      errors.push({ file, ...parsed.position(['cidrs', bad]), field: `cidrs.${bad}`, message: `not a CIDR: ${v.cidrs[bad]}` });
      continue;
    }
    if (lists.some((l) => l.name === v.name)) {
      errors.push({ file, line: 1, column: 1, field: 'name', message: `duplicate list name "${v.name}"` });
      continue;
    }
    const list: NetworkList = { name: v.name, file, asns: new Set(v.asns), cidrs: new CidrSet(v.cidrs) };
    if (v.class) list.class = v.class;
    lists.push(list);
  }
  return { lists, errors };
}
