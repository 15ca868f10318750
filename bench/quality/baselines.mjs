// The two naive detectors the rule pack is compared with, fed the same enriched events in the same run.
//
// - "any IP change": a session alerts the first time an event's address differs from the session's previous
//   event's address (full address: IPv6 privacy addresses count as a change, as they would for a naive rule).
// - "impossible travel at 900 km/h": a session alerts the first time two consecutive located events with
//   different addresses are further apart than 900 km/h allows: great-circle distance between the database
//   points divided by the time between them (at least one minute). No accuracy radius, no minimum
//   distance, no network classes: the classic SIEM rule, per session.
//
// Both keep one alert per session (the first), so their precision and false-positive rates are per session.

import { distanceKm } from './places.mjs';

const MIN_INTERVAL_MS = 60_000;

export class AnyIpChange {
  name = 'any IP change';
  #last = new Map();

  /** @returns {boolean} whether this event fires */
  observe(e) {
    const prev = this.#last.get(e.session);
    this.#last.set(e.session, e.ip);
    return prev !== undefined && prev !== e.ip;
  }
}

export class ClassicTravel {
  name = 'impossible travel 900 km/h';
  #last = new Map();

  constructor(maxKmh = 900) {
    this.maxKmh = maxKmh;
  }

  observe(e) {
    if (e.geo.lat === undefined || e.geo.lon === undefined) return false;
    const prev = this.#last.get(e.session);
    this.#last.set(e.session, { ip: e.ip, lat: e.geo.lat, lon: e.geo.lon, time: e.time });
    if (!prev || prev.ip === e.ip || e.time < prev.time) return false;
    const km = distanceKm(prev.lat, prev.lon, e.geo.lat, e.geo.lon);
    const hours = Math.max(e.time - prev.time, MIN_INTERVAL_MS) / 3_600_000;
    return km / hours > this.maxKmh;
  }
}
