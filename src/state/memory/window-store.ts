// The embedded window store: the same state machine as observe-3.lua, over a Map, for one process
// (`replayguard scan`, `npm start` without Redis, rule tests). Kept deliberately parallel to the Lua so the
// shared contract suite can hold both to identical results.
import { carriedValues, snapshotFromHash, DEFAULT_WINDOW_LIMITS, type Observation, type WindowLimits, type WindowSnapshot, type WindowStore } from '../window.js';

interface SessionState {
  hash: Map<string, string>;
  /** event id → time; insertion order is not time order, so trimming sorts */
  ids: Map<string, number>;
  /** newest first, like LPUSH */
  transitions: string[];
  /** event-time clock value at which this session expires */
  expiresAt: number;
}

export interface MemoryWindowStoreOptions {
  limits?: WindowLimits;
  /** most sessions held; the least recently touched go first (counted in `sessionsEvicted`) */
  maxSessions?: number;
}

function incr(hash: Map<string, string>, key: string, by: number): void {
  hash.set(key, String(Number(hash.get(key) ?? '0') + by));
}

export class MemoryWindowStore implements WindowStore {
  readonly kind = 'memory' as const;
  readonly #sessions = new Map<string, SessionState>();
  readonly #limits: WindowLimits;
  readonly #maxSessions: number;
  /** Event time drives expiry here: replaying last month's logs must expire sessions as they would have. */
  #clock = 0;
  sessionsEvicted = 0;

  constructor(opts: MemoryWindowStoreOptions = {}) {
    this.#limits = opts.limits ?? DEFAULT_WINDOW_LIMITS;
    this.#maxSessions = opts.maxSessions ?? 2_000_000;
  }

  get size(): number {
    return this.#sessions.size;
  }

  #touch(session: string): SessionState {
    let s = this.#sessions.get(session);
    if (s && s.expiresAt <= this.#clock) {
      this.#sessions.delete(session);
      s = undefined;
    }
    if (!s) s = { hash: new Map(), ids: new Map(), transitions: [], expiresAt: 0 };
    else this.#sessions.delete(session); // re-insert below: Map order is least recently touched first
    this.#sessions.set(session, s);
    s.expiresAt = this.#clock + this.#limits.ttlSeconds * 1000;
    return s;
  }

  #sweep(): void {
    for (const [key, s] of this.#sessions) {
      if (s.expiresAt > this.#clock && this.#sessions.size <= this.#maxSessions) break;
      this.#sessions.delete(key);
      if (s.expiresAt > this.#clock) this.sessionsEvicted++;
    }
  }

  #observeOne(o: Observation): WindowSnapshot {
    if (o.time > this.#clock) this.#clock = o.time;
    const s = this.#touch(o.session);
    const { hash } = s;
    if (s.ids.has(o.event_id)) return snapshotFromHash(true, hash, s.transitions);

    if (s.ids.size >= this.#limits.eventIds) {
      const sorted = [...s.ids].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
      for (const [id] of sorted.slice(0, s.ids.size - this.#limits.eventIds + 1)) s.ids.delete(id);
    }
    s.ids.set(o.event_id, o.time);

    incr(hash, 'n', 1);
    const f = hash.get('f');
    if (f === undefined || o.time < Number(f)) hash.set('f', String(o.time));
    const l = hash.get('l');
    if (l === undefined || o.time > Number(l)) hash.set('l', String(o.time));

    for (const v of o.values) {
      const key = `v:${v.field}:${v.value}`;
      const cur = hash.get(key);
      if (cur !== undefined) {
        const p1 = cur.indexOf('|');
        const p2 = cur.indexOf('|', p1 + 1);
        const first = Math.min(Number(cur.slice(0, p1)), o.time);
        const last = Math.max(Number(cur.slice(p1 + 1, p2)), o.time);
        hash.set(key, `${first}|${last}|${cur.slice(p2 + 1)}`);
      } else {
        if (Number(hash.get(`c:${v.field}`) ?? '0') >= this.#limits.valuesPerField) this.#evictOldest(hash, v.field);
        hash.set(key, `${o.time}|${o.time}|${v.meta}`);
        incr(hash, `c:${v.field}`, 1);
      }
    }

    if (o.end) {
      const cur = hash.get('end');
      const curTime = cur === undefined ? undefined : Number(cur.split('|')[1]);
      if (curTime === undefined || o.time < curTime) hash.set('end', `${o.end.type}|${o.time}|${o.end.new_session ?? ''}`);
    }

    const head = s.transitions[0];
    if (o.transition !== '' && (head === undefined || head.slice(head.indexOf('|') + 1) !== o.transition)) {
      s.transitions.unshift(`${o.time}|${o.transition}`);
      if (s.transitions.length > this.#limits.transitions) s.transitions.length = this.#limits.transitions;
    }
    return snapshotFromHash(false, hash, s.transitions);
  }

  #evictOldest(hash: Map<string, string>, field: string): void {
    const prefix = `v:${field}:`;
    let oldestKey: string | undefined;
    let oldestLast = Infinity;
    for (const [k, raw] of hash) {
      if (!k.startsWith(prefix)) continue;
      const p1 = raw.indexOf('|');
      const last = Number(raw.slice(p1 + 1, raw.indexOf('|', p1 + 1)));
      if (last < oldestLast) {
        oldestLast = last;
        oldestKey = k;
      }
    }
    if (oldestKey !== undefined) {
      hash.delete(oldestKey);
      incr(hash, `c:${field}`, -1);
      incr(hash, 'ev', 1);
    }
  }

  async observe(observations: readonly Observation[]): Promise<WindowSnapshot[]> {
    const out = observations.map((o) => this.#observeOne(o));
    this.#sweep();
    return out;
  }

  async peek(session: string): Promise<WindowSnapshot | undefined> {
    const s = this.#sessions.get(session);
    if (!s || s.expiresAt <= this.#clock) return undefined;
    return snapshotFromHash(false, s.hash, s.transitions);
  }

  async linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void> {
    const s = this.#touch(newSession);
    const h = s.hash;
    if (h.has('prev')) return;
    h.set('prev', `${from.session}|${from.time}`);
    h.set('root', from.snapshot.root ?? from.session);
    for (const [field, value, entry] of carriedValues(from.snapshot)) {
      const key = `v:${field}:${value}`;
      if (h.has(key) || Number(h.get(`c:${field}`) ?? '0') >= this.#limits.valuesPerField) continue;
      h.set(key, entry);
      incr(h, `c:${field}`, 1);
    }
    const f = h.get('f');
    if (f === undefined || from.time < Number(f)) h.set('f', String(from.time));
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }
}
