// The embedded user-baseline store: the same rules as observe-user-1.lua, expiring users by event time like the
// memory window store. Each user's baseline is kept as the snapshot object itself and changed in place by each event:
// observeLive() hands the live object to the pipeline, observe() hands out copies.
import { userSnapshotFromHash, DEFAULT_BASELINE_LIMITS, type BaselineLimits, type BaselineStore, type BaselineValue, type UserLocation, type UserObservation, type UserSnapshot } from '../baseline.js';

interface UserState {
  /** the baseline after the latest event, without previous_location, changed in place */
  snap: UserSnapshot;
  /** the latest located observation, as the script keeps it ("time|lat|lon|acc|network|session") and reads it back */
  located?: UserLocation;
  expiresAt: number;
}

export class MemoryBaselineStore implements BaselineStore {
  readonly #users = new Map<string, UserState>();
  #clock = 0;

  /** live users the cap evicted (their baselines are lost: counted, never silent) */
  usersEvicted = 0;

  constructor(private readonly limits: BaselineLimits = DEFAULT_BASELINE_LIMITS, private readonly maxUsers = 1_000_000, private readonly onEvict?: () => void) {}

  #observeOne(o: UserObservation): UserSnapshot {
    if (o.time > this.#clock) this.#clock = o.time;
    let u = this.#users.get(o.user);
    if (u && u.expiresAt <= this.#clock) u = undefined;
    const expiresAt = this.#clock + this.limits.ttlSeconds * 1000;
    if (!u) {
      u = { snap: userSnapshotFromHash([], null), expiresAt };
      this.#users.delete(o.user); // an expired one's place is at the front
      this.#users.set(o.user, u);
    } else if (expiresAt - u.expiresAt >= (this.limits.ttlSeconds * 1000) / 64) {
      // Back of the line only when the expiry moved by 1/64 of the TTL (as the memory window store does).
      this.#users.delete(o.user);
      this.#users.set(o.user, u);
    }
    u.expiresAt = expiresAt;
    const snap = u.snap;
    const previous = u.located;
    if (o.learn) {
      for (const { kind, value } of o.values) {
        const map = (snap.values as Record<string, Map<string, BaselineValue> | undefined>)[kind];
        if (map === undefined) continue; // a kind the snapshot does not carry
        const cur = map.get(value);
        if (cur !== undefined) {
          // In place: the entries are this store's own (observe() hands out copies of them), and a new object per
          // learnt value per event outlived the young generation with the user, only to die in the old one.
          if (o.time < cur.first) cur.first = o.time;
          if (o.time > cur.last) cur.last = o.time;
          cur.count += 1;
          continue;
        }
        // At the cap, the value seen least recently goes (the first of equals, in insertion order).
        if (map.size >= this.limits.valuesPerKind) {
          let oldestKey: string | undefined;
          let oldestLast = Infinity;
          for (const [k, v] of map) {
            if (v.last < oldestLast) {
              oldestLast = v.last;
              oldestKey = k;
            }
          }
          if (oldestKey !== undefined) map.delete(oldestKey);
        }
        map.set(value, { first: o.time, last: o.time, count: 1 });
      }
    }
    if (snap.first_seen === 0 || o.time < snap.first_seen) snap.first_seen = o.time;
    snap.events += 1;

    const l = o.location;
    if (l !== undefined) {
      const prevTime = u.located?.time;
      // The place as the script would read it back from "time|lat|lon|acc|network|session", built without the text.
      if (prevTime === undefined || o.time >= prevTime) u.located = { time: o.time, lat: l.lat, lon: l.lon, acc: l.acc, network: l.network, session: l.session };
    }
    // Spelled out: a spread of the snapshot takes V8's slow clone path on every located event.
    return previous ? { first_seen: snap.first_seen, events: snap.events, values: snap.values, previous_location: previous } : snap;
  }

  observeLive(o: UserObservation): UserSnapshot {
    const out = this.#observeOne(o);
    this.#sweep();
    return out;
  }

  #sweep(): void {
    for (const [key, u] of this.#users) {
      if (u.expiresAt > this.#clock && this.#users.size <= this.maxUsers) break;
      this.#users.delete(key);
      if (u.expiresAt > this.#clock) {
        this.usersEvicted++;
        this.onEvict?.();
      }
    }
  }

  async observe(observations: readonly UserObservation[]): Promise<UserSnapshot[]> {
    const out = observations.map((o) => {
      const live = this.#observeOne(o);
      const values = { ...live.values };
      for (const k of Object.keys(values) as (keyof typeof values)[]) {
        const copy = new Map<string, BaselineValue>();
        for (const [value, e] of values[k]) copy.set(value, { first: e.first, last: e.last, count: e.count });
        values[k] = copy;
      }
      return { ...live, values };
    });
    this.#sweep();
    return out;
  }

  async close(): Promise<void> {
    this.#users.clear();
  }
}
