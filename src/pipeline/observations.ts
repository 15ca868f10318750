// What the observe step records about an enriched event: the values of each window field, with the facts
// worth keeping for evidence stored once, on first sight of the value.
import { createHash } from 'node:crypto';
import type { EnrichedEvent } from '../events/schema.js';
import type { UserObservation } from '../state/baseline.js';
import type { EndingType, Observation, ObservedValue } from '../state/window.js';
import { TwoGenerationCache } from './two-generation-cache.js';

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
  /** network class at first sight */
  nc?: string;
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

/** The client an event names: browser/OS/device, as windows, baselines and rules key it. */
export function clientOf(ua: Pick<EnrichedEvent['ua'], 'browser' | 'os' | 'device'>): string {
  return `${ua.browser}/${ua.os}/${ua.device}`;
}

/** "where the session is": network, AS and client, so alternation can be judged on any of them */
export function transitionKey(network: string, asn: number | undefined, client: string): string {
  return `${network}|${asn ?? ''}|${client}`;
}

export function splitTransitionKey(key: string): { network: string; asn: string; client: string } {
  const a = key.indexOf('|');
  const b = key.indexOf('|', a + 1);
  return { network: key.slice(0, a), asn: key.slice(a + 1, b), client: key.slice(b + 1) };
}

/** Networks of these classes never teach a user's baseline: the attacker's VPN must not become "known". */
const UNLEARNED_CLASSES = new Set(['anonymizer', 'tor', 'relay']);

/** Sign-ins through these networks say nothing about where the person is (rented, relayed, tunnelled, beamed). */
const UNPLACED_CLASSES = new Set(['hosting', 'anonymizer', 'tor', 'relay', 'vpn', 'satellite']);

// tenant → user → key: no string built per event to look it up.
const userKeys = new TwoGenerationCache<string, string, string>(50_000);
export function userKey(tenant: string, user: string): string {
  let key = userKeys.get(tenant, user);
  if (key === undefined) {
    key = createHash('sha256').update(tenant).update('\u0000').update(user).digest('hex').slice(0, 24);
    userKeys.set(tenant, user, key);
  }
  return key;
}

function userValues(e: EnrichedEvent, login: boolean): UserObservation['values'] {
  const values: UserObservation['values'] = [];
  if (e.as) values.push({ kind: 'asn', value: String(e.as.number) });
  if (e.geo.country) values.push({ kind: 'country', value: e.geo.country });
  const client = e.user_agent === undefined ? undefined : clientOf(e.ua);
  if (client !== undefined) values.push({ kind: 'client', value: client });
  if (e.geo.country && !(e.net_class !== undefined && UNPLACED_CLASSES.has(e.net_class))) {
    if (login) values.push({ kind: 'signin', value: e.geo.country });
    if (client !== undefined) values.push({ kind: 'presence', value: `${e.geo.country}|${client}` });
  }
  return values;
}

export function toUserObservation(e: EnrichedEvent): UserObservation | undefined {
  if (e.user === undefined) return undefined;
  const o = observedOf(e);
  const values = e.type === 'login' ? (o.userLogin ??= userValues(e, true)) : (o.user ??= userValues(e, false));
  const learn = e.type !== 'login_failed' && !(e.net_class !== undefined && UNLEARNED_CLASSES.has(e.net_class));
  const obs: UserObservation = { user: userKey(e.tenant, e.user), time: e.time, learn, values };
  if (e.geo.lat !== undefined && e.geo.lon !== undefined) {
    obs.location = { lat: e.geo.lat, lon: e.geo.lon, acc: e.geo.accuracy_km ?? 0, network: e.network, session: e.session };
  }
  return obs;
}

interface Observed {
  values: ObservedValue[];
  transition: string;
  /** the user-baseline values of such an event (built on first need; `signin` only for a login) */
  user?: UserObservation['values'];
  userLogin?: UserObservation['values'];
}

// An event's values and transition depend only on its address and what was looked up or given for it, its user
// agent and device id: the same for every event of a session that stays put. Kept by address and user agent (no key
// string built per event), bounded, and shared between events; the lists are never mutated.
interface Cached extends Observed {
  device: string | undefined;
  country: string | undefined;
  asn: number | undefined;
  nc: string | undefined;
}
const observed = new TwoGenerationCache<string, string | undefined, Cached>(20_000);
// toUserObservation and toObservation are called for the same event one after the other: it is looked up once.
let lastEvent: EnrichedEvent | undefined;
let lastObserved: Observed | undefined;

function observedOf(e: EnrichedEvent): Observed {
  if (e === lastEvent) return lastObserved!;
  let o = observed.get(e.ip, e.user_agent);
  if (o === undefined || o.device !== e.device_id || o.country !== e.geo.country || o.asn !== e.as?.number || o.nc !== e.net_class) {
    o = { ...observe(e), device: e.device_id, country: e.geo.country, asn: e.as?.number, nc: e.net_class };
    observed.set(e.ip, e.user_agent, o);
  }
  lastEvent = e;
  lastObserved = o;
  return o;
}

export function toObservation(e: EnrichedEvent): Observation {
  const o = observedOf(e);
  const obs: Observation = { session: e.session, event_id: e.id, time: e.time, values: o.values, transition: o.transition };
  if (e.type === 'logout' || e.type === 'revoke' || e.type === 'rotate') {
    obs.end = { type: e.type as EndingType };
    if (e.new_session !== undefined) obs.end.new_session = e.new_session;
  }
  return obs;
}

function observe(e: EnrichedEvent): Observed {
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
  if (e.net_class) net.nc = e.net_class;
  values.push({ field: 'network', value: e.network, meta: JSON.stringify(net) });
  // Unknown values are not counted: "no ASN" twice is not two networks.
  if (e.as) values.push({ field: 'asn', value: String(e.as.number), meta: e.as.org ?? '' });
  if (e.geo.country) values.push({ field: 'country', value: e.geo.country, meta: '' });
  const client = clientOf(e.ua);
  if (e.user_agent !== undefined) {
    values.push({ field: 'browser', value: e.ua.browser, meta: '' });
    values.push({ field: 'os', value: e.ua.os, meta: '' });
    values.push({ field: 'device', value: e.ua.device, meta: '' });
    values.push({ field: 'client', value: client, meta: '' });
    const meta: UserAgentMeta = { raw: e.user_agent.slice(0, MAX_UA_KEPT), b: e.ua.browser, os: e.ua.os, d: e.ua.device, s: e.ua.is_script };
    values.push({ field: 'ua', value: uaKey(e.user_agent), meta: JSON.stringify(meta) });
  }
  if (e.device_id !== undefined) values.push({ field: 'device_id', value: e.device_id, meta: '' });
  return { values, transition: transitionKey(e.network, e.as?.number, client) };
}
