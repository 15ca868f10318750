// The embedded window store: the same state machine as observe-3.lua, for one process (`replayguard scan`,
// `npm start` without Redis, rule tests). Each session's state is its latest snapshot, and the next one is derived
// from it by nextWindow (the function the Redis store applies to its copies): no per-event parse of a hash of strings,
// and lists are shared between consecutive snapshots where they did not change. The shared contract suite holds
// both stores to identical results.
import { carriedValues, emptyWindow, nextWindow, DEFAULT_WINDOW_LIMITS, type Observation, type WindowLimits, type WindowSnapshot, type WindowStore, type WindowValue } from '../window.js';

interface SessionState {
  /** the window after the latest recorded event (duplicate: false); never mutated once handed out */
  snap: WindowSnapshot;
  /** event id → time */
  ids: Map<string, number>;
  /** every id came in after the one before it (by time, then id): the map's first id is the oldest */
  idsInOrder: boolean;
  lastIdTime: number;
  lastId: string;
  /**
   * When each held value came in (`field \0 value` → a per-session sequence number): ties of the eviction order are
   * broken by it, as Redis breaks them by the hash's insertion order.
   */
  order: Map<string, number>;
  seq: number;
  /** event-time clock value at which this session expires */
  expiresAt: number;
}

export interface MemoryWindowStoreOptions {
  limits?: WindowLimits;
  /** most sessions held; the least recently touched go first (counted in `sessionsEvicted`) */
  maxSessions?: number;
}

const byFirst = (a: WindowValue, b: WindowValue): number => a.first - b.first || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

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
    const expiresAt = this.#clock + this.#limits.ttlSeconds * 1000;
    if (!s) {
      s = { snap: emptyWindow(), ids: new Map(), idsInOrder: true, lastIdTime: -Infinity, lastId: '', order: new Map(), seq: 0, expiresAt };
      this.#sessions.set(session, s);
    } else if (expiresAt - s.expiresAt >= this.#reorderStep) {
      // Map order is (nearly) least recently touched first: a session goes to the back when its expiry moved by
      // 1/64 of the TTL, not on every event (a delete and insert in a map of every session, per event, cost more
      // than the rest of the store). The sweep may so keep an expired session up to that much longer.
      this.#sessions.delete(session);
      this.#sessions.set(session, s);
    }
    s.expiresAt = expiresAt;
    return s;
  }

  get #reorderStep(): number {
    return (this.#limits.ttlSeconds * 1000) / 64;
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
    if (s.ids.has(o.event_id)) return { ...s.snap, duplicate: true };

    // At the cap, the oldest id goes (by time, then id: ZREMRANGEBYRANK's order). A busy session is at its cap on
    // every event: while its ids came in that order (the common case) the oldest is the first one, else a scan.
    while (s.ids.size >= this.#limits.eventIds) {
      let oldId: string | undefined;
      if (s.idsInOrder) {
        oldId = s.ids.keys().next().value;
      } else {
        let oldTime = Infinity;
        s.ids.forEach((time, id) => {
          if (time < oldTime || (time === oldTime && id < oldId!)) {
            oldId = id;
            oldTime = time;
          }
        });
      }
      s.ids.delete(oldId!);
    }
    if (s.idsInOrder && (o.time < s.lastIdTime || (o.time === s.lastIdTime && o.event_id < s.lastId))) s.idsInOrder = false;
    s.lastIdTime = o.time;
    s.lastId = o.event_id;
    s.ids.set(o.event_id, o.time);

    // A new value of a field at its cap evicts the value of that field seen least recently.
    let evicted: [string, string][] | undefined;
    for (const v of o.values) {
      const list = s.snap.fields[v.field];
      if (list === undefined) {
        s.order.set(`${v.field}\u0000${v.value}`, s.seq++);
        continue;
      }
      let held = false;
      for (const x of list) {
        if (x.value === v.value) {
          held = true;
          break;
        }
      }
      if (held) continue;
      if (list.length >= this.#limits.valuesPerField) {
        let oldest: WindowValue | undefined;
        let oldestSeq = Infinity;
        for (const x of list) {
          const seq = s.order.get(`${v.field}\u0000${x.value}`) ?? 0;
          if (oldest === undefined || x.last < oldest.last || (x.last === oldest.last && seq < oldestSeq)) {
            oldest = x;
            oldestSeq = seq;
          }
        }
        if (oldest !== undefined) {
          (evicted ??= []).push([v.field, oldest.value]);
          s.order.delete(`${v.field}\u0000${oldest.value}`);
        }
      }
      s.order.set(`${v.field}\u0000${v.value}`, s.seq++);
    }
    s.snap = nextWindow(s.snap, o, s.snap.events + 1, evicted ?? [], this.#limits.transitions);
    return s.snap;
  }

  async observe(observations: readonly Observation[]): Promise<WindowSnapshot[]> {
    const out = observations.map((o) => this.#observeOne(o));
    this.#sweep();
    return out;
  }

  async peek(session: string): Promise<WindowSnapshot | undefined> {
    const s = this.#sessions.get(session);
    if (!s || s.expiresAt <= this.#clock) return undefined;
    return s.snap;
  }

  async linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void> {
    const s = this.#touch(newSession);
    const prev = s.snap;
    if (prev.rotated_from) return;
    const fields: Record<string, WindowValue[]> = { ...prev.fields };
    for (const [field, value, entry] of carriedValues(from.snapshot)) {
      const list = fields[field] ?? [];
      if (list.some((x) => x.value === value) || list.length >= this.#limits.valuesPerField) continue;
      const p1 = entry.indexOf('|');
      const p2 = entry.indexOf('|', p1 + 1);
      fields[field] = [...list, { value, first: Number(entry.slice(0, p1)), last: Number(entry.slice(p1 + 1, p2)), meta: entry.slice(p2 + 1) }].sort(byFirst);
      s.order.set(`${field}\u0000${value}`, s.seq++);
    }
    s.snap = {
      ...prev, fields, rotated_from: { session: from.session, time: from.time }, root: from.snapshot.root ?? from.session,
      first_seen: prev.first_seen === 0 || from.time < prev.first_seen ? from.time : prev.first_seen,
    };
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }
}
