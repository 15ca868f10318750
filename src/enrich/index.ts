// The enrich stage: AuthEvent → EnrichedEvent (geo, AS, network identity, user agent).
// Loading is async (geo data and the ASN index are read from disk, the index maybe built first);
// enrich() itself is synchronous and allocation-light so it can sit on the per-event hot path.
import type { AuthEvent, EnrichedEvent, GeoInfo, UserAgentInfo } from '../events/schema.js';
import { type AsInfo, type AsnIndex, type LoadAsnIndexOptions, sharedAsnIndex } from './asn.js';
import { type GeoLookup, loadGeo } from './geo.js';
import { networkOf } from './network.js';
import { UserAgentParser } from './user-agent.js';

export { AsnIndex, loadAsnIndex, sharedAsnIndex, defaultAsnIndexPath, type AsInfo, type LoadAsnIndexOptions } from './asn.js';
export { loadGeo, createGeoLookup, toGeoInfo, type GeoLookup } from './geo.js';
export { canonicalIp, canonicalizeIPv6, isPublicIp, networkOf } from './network.js';
export { UserAgentParser, parseUserAgent, UNKNOWN_UA } from './user-agent.js';

/** Names the network class of an address (from the rule pack's lists), folded into the enriched event. */
export type Classifier = (e: Pick<EnrichedEvent, 'ip' | 'as' | 'is_proxy'>) => string | undefined;

export interface Enricher {
  /** With `classify`, the event's `net_class` is set too (one object built per event, not two). */
  enrich(event: AuthEvent, classify?: Classifier): EnrichedEvent;
}

export interface EnricherOptions {
  /** Distinct user agents whose parse is kept (default 10 000; 0 disables the cache). */
  uaCacheSize?: number;
  /** ASN index file; default node_modules/.cache/replayguard/… or $REPLAYGUARD_ASN_INDEX. */
  asnIndexPath?: string;
  /** Hears when the ASN index had to be built, or could not be saved (worth a log line). */
  onAsnIndexEvent?: LoadAsnIndexOptions['onEvent'];
}

/** The lookups an enricher combines; tests and benchmarks can pass their own. */
export interface EnricherParts {
  geo: GeoLookup;
  asn: Pick<AsnIndex, 'lookup' | 'orgOf'>;
  ua: { parse(userAgent: string | undefined): UserAgentInfo };
}

export async function createEnricher(opts: EnricherOptions = {}): Promise<Enricher> {
  const [geo, asn] = await Promise.all([
    loadGeo(),
    sharedAsnIndex({
      ...(opts.asnIndexPath === undefined ? {} : { path: opts.asnIndexPath }),
      ...(opts.onAsnIndexEvent === undefined ? {} : { onEvent: opts.onAsnIndexEvent }),
    }),
  ]);
  return enricherFrom({ geo, asn, ua: new UserAgentParser(opts.uaCacheSize) });
}

// Placeholder codes some sources use for "don't know" (Cloudflare: XX; ISO user-assigned ZZ).
const UNKNOWN_COUNTRIES = new Set(['XX', 'ZZ']);

/**
 * Source-given enrichment wins (the IdP saw the connection; our databases are a guess), field by
 * field:
 * - `event.country`: when it differs from the geo database's country, the geo answer becomes just
 *   `{country}`. The database's region/city/coordinates belong to the country it believed in;
 *   keeping them would produce a record that says "FR" with a point in Texas, and distance-based
 *   rules would measure from a place the source itself contradicts. When they agree, the full geo
 *   answer is kept.
 * - `event.asn`: becomes `as.number`; the org name is taken from our lookup when it found the same
 *   AS, else from any range of that AS in the table.
 * AS0 (RFC 7607: "no AS") and the XX/ZZ country placeholders count as "not given".
 */
export function enricherFrom(parts: EnricherParts): Enricher {
  const { geo, asn, ua } = parts;
  // Addresses repeat (a session keeps its address for many events): the three lookups are kept per address,
  // in two generations so the cache stays bounded. The answers are shared between events: never mutate them.
  let current = new Map<string, AddressFacts>();
  let older = new Map<string, AddressFacts>();
  const facts = (ip: string): AddressFacts => {
    let f = current.get(ip);
    if (f !== undefined) return f;
    f = older.get(ip) ?? { geo: geo(ip), as: asn.lookup(ip), network: networkOf(ip) };
    if (current.size >= ADDRESS_CACHE / 2) {
      older = current;
      current = new Map();
    }
    current.set(ip, f);
    return f;
  };
  return {
    enrich(event: AuthEvent, classify?: Classifier): EnrichedEvent {
      const f = facts(event.ip);
      let g: GeoInfo = f.geo;
      const given = event.country?.toUpperCase();
      if (given && !UNKNOWN_COUNTRIES.has(given) && g.country !== given) g = { country: given };

      let as: AsInfo | undefined = f.as;
      if (event.asn !== undefined && event.asn > 0 && as?.number !== event.asn) {
        const org = asn.orgOf(event.asn);
        as = org === undefined ? { number: event.asn } : { number: event.asn, org };
      }

      const info = ua.parse(event.user_agent);
      const out = copyOf(event) as EnrichedEvent;
      out.geo = g;
      // `as` is absent (not undefined) when unknown, and sits next to geo in serialized output.
      if (as) out.as = as;
      out.network = f.network;
      out.ua = info;
      if (classify) {
        const cls = classify(out);
        if (cls !== undefined) out.net_class = cls;
      }
      return out;
    },
  };
}

/**
 * What `{...event}` gives (own enumerable keys, in order), by a loop: events come with many sets of optional keys, and
 * the spread over that many shapes took V8's slow path, most of enrich's time.
 */
function copyOf(event: AuthEvent): Partial<EnrichedEvent> {
  const out: Record<string, unknown> = {};
  const src = event as unknown as Record<string, unknown>;
  for (const k in src) if (hasOwn.call(src, k)) out[k] = src[k];
  return out as Partial<EnrichedEvent>;
}
const hasOwn = Object.prototype.hasOwnProperty;

interface AddressFacts {
  geo: GeoInfo;
  as: AsInfo | undefined;
  network: string;
}

/** Distinct addresses whose lookups are kept. */
const ADDRESS_CACHE = 50_000;
