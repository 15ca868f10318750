// Questions rules ask of a user's baseline.
import type { EnrichedEvent } from '../events/schema.js';
import type { UserSnapshot } from '../state/baseline.js';
import type { WindowSnapshot } from '../state/window.js';
import type { BaselineKind, BaselineRequirement } from './schema.js';

export function valueOf(event: EnrichedEvent, kind: BaselineKind): string | undefined {
  if (kind === 'asn') return event.as ? String(event.as.number) : undefined;
  if (kind === 'country') return event.geo.country;
  return event.user_agent === undefined ? undefined : `${event.ua.browser}/${event.ua.os}/${event.ua.device}`;
}

/**
 * 'known' when the user was seen with the event's value in an EARLIER session (first sight before this
 * session began) within `days`: values learnt inside the current session don't count, so an attacker's
 * network never becomes "known" by being used in the stolen session itself.
 */
export function familiarity(event: EnrichedEvent, window: WindowSnapshot, user: UserSnapshot | undefined, kind: BaselineKind, days: number): 'new' | 'known' | 'unknown_value' {
  const value = valueOf(event, kind);
  if (value === undefined) return 'unknown_value';
  const entry = user?.values[kind].get(value);
  if (!entry) return 'new';
  const sessionStart = window.first_seen || event.time;
  return entry.first < sessionStart && entry.last >= event.time - days * 86_400_000 ? 'known' : 'new';
}

export function baselineEstablished(event: EnrichedEvent, user: UserSnapshot | undefined, req: Pick<BaselineRequirement, 'min_age' | 'min_events'>): boolean {
  return user !== undefined && user.first_seen <= event.time - req.min_age && user.events >= req.min_events;
}
