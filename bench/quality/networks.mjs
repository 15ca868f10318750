// Real address pools for the simulation. Every address the simulator uses is drawn from the announced
// ranges of a real AS in the @ip-location-db/asn table (the same data the enricher uses) and checked with
// the real enricher: the AS must come back as the one intended, the country as the one intended. What the
// rules then see (city, coordinates, accuracy radius, AS, network class) is whatever the real databases say
// about that real address, mistakes included: that is the point of measuring on them.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { distanceKm } from './places.mjs';

const require = createRequire(import.meta.url);
const ASN_DIR = dirname(require.resolve('@ip-location-db/asn/package.json'));

/**
 * The networks of the simulated world: [key, ASN, country or null (any), options].
 * `role` is what the simulator uses them for; `v6` lists the IPv6 prefixes its customers' /64s come from
 * (residential blocks rather than the AS's infrastructure ranges).
 */
export const CATALOGUE = [
  // home broadband
  { key: 'comcast', asn: 7922, country: 'US', role: 'home', v6: ['2601:', '2603:'] },
  { key: 'charter', asn: 20115, country: 'US', role: 'home' },
  { key: 'att', asn: 7018, country: 'US', role: 'home' },
  { key: 'verizon-fios', asn: 701, country: 'US', role: 'home' },
  { key: 'bell', asn: 577, country: 'CA', role: 'home' },
  { key: 'rogers', asn: 812, country: 'CA', role: 'home' },
  { key: 'videotron', asn: 5769, country: 'CA', role: 'home' },
  { key: 'bt', asn: 2856, country: 'GB', role: 'home' },
  { key: 'virgin', asn: 5089, country: 'GB', role: 'home' },
  { key: 'dtag', asn: 3320, country: 'DE', role: 'home', v6: ['2003:'] },
  { key: 'vodafone-de', asn: 3209, country: 'DE', role: 'home' },
  { key: 'orange', asn: 3215, country: 'FR', role: 'home' },
  { key: 'free', asn: 12322, country: 'FR', role: 'home' },
  { key: 'sfr', asn: 15557, country: 'FR', role: 'home' },
  { key: 'telstra', asn: 1221, country: 'AU', role: 'home' },
  { key: 'optus', asn: 4804, country: 'AU', role: 'home' },
  { key: 'ntt-ocn', asn: 4713, country: 'JP', role: 'home' },
  { key: 'kddi', asn: 2516, country: 'JP', role: 'home' },
  // mobile carriers (CGNAT, address churn)
  { key: 'tmobile-us', asn: 21928, country: 'US', role: 'mobile', v6: ['2607:fb90:'] },
  { key: 'verizon-wireless', asn: 22394, country: 'US', role: 'mobile' },
  { key: 'rogers-wireless', asn: 812, country: 'CA', role: 'mobile' },
  { key: 'vodafone-uk', asn: 25135, country: 'GB', role: 'mobile' },
  { key: 'telefonica-de', asn: 6805, country: 'DE', role: 'mobile' },
  { key: 'orange-mobile', asn: 3215, country: 'FR', role: 'mobile' },
  { key: 'telstra-mobile', asn: 1221, country: 'AU', role: 'mobile' },
  { key: 'docomo', asn: 9605, country: 'JP', role: 'mobile' },
  { key: 'softbank', asn: 17676, country: 'JP', role: 'mobile' },
  // business lines: office NAT and corporate VPN concentrators
  { key: 'cogent', asn: 174, country: null, role: 'business' },
  { key: 'zayo', asn: 6461, country: null, role: 'business' },
  // special egress
  { key: 'icloud-relay', asn: 36183, country: null, role: 'relay' },
  { key: 'starlink', asn: 14593, country: null, role: 'satellite' },
  { key: 'viasat', asn: 7155, country: null, role: 'inflight' },
  { key: 'intelsat', asn: 22351, country: null, role: 'inflight' },
  { key: 'panasonic-avionics', asn: 64294, country: null, role: 'inflight' },
  // attacker infrastructure
  { key: 'aws', asn: 16509, country: null, role: 'hosting' },
  { key: 'digitalocean', asn: 14061, country: null, role: 'hosting' },
  { key: 'hetzner', asn: 24940, country: null, role: 'hosting' },
  { key: 'ovh', asn: 16276, country: null, role: 'hosting' },
  { key: 'vultr', asn: 20473, country: null, role: 'hosting' },
  { key: 'linode', asn: 63949, country: null, role: 'hosting' },
];

/** Tor exits (the Tor Project's large exit families live in this /22). */
export const TOR_CIDR = { base: '185.220.100.0', size: 1024 };

function ipv4ToNum(ip) {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function numToIpv4(n) {
  return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

function v6ToBig(text) {
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function bigToV6Prefix64(n) {
  const groups = [];
  for (let i = 7; i >= 4; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** Reads the AS ranges of the catalogue's ASNs (one pass over each CSV). */
async function readRanges(asns) {
  const v4 = new Map();
  const v6 = new Map();
  for (const a of asns) {
    v4.set(a, []);
    v6.set(a, []);
  }
  const rl = createInterface({ input: createReadStream(join(ASN_DIR, 'asn-ipv4-num.csv')), crlfDelay: Infinity });
  for await (const line of rl) {
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const c3 = line.indexOf(',', c2 + 1);
    const asn = Number(line.slice(c2 + 1, c3));
    const list = v4.get(asn);
    if (list) list.push([Number(line.slice(0, c1)), Number(line.slice(c1 + 1, c2))]);
  }
  const text6 = readFileSync(join(ASN_DIR, 'asn-ipv6.csv'), 'utf8');
  for (const line of text6.split('\n')) {
    const parts = line.split(',');
    const asn = Number(parts[2]);
    const list = v6.get(asn);
    if (list) list.push([v6ToBig(parts[0]), v6ToBig(parts[1])]);
  }
  return { v4, v6 };
}

function describe(enriched) {
  const g = enriched.geo;
  return {
    ip: enriched.ip,
    asn: enriched.as?.number,
    org: enriched.as?.org,
    country: g.country,
    city: g.city,
    lat: g.lat,
    lon: g.lon,
    acc: g.accuracy_km,
  };
}

/** A pool of verified addresses of one network. */
export class Pool {
  constructor(spec, addrs, prefixes6 = []) {
    this.key = spec.key;
    this.asn = spec.asn;
    this.role = spec.role;
    this.country = spec.country;
    this.addrs = addrs;
    this.prefixes6 = prefixes6;
    this.cache = new Map();
  }

  /** addresses in `country` (default: the pool's), optionally within `km` of a point (after accuracy) */
  select({ country, near, km = 150, located = false } = {}) {
    const cc = country ?? this.country;
    const key = `${cc}|${near ? `${near.lat},${near.lon},${km}` : ''}|${located}`;
    let out = this.cache.get(key);
    if (!out) {
      out = this.addrs.filter((a) => {
        if (cc && a.country !== cc) return false;
        if ((located || near) && a.lat === undefined) return false;
        if (near && distanceKm(a.lat, a.lon, near.lat, near.lon) - (a.acc ?? 0) > km) return false;
        return true;
      });
      this.cache.set(key, out);
    }
    return out;
  }

  /**
   * An address of the pool near a point when the data has one: first within `km` of it, else any located
   * in the country whose accuracy radius covers the point (country-level answers), else any in the country.
   */
  pickNear(rng, point, km = 150, country) {
    let c = this.select({ country, near: point, km });
    if (c.length === 0) c = this.select({ country, near: point, km: 400 });
    if (c.length === 0) c = this.select({ country });
    if (c.length === 0) throw new Error(`pool ${this.key} has no address in ${country ?? this.country}`);
    return rng.pick(c);
  }

  pickIn(rng, country) {
    const c = this.select({ country });
    if (c.length === 0) throw new Error(`pool ${this.key} has no address in ${country ?? this.country}`);
    return rng.pick(c);
  }

  /** countries this pool has addresses in */
  countries() {
    return [...new Set(this.addrs.map((a) => a.country).filter(Boolean))];
  }
}

const CANDIDATES = { home: 700, mobile: 500, business: 1500, relay: 900, satellite: 500, inflight: 120, hosting: 400 };

/**
 * Builds every pool: samples candidate addresses across each AS's ranges (weighted by the square root of
 * range size, so small and large blocks both appear), enriches each with the real enricher and keeps those
 * whose AS and country are as intended.
 */
export async function buildNetworks(enricher, rng) {
  const asns = [...new Set(CATALOGUE.map((s) => s.asn))];
  const { v4, v6 } = await readRanges(asns);
  const enrich = (ip) => describe(enricher.enrich({ id: 'probe', time: 0, type: 'request', session: 'probe', tenant: 'probe', ip }));
  const pools = {};
  const rejected = {};
  for (const spec of CATALOGUE) {
    const r = rng.fork(`pool:${spec.key}`);
    const ranges = v4.get(spec.asn) ?? [];
    if (ranges.length === 0) throw new Error(`AS${spec.asn} (${spec.key}) has no IPv4 ranges in the ASN table`);
    const weights = ranges.map(([a, b]) => Math.sqrt(b - a + 1));
    const total = weights.reduce((x, y) => x + y, 0);
    const seen = new Set();
    const addrs = [];
    let bad = 0;
    for (let i = 0; i < CANDIDATES[spec.role]; i++) {
      let x = r.next() * total;
      let k = 0;
      while (x > weights[k] && k < ranges.length - 1) x -= weights[k++];
      const [a, b] = ranges[k];
      const n = a + Math.floor(r.next() * (b - a + 1));
      if (n % 256 === 0 || n % 256 === 255) continue;
      const ip = numToIpv4(n);
      if (seen.has(ip)) continue;
      seen.add(ip);
      const d = enrich(ip);
      if (d.asn !== spec.asn || !d.country || (spec.country && d.country !== spec.country)) {
        bad++;
        continue;
      }
      addrs.push(d);
    }
    const prefixes6 = [];
    if (spec.v6) {
      const r6 = v6.get(spec.asn) ?? [];
      // Weighted towards large blocks (residential /20s and /32s rather than the many small business /48s).
      const w6 = r6.map(([a, b]) => 2 ** ((b - a + 1n).toString(2).length / 4));
      const total6 = w6.reduce((x, y) => x + y, 0);
      for (let i = 0; i < 1500 && r6.length > 0 && prefixes6.length < 300; i++) {
        let x = r.next() * total6;
        let k = 0;
        while (x > w6[k] && k < r6.length - 1) x -= w6[k++];
        const [a, b] = r6[k];
        const span = b - a + 1n;
        const off = (BigInt(Math.floor(r.next() * 2 ** 52)) * (span >> 52n > 0n ? span >> 52n : 1n)) % span;
        const p = bigToV6Prefix64(((a + off) >> 64n) << 64n);
        const d = enrich(`${p}:1a2b:3c4d:5e6f:7a8b`);
        if (d.asn !== spec.asn || !d.country || (spec.country && d.country !== spec.country)) continue;
        if (!spec.v6.some((start) => `${p}:`.startsWith(start))) continue;
        prefixes6.push({ ...d, prefix: p });
      }
    }
    pools[spec.key] = new Pool(spec, addrs, prefixes6);
    rejected[spec.key] = bad;
  }
  // Tor: the exit /22; classified by the shipped tor list's CIDR, whatever its AS.
  const tor = [];
  const base = ipv4ToNum(TOR_CIDR.base);
  for (let i = 1; i < TOR_CIDR.size - 1; i += 7) {
    const d = enrich(numToIpv4(base + i));
    if (d.country) tor.push(d);
  }
  pools.tor = new Pool({ key: 'tor', asn: undefined, role: 'tor', country: null }, tor);
  return { pools, rejected };
}

/** One line per pool for the report: how many verified addresses, in how many countries. */
export function poolSummary(pools) {
  return Object.values(pools).map((p) => ({ key: p.key, asn: p.asn, role: p.role, addresses: p.addrs.length, v6_prefixes: p.prefixes6.length, countries: p.countries().length }));
}
