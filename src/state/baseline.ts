// User baselines: per user, the ASNs, countries and clients seen in recent sessions, and the last place
// the user was seen. Lets rules ask "is this network new for this user" (a session moving to the user's
// own home ISP is not a session moving to a datacenter abroad) and measure travel across sessions.
import type { BaselineKind } from '../rules/schema.js';

export interface UserObservation {
  /** hash of tenant + user id */
  user: string;
  time: number;
  learn: boolean;
  location?: { lat: number; lon: number; acc: number; network: string; session: string };
  values: { kind: BaselineKind; value: string }[];
}

export interface BaselineValue {
  first: number;
  last: number;
  count: number;
}

export interface UserLocation {
  time: number;
  lat: number;
  lon: number;
  acc: number;
  network: string;
  session: string;
}

export interface UserSnapshot {
  first_seen: number;
  events: number;
  values: Record<BaselineKind, Map<string, BaselineValue>>;
  /** the user's last located observation before this event, in any session */
  previous_location?: UserLocation;
}

export interface BaselineLimits {
  ttlSeconds: number;
  valuesPerKind: number;
}

export const DEFAULT_BASELINE_LIMITS: BaselineLimits = { ttlSeconds: 90 * 86_400, valuesPerKind: 32 };

export interface BaselineStore {
  observe(observations: readonly UserObservation[]): Promise<UserSnapshot[]>;
  close(): Promise<void>;
}

export function parseLocation(raw: string | false | null | undefined): UserLocation | undefined {
  if (!raw) return undefined;
  const [time, lat, lon, acc, network, session] = raw.split('|');
  return { time: Number(time), lat: Number(lat), lon: Number(lon), acc: Number(acc), network: network ?? '', session: session ?? '' };
}

export function locationArg(o: UserObservation): string {
  const l = o.location;
  return l ? `${l.lat}|${l.lon}|${l.acc}|${l.network}|${l.session}` : '';
}

export function userSnapshotFromHash(hash: Iterable<[string, string]>, previous: string | false | null): UserSnapshot {
  const snap: UserSnapshot = { first_seen: 0, events: 0, values: { asn: new Map(), country: new Map(), client: new Map() } };
  for (const [k, raw] of hash) {
    if (k.startsWith('v:')) {
      const sep = k.indexOf(':', 2);
      const kind = k.slice(2, sep) as BaselineKind;
      const [first, last, count] = raw.split('|');
      snap.values[kind]?.set(k.slice(sep + 1), { first: Number(first), last: Number(last), count: Number(count) });
    } else if (k === 'f') snap.first_seen = Number(raw);
    else if (k === 'n') snap.events = Number(raw);
  }
  const loc = parseLocation(previous);
  if (loc) snap.previous_location = loc;
  return snap;
}
