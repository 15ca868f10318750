// The embedded user-baseline store: the same rules as observe-user-1.lua, over Maps, expiring users by
// event time like the memory window store.
import { DEFAULT_BASELINE_LIMITS, locationArg, userSnapshotFromHash, type BaselineLimits, type BaselineStore, type UserObservation, type UserSnapshot } from '../baseline.js';

interface UserState {
  hash: Map<string, string>;
  expiresAt: number;
}

export class MemoryBaselineStore implements BaselineStore {
  readonly #users = new Map<string, UserState>();
  #clock = 0;

  constructor(private readonly limits: BaselineLimits = DEFAULT_BASELINE_LIMITS, private readonly maxUsers = 1_000_000) {}

  #observeOne(o: UserObservation): UserSnapshot {
    if (o.time > this.#clock) this.#clock = o.time;
    let u = this.#users.get(o.user);
    if (u && u.expiresAt <= this.#clock) u = undefined;
    if (!u) u = { hash: new Map(), expiresAt: 0 };
    this.#users.delete(o.user);
    this.#users.set(o.user, u);
    u.expiresAt = this.#clock + this.limits.ttlSeconds * 1000;
    const h = u.hash;
    const prevLoc = h.get('g');
    h.set('n', String(Number(h.get('n') ?? '0') + 1));
    const f = h.get('f');
    if (f === undefined || o.time < Number(f)) h.set('f', String(o.time));
    if (o.learn) {
      for (const { kind, value } of o.values) {
        const key = `v:${kind}:${value}`;
        const cur = h.get(key);
        if (cur !== undefined) {
          const [first, last, count] = cur.split('|').map(Number) as [number, number, number];
          h.set(key, `${Math.min(first, o.time)}|${Math.max(last, o.time)}|${count + 1}`);
        } else {
          if (Number(h.get(`k:${kind}`) ?? '0') >= this.limits.valuesPerKind) this.#evictOldest(h, kind);
          h.set(key, `${o.time}|${o.time}|1`);
          h.set(`k:${kind}`, String(Number(h.get(`k:${kind}`) ?? '0') + 1));
        }
      }
    }
    const loc = locationArg(o);
    if (loc !== '') {
      const prevTime = prevLoc === undefined ? undefined : Number(prevLoc.split('|')[0]);
      if (prevTime === undefined || o.time >= prevTime) h.set('g', `${o.time}|${loc}`);
    }
    return userSnapshotFromHash(h, prevLoc ?? null);
  }

  #evictOldest(h: Map<string, string>, kind: string): void {
    const prefix = `v:${kind}:`;
    let oldestKey: string | undefined;
    let oldestLast = Infinity;
    for (const [k, raw] of h) {
      if (!k.startsWith(prefix)) continue;
      const last = Number(raw.split('|')[1]);
      if (last < oldestLast) {
        oldestLast = last;
        oldestKey = k;
      }
    }
    if (oldestKey !== undefined) {
      h.delete(oldestKey);
      h.set(`k:${kind}`, String(Number(h.get(`k:${kind}`) ?? '1') - 1));
    }
  }

  async observe(observations: readonly UserObservation[]): Promise<UserSnapshot[]> {
    const out = observations.map((o) => this.#observeOne(o));
    for (const [key, u] of this.#users) {
      if (u.expiresAt > this.#clock && this.#users.size <= this.maxUsers) break;
      this.#users.delete(key);
    }
    return out;
  }

  async close(): Promise<void> {
    this.#users.clear();
  }
}
