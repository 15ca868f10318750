// IP address parsing, canonical spelling, network identity and the "is this a public address" test.
// Hand-written rather than built on node:net because the ASN and geo lookups need the numeric form
// anyway, and one parser keeps the accepted syntax identical across every enrich step.

/** A parsed IPv6 address: eight 16-bit groups, most significant first. */
export type Hextets = [number, number, number, number, number, number, number, number];

const DOT = 46; // '.'
// The zone-id characters node:net accepts, so both agree on what an address is.
const ZONE = /^[0-9A-Za-z.:-]+$/;
const COLON = 58; // ':'

/**
 * Dotted-quad IPv4 to an unsigned 32-bit number. Strict like node:net: exactly four decimal parts,
 * 0..255, no leading zeros (so "010.0.0.1" cannot be read as octal by one tool and decimal by another).
 */
export function parseIPv4(text: string): number | undefined {
  return parseIPv4At(text, 0, text.length);
}

function parseIPv4At(s: string, from: number, to: number): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? s.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || parts === 4) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value : undefined;
}

/**
 * IPv6 text (RFC 4291 §2.2: "::" compression, embedded dotted IPv4 tail, any case, optional "%zone")
 * to eight groups. Returns undefined for anything node:net would reject.
 */
export function parseIPv6(text: string): Hextets | undefined {
  let end = text.indexOf('%');
  if (end === -1) end = text.length;
  else if (!ZONE.test(text.slice(end + 1))) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === COLON && text.charCodeAt(1) === COLON) {
    compressed = true;
    groups = tail;
    i = 2;
    if (end === 2) return [0, 0, 0, 0, 0, 0, 0, 0];
  } else if (text.charCodeAt(0) === COLON) {
    return undefined;
  }
  while (i < end) {
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const c = text.charCodeAt(j);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      if (++digits > 4) return undefined;
      value = value * 16 + d;
    }
    if (j < end && text.charCodeAt(j) === DOT) {
      // Embedded IPv4 must be the last 32 bits.
      const v4 = parseIPv4At(text, i, end);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = end;
      break;
    }
    if (digits === 0) return undefined;
    groups.push(value);
    if (j === end) {
      i = end;
      break;
    }
    if (text.charCodeAt(j) !== COLON) return undefined;
    if (j + 1 < end && text.charCodeAt(j + 1) === COLON) {
      if (compressed) return undefined; // a second "::"
      compressed = true;
      groups = tail;
      i = j + 2;
      if (i === end) break;
    } else {
      i = j + 1;
      if (i === end) return undefined; // trailing single ":"
    }
  }
  const count = head.length + tail.length;
  if (compressed ? count > 7 : count !== 8) return undefined;
  const out: number[] = head;
  for (let k = count; k < 8; k++) out.push(0);
  for (const g of tail) out.push(g);
  return out as Hextets;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2). */
export function mappedIPv4(h: Hextets): number | undefined {
  if (h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff) {
    return ((h[6] << 16) | h[7]) >>> 0;
  }
  return undefined;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (first on a tie) of 2+ zero groups as "::". */
export function formatIPv6(h: Hextets): string {
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (h[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return h.map((g) => g.toString(16)).join(':');
  const left = h.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const right = h.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${left}::${right}`;
}

/**
 * Canonical IPv6 text (RFC 5952) for any accepted IPv6 spelling; IPv4-mapped addresses keep the
 * mixed notation RFC 5952 §5 recommends. Zone ids are dropped: they name a local interface, not a host.
 */
export function canonicalizeIPv6(text: string): string | undefined {
  const h = parseIPv6(text);
  if (!h) return undefined;
  const v4 = mappedIPv4(h);
  return v4 === undefined ? formatIPv6(h) : `::ffff:${formatIPv4(v4)}`;
}

/** One spelling per address: IPv4 as is, IPv4-mapped IPv6 as its IPv4, other IPv6 per RFC 5952. */
export function canonicalIp(text: string): string | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return text;
  const h = parseIPv6(text);
  if (!h) return undefined;
  const mapped = mappedIPv4(h);
  return mapped === undefined ? formatIPv6(h) : formatIPv4(mapped);
}

/**
 * Network identity of a client address: an IPv4 address stands for itself, an IPv6 address for its
 * /64. Privacy (RFC 8981) addresses rotate the low 64 bits every few hours on one device and SLAAC
 * hands a whole /64 to one link, so counting full IPv6 addresses would call one laptop many networks.
 * Unparseable input is returned unchanged so that a bad address still groups with itself.
 */
export function networkOf(ip: string): string {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return ip;
  const h = parseIPv6(ip);
  if (!h) return ip;
  const mapped = mappedIPv4(h);
  if (mapped !== undefined) return formatIPv4(mapped);
  h[4] = 0;
  h[5] = 0;
  h[6] = 0;
  h[7] = 0;
  return `${formatIPv6(h)}/64`;
}

// IANA special-purpose registries: ranges whose geo/ASN answer would be noise or a lie (a private
// address "located" wherever the database's default row points). [first, last] inclusive.
const NON_PUBLIC_V4: ReadonlyArray<readonly [number, number]> = [
  cidr4(0x00000000, 8), // "this network"
  cidr4(0x0a000000, 8), // RFC 1918
  cidr4(0x64400000, 10), // 100.64/10 carrier-grade NAT
  cidr4(0x7f000000, 8), // loopback
  cidr4(0xa9fe0000, 16), // link local
  cidr4(0xac100000, 12), // RFC 1918
  cidr4(0xc0000000, 24), // IETF protocol assignments
  cidr4(0xc0000200, 24), // TEST-NET-1 (documentation)
  cidr4(0xc0a80000, 16), // RFC 1918
  cidr4(0xc6120000, 15), // benchmarking
  cidr4(0xc6336400, 24), // TEST-NET-2 (documentation)
  cidr4(0xcb007100, 24), // TEST-NET-3 (documentation)
  cidr4(0xe0000000, 4), // multicast
  cidr4(0xf0000000, 4), // reserved, and 255.255.255.255
];

function cidr4(base: number, bits: number): readonly [number, number] {
  const size = 2 ** (32 - bits);
  return [base >>> 0, (base >>> 0) + size - 1];
}

export function isPublicIPv4(n: number): boolean {
  for (const [first, last] of NON_PUBLIC_V4) if (n >= first && n <= last) return false;
  return true;
}

/**
 * Only 2000::/3 is allocated global unicast; inside it, documentation (2001:db8::/32, 3fff::/20),
 * benchmarking (2001:2::/48) and ORCHID (2001:10::/28, 2001:20::/28) never appear on the Internet.
 * IPv4-mapped addresses must be unwrapped by the caller first.
 */
export function isPublicIPv6(h: Hextets): boolean {
  if ((h[0] & 0xe000) !== 0x2000) return false;
  if (h[0] === 0x2001) {
    if (h[1] === 0x0db8) return false;
    if (h[1] === 0x0002 && h[2] === 0) return false;
    if ((h[1] & 0xfff0) === 0x0010 || (h[1] & 0xfff0) === 0x0020) return false;
  }
  if (h[0] === 0x3fff && (h[1] & 0xf000) === 0) return false;
  return true;
}

/** A parsed client address, as the lookups want it. */
export type ParsedIp = { v: 4; n: number } | { v: 6; h: Hextets };

/** Parse, unwrapping IPv4-mapped IPv6 so both spellings of one IPv4 host give the same answers. */
export function parseIp(text: string): ParsedIp | undefined {
  const n = parseIPv4(text);
  if (n !== undefined) return { v: 4, n };
  const h = parseIPv6(text);
  if (!h) return undefined;
  const mapped = mappedIPv4(h);
  return mapped === undefined ? { v: 6, h } : { v: 4, n: mapped };
}

/** True when geo/ASN lookups are meaningful for the address (not private, loopback, documentation, ...). */
export function isPublicIp(text: string): boolean {
  const p = parseIp(text);
  if (!p) return false;
  return p.v === 4 ? isPublicIPv4(p.n) : isPublicIPv6(p.h);
}
