// Questions rules ask of a user's baseline.
import type { EnrichedEvent } from '../events/schema.js';
import { clientOf } from '../pipeline/observations.js';
import type { UserSnapshot } from '../state/baseline.js';
import type { WindowSnapshot } from '../state/window.js';
import type { BaselineKind, BaselineRequirement } from './schema.js';

export function valueOf(event: EnrichedEvent, kind: BaselineKind): string | undefined {
  if (kind === 'asn') return event.as ? String(event.as.number) : undefined;
  if (kind === 'country') return event.geo.country;
  return event.user_agent === undefined ? undefined : clientOf(event.ua);
}

const DAY = 86_400_000;

/** The user was seen with this value (of this kind) before the session under judgement began. */
export function hadBefore(event: EnrichedEvent, window: WindowSnapshot, user: UserSnapshot | undefined, kind: BaselineKind, value: string): boolean {
  const entry = user?.values[kind].get(value);
  return entry !== undefined && entry.first < (window.first_seen || event.time);
}

/** The country the session was first seen in (its earliest country value), if any. */
function firstCountry(window: WindowSnapshot): string | undefined {
  let best: { value: string; first: number } | undefined;
  for (const v of window.fields.country ?? []) if (!best || v.first < best.first) best = v;
  return best?.value;
}

/**
 * True when the session has moved to a country other than the one it began in, and since the session began the
 * user has been placed in that country by something a thief does not have (on networks that place the person:
 * see `signin` and `presence` in src/state/baseline.ts):
 * - a fresh sign-in from there, in any session (it takes the password and MFA, not just a cookie), or
 * - another of the user's devices there: a client the user had before this session began, other than this
 *   event's (a thief replays one device's cookie; the victim's phone stays with the victim).
 * The user is there: the move is their journey, not a replay. Evidence from before the session began, or from
 * the session's own first country, vouches for nothing (a resident attacker in the victim's country gains
 * nothing from the victim's daily logins).
 */
export function travelCorroborated(event: EnrichedEvent, window: WindowSnapshot, user: UserSnapshot | undefined): boolean {
  const country = event.geo.country;
  if (country === undefined || user === undefined) return false;
  const origin = firstCountry(window);
  if (origin === undefined || origin === country) return false;
  const sessionStart = window.first_seen || event.time;
  const current = (v: { last: number } | undefined): boolean => v !== undefined && v.last >= sessionStart && v.last <= event.time;
  if (current(user.values.signin.get(country))) return true;
  const own = valueOf(event, 'client');
  const prefix = `${country}|`;
  for (const [key, seen] of user.values.presence) {
    if (!key.startsWith(prefix) || !current(seen)) continue;
    const client = key.slice(prefix.length);
    if (client !== own && hadBefore(event, window, user, 'client', client)) return true;
  }
  return false;
}

/**
 * 'known' when the user was seen with the event's value in an EARLIER session (first sight before this
 * session began) within `days`: values learnt inside the current session don't count, so an attacker's
 * network never becomes "known" by being used in the stolen session itself.
 */
export function familiarity(event: EnrichedEvent, window: WindowSnapshot, user: UserSnapshot | undefined, kind: BaselineKind, days: number, travel = false): Familiarity {
  const value = valueOf(event, kind);
  if (value === undefined) return 'unknown_value';
  const last = user?.values[kind].get(value)?.last;
  if (last !== undefined && last >= event.time - days * DAY && hadBefore(event, window, user, kind, value)) return 'known';
  // A new network or country in a country the user is travelling in (signed in there since): a hotel, an airport.
  // The client is not a matter of travel.
  if (travel && kind !== 'client' && travelCorroborated(event, window, user)) return 'travel';
  return 'new';
}

/** 'travel': new, but where the user has signed in since the session began (see travelCorroborated). */
export type Familiarity = 'new' | 'known' | 'travel' | 'unknown_value';

export function baselineEstablished(event: EnrichedEvent, user: UserSnapshot | undefined, req: Pick<BaselineRequirement, 'min_age' | 'min_events'>): boolean {
  return user !== undefined && user.first_seen <= event.time - req.min_age && user.events >= req.min_events;
}
