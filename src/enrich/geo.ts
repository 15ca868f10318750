// IP → location with geoip-lite 1.4 (MaxMind GeoLite2 data shipped in the package, held in memory).
// geoip-lite reads ~140 MB of data files synchronously when first imported, so it is imported lazily
// by loadGeo() rather than at module load: commands that never enrich (rules lint, ...) don't pay.
import type { Lookup } from 'geoip-lite';
import type { GeoInfo } from '../events/schema.js';
import { type Hextets, isPublicIPv4, isPublicIPv6, parseIp } from './network.js';

export type GeoLookup = (ip: string) => GeoInfo;

type RawLookup = (ip: string | number) => Lookup | null;

/**
 * geoip-lite's answer as GeoInfo. Empty strings become absent fields, and coordinates are dropped
 * unless the row really has a location: rows with no location carry ll [null, null] (IPv4) or the
 * [0, 0] default (IPv6), and a point in the Gulf of Guinea would turn every unlocated address into
 * "impossible travel" from everywhere.
 */
export function toGeoInfo(r: Lookup | null | undefined): GeoInfo {
  if (!r || !r.country) return {};
  const geo: GeoInfo = { country: r.country };
  if (r.region) geo.region = r.region;
  if (r.city) geo.city = r.city;
  const lat = r.ll?.[0];
  const lon = r.ll?.[1];
  if (typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon) && !(lat === 0 && lon === 0)) {
    geo.lat = lat;
    geo.lon = lon;
    // `area` is MaxMind's accuracy radius in km; it only means something next to coordinates.
    if (typeof r.area === 'number' && r.area > 0) geo.accuracy_km = r.area;
  }
  return geo;
}

/** Wraps a raw geoip-lite style lookup with our address parsing and special-address filter. */
export function createGeoLookup(raw: RawLookup): GeoLookup {
  return (ip: string): GeoInfo => {
    const p = parseIp(ip);
    if (!p) return {};
    if (p.v === 4) return isPublicIPv4(p.n) ? toGeoInfo(raw(p.n)) : {};
    if (!isPublicIPv6(p.h)) return {};
    // geoip-lite's own IPv6 parser understands neither "::" next to an embedded IPv4 tail nor
    // the hex form of IPv4-mapped addresses (it reads ::ffff:808:808 as some other IPv4), so it
    // gets the eight groups spelled out.
    return toGeoInfo(raw(expanded(p.h)));
  };
}

function expanded(h: Hextets): string {
  return h.map((g) => g.toString(16)).join(':');
}

let loaded: Promise<GeoLookup> | undefined;

/** The process-wide geo lookup; the first call loads geoip-lite's data (~0.1–0.2 s, ~140 MB of Buffers). */
export function loadGeo(): Promise<GeoLookup> {
  loaded ??= import('geoip-lite').then(
    (mod) => {
      const geoip = mod.default;
      return createGeoLookup((ip) => geoip.lookup(ip));
    },
    (err: unknown) => {
      loaded = undefined; // let a later call retry instead of caching the failure
      throw err;
    },
  );
  return loaded;
}
