// What the observe step records about an enriched event: the values of each window field, with the facts
// worth keeping for evidence stored once, on first sight of the value.
import { createHash } from 'node:crypto';
import type { EnrichedEvent } from '../events/schema.js';
import type { EndingType, Observation, ObservedValue } from '../state/window.js';

/** Facts kept with a network value (short keys: this is stored per value per session). */
export interface NetworkMeta {
  ip: string;
  cc?: string;
  city?: string;
  lat?: number;
  lon?: number;
  acc?: number;
  asn?: number;
  org?: string;
}

export interface UserAgentMeta {
  raw: string;
  b: string;
  os: string;
  d: string;
  s: boolean;
}

const MAX_UA_KEPT = 300;

const uaKeyCache = new Map<string, string>();
function uaKey(ua: string): string {
  let key = uaKeyCache.get(ua);
  if (key === undefined) {
    key = createHash('sha1').update(ua).digest('hex').slice(0, 12);
    if (uaKeyCache.size >= 10_000) uaKeyCache.clear();
    uaKeyCache.set(ua, key);
  }
  return key;
}

export function toObservation(e: EnrichedEvent): Observation {
  const values: ObservedValue[] = [];
  const net: NetworkMeta = { ip: e.ip };
  if (e.geo.country) net.cc = e.geo.country;
  if (e.geo.city) net.city = e.geo.city;
  if (e.geo.lat !== undefined && e.geo.lon !== undefined) {
    net.lat = e.geo.lat;
    net.lon = e.geo.lon;
    if (e.geo.accuracy_km !== undefined) net.acc = e.geo.accuracy_km;
  }
  if (e.as) {
    net.asn = e.as.number;
    if (e.as.org) net.org = e.as.org;
  }
  values.push({ field: 'network', value: e.network, meta: JSON.stringify(net) });
  // Unknown values are not counted: "no ASN" twice is not two networks.
  if (e.as) values.push({ field: 'asn', value: String(e.as.number), meta: e.as.org ?? '' });
  if (e.geo.country) values.push({ field: 'country', value: e.geo.country, meta: '' });
  const client = `${e.ua.browser}/${e.ua.os}/${e.ua.device}`;
  if (e.user_agent !== undefined) {
    values.push({ field: 'browser', value: e.ua.browser, meta: '' });
    values.push({ field: 'os', value: e.ua.os, meta: '' });
    values.push({ field: 'device', value: e.ua.device, meta: '' });
    values.push({ field: 'client', value: client, meta: '' });
    const meta: UserAgentMeta = { raw: e.user_agent.slice(0, MAX_UA_KEPT), b: e.ua.browser, os: e.ua.os, d: e.ua.device, s: e.ua.is_script };
    values.push({ field: 'ua', value: uaKey(e.user_agent), meta: JSON.stringify(meta) });
  }
  if (e.device_id !== undefined) values.push({ field: 'device_id', value: e.device_id, meta: '' });

  const obs: Observation = { session: e.session, event_id: e.id, time: e.time, values, transition: `${e.network}|${client}` };
  if (e.type === 'logout' || e.type === 'revoke' || e.type === 'rotate') {
    obs.end = { type: e.type as EndingType };
    if (e.new_session !== undefined) obs.end.new_session = e.new_session;
  }
  return obs;
}
