// impossible_travel: the session (or the user, across sessions) appears somewhere it could not have reached
// since its previous observation. Distance is measured between the two locations minus both accuracy
// radii (country-level geolocation can be 1000 km off), and a missing location is a counted skip, never a
// silent "distance 0".
import type { NetworkMeta } from '../../pipeline/observations.js';
import type { Check } from '../schema.js';
import type { RuleContext, RuleOutcome } from '../types.js';
import { distanceKm } from './geo.js';
import { networkClassOf, parsedMeta } from './meta.js';

type Params = Extract<Check, { type: 'impossible_travel' }>;

interface Point {
  lat: number;
  lon: number;
  acc: number;
  time: number;
  network: string;
  place: string;
}

function previousInSession(ctx: RuleContext, ignore: readonly string[]): Point | 'none' | 'unlocated' {
  const e = ctx.event;
  let best: { last: number; value: string; meta: string } | undefined;
  for (const v of ctx.window.fields.network ?? []) {
    if (v.value === e.network || v.last >= e.time) continue;
    if (ignore.length > 0) {
      const nc = networkClassOf(v.meta);
      if (nc !== undefined && ignore.includes(nc)) continue;
    }
    if (!best || v.last > best.last) best = v;
  }
  if (!best) return 'none';
  const m = parsedMeta<NetworkMeta>(best.meta);
  if (!m || m.lat === undefined || m.lon === undefined) return 'unlocated';
  return { lat: m.lat, lon: m.lon, acc: m.acc ?? 0, time: best.last, network: best.value, place: [m.city, m.cc].filter(Boolean).join(', ') };
}

export function evaluateImpossibleTravel(rule: Params, ctx: RuleContext): RuleOutcome {
  const e = ctx.event;
  if (e.net_class !== undefined && (rule.ignore_classes as readonly string[]).includes(e.net_class)) return undefined;
  let prev: Point | 'none' | 'unlocated';
  if (rule.scope === 'session') {
    prev = previousInSession(ctx, rule.ignore_classes);
  } else {
    const p = ctx.user?.previous_location;
    prev = !p || p.network === e.network || p.time >= e.time ? 'none' : { ...p, place: '' };
  }
  if (prev === 'none') return undefined;
  if (prev === 'unlocated' || e.geo.lat === undefined || e.geo.lon === undefined) return { skipped: 'missing_geo' };
  const interval = e.time - prev.time;
  if (interval > rule.max_interval) return undefined;
  const raw = distanceKm(prev.lat, prev.lon, e.geo.lat, e.geo.lon);
  const distance = Math.max(0, raw - prev.acc - (e.geo.accuracy_km ?? 0));
  if (distance < rule.min_distance_km) return undefined;
  const hours = Math.max(interval, rule.min_interval) / 3_600_000;
  const speed = distance / hours;
  if (speed <= rule.max_speed_kmh) return undefined;
  const here = [e.geo.city, e.geo.country].filter(Boolean).join(', ');
  return {
    reason: `${rule.scope === 'user' ? 'user' : 'session'} moved ${Math.round(distance)} km${prev.place ? ` from ${prev.place}` : ''}${here ? ` to ${here}` : ''} in ${Math.round(interval / 60_000)} min (${Math.round(speed)} km/h)`,
    evidenceFields: ['network', 'country'],
    details: {
      distance_km: Math.round(distance), raw_distance_km: Math.round(raw), speed_kmh: Math.round(speed), minutes: Math.round(interval / 60_000),
      previous_network: prev.network, scope: rule.scope,
    },
  };
}
