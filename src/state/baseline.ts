// User baselines: per user, the ASNs, countries and clients seen in recent sessions, and the last place
// the user was seen. Lets rules ask "is this network new for this user" (a session moving to the user's
// own home ISP is not a session moving to a datacenter abroad) and measure travel across sessions.
import type { BaselineKind } from '../rules/schema.js';

/**
 * What a baseline keeps per user: the kinds rules ask about (`new_for_user`), and two kinds that tell a
 * traveller from a replayed session (src/rules/baseline.ts travelCorroborated), both only from networks that
 * place the person (not hosting, anonymizers, relays, VPN concentrators or satellite PoPs):
 * - `signin`: the countries the user signed in from afresh (a login needs the password and MFA; a stolen cookie
 *   does not give them);
 * - `presence`: "<country>|<client>", where each of the user's clients was last seen (a thief replays the cookie
 *   of one device; the victim's other devices stay where the victim is).
 */
export type StoredKind = BaselineKind | 'signin' | 'presence';

export function emptyBaselineValues(): Record<StoredKind, Map<string, BaselineValue>> {
  return { asn: new Map(), country: new Map(), client: new Map(), signin: new Map(), presence: new Map() };
}

export interface UserObservation {
  /** hash of tenant + user id */
  user: string;
  time: number;
  learn: boolean;
  location?: { lat: number; lon: number; acc: number; network: string; session: string };
  values: { kind: StoredKind; value: string }[];
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
  values: Record<StoredKind, Map<string, BaselineValue>>;
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
  /** As WindowStore.observeLive: the live baseline after one event, valid until the next call. */
  observeLive?(observation: UserObservation): UserSnapshot;
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
  const snap: UserSnapshot = { first_seen: 0, events: 0, values: emptyBaselineValues() };
  for (const [k, raw] of hash) {
    if (k.startsWith('v:')) {
      const sep = k.indexOf(':', 2);
      const kind = k.slice(2, sep) as StoredKind;
      const [first, last, count] = raw.split('|');
      snap.values[kind]?.set(k.slice(sep + 1), { first: Number(first), last: Number(last), count: Number(count) });
    } else if (k === 'f') snap.first_seen = Number(raw);
    else if (k === 'n') snap.events = Number(raw);
  }
  const loc = parseLocation(previous);
  if (loc) snap.previous_location = loc;
  return snap;
}
