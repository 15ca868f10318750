// The embedded window store: the same state machine as observe-3.lua, for one process (`replayguard scan`,
// `npm start` without Redis, rule tests). Each session's window is kept as the snapshot object itself and changed in
// place by each event (nextWindow's rules, in place): observeLive() hands that live object to the pipeline, which
// judges the event before observing the next; observe() and peek() hand out copies. The shared contract suite holds
// both stores to identical results.
import { carriedValues, emptyWindow, DEFAULT_WINDOW_LIMITS, type Observation, type WindowLimits, type WindowSnapshot, type WindowStore, type WindowValue } from '../window.js';

interface SessionState {
  /** the window after the latest recorded event (duplicate: false), changed in place */
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
  /** called for each live session the cap evicts (a metric: evictions lose detections, so they are never silent) */
  onEvict?: () => void;
}

/** A window no later event changes (the batch API's and peek's answers). */
function copyWindow(w: WindowSnapshot): WindowSnapshot {
  const fields: Record<string, WindowValue[]> = {};
  for (const [f, list] of Object.entries(w.fields)) fields[f] = list.map((v) => ({ value: v.value, first: v.first, last: v.last, meta: v.meta }));
  const out: WindowSnapshot = { ...w, fields, transitions: w.transitions.slice() };
  if (w.ended) out.ended = { ...w.ended };
  if (w.rotated_from) out.rotated_from = { ...w.rotated_from };
  return out;
}

const byFirst = (a: WindowValue, b: WindowValue): number => a.first - b.first || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

export class MemoryWindowStore implements WindowStore {
  readonly kind = 'memory' as const;
  readonly #sessions = new Map<string, SessionState>();
  readonly #limits: WindowLimits;
  readonly #maxSessions: number;
  readonly #onEvict: (() => void) | undefined;
  /** Event time drives expiry here: replaying last month's logs must expire sessions as they would have. */
  #clock = 0;
  sessionsEvicted = 0;

  constructor(opts: MemoryWindowStoreOptions = {}) {
    this.#limits = opts.limits ?? DEFAULT_WINDOW_LIMITS;
    this.#maxSessions = opts.maxSessions ?? 2_000_000;
    this.#onEvict = opts.onEvict;
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
      if (s.expiresAt > this.#clock) {
        this.sessionsEvicted++;
        this.#onEvict?.();
      }
    }
  }

  #observeOne(o: Observation): WindowSnapshot {
    if (o.time > this.#clock) this.#clock = o.time;
    const s = this.#touch(o.session);
    if (s.ids.has(o.event_id)) return { ...s.snap, duplicate: true }; // shares the live lists: as live

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
    const w = s.snap;
    for (const [field, value] of evicted ?? []) {
      const list = w.fields[field]!;
      list.splice(list.findIndex((x) => x.value === value), 1);
    }
    for (const v of o.values) {
      const list = w.fields[v.field];
      if (list === undefined) {
        w.fields[v.field] = [{ value: v.value, first: o.time, last: o.time, meta: v.meta }];
        continue;
      }
      let cur: WindowValue | undefined;
      for (const x of list) {
        if (x.value === v.value) {
          cur = x;
          break;
        }
      }
      if (cur === undefined) {
        list.push({ value: v.value, first: o.time, last: o.time, meta: v.meta });
        list.sort(byFirst);
      } else if (o.time > cur.last) {
        cur.last = o.time;
      } else if (o.time < cur.first) {
        cur.first = o.time;
        list.sort(byFirst);
      }
    }
    w.events += 1;
    w.evicted += evicted?.length ?? 0;
    if (w.first_seen === 0 || o.time < w.first_seen) w.first_seen = o.time;
    if (o.time > w.last_seen) w.last_seen = o.time;
    if (o.end && (!w.ended || o.time < w.ended.time)) {
      w.ended = { type: o.end.type, time: o.time };
      if (o.end.new_session) w.ended.new_session = o.end.new_session;
    }
    if (o.transition !== '' && w.transitions[0]?.key !== o.transition) {
      w.transitions.unshift({ time: o.time, key: o.transition });
      if (w.transitions.length > this.#limits.transitions) w.transitions.length = this.#limits.transitions;
    }
    return w;
  }

  observeLive(o: Observation): WindowSnapshot {
    const w = this.#observeOne(o);
    this.#sweep();
    return w;
  }

  async observe(observations: readonly Observation[]): Promise<WindowSnapshot[]> {
    const out = observations.map((o) => copyWindow(this.#observeOne(o)));
    this.#sweep();
    return out;
  }

  async peek(session: string): Promise<WindowSnapshot | undefined> {
    const s = this.#sessions.get(session);
    if (!s || s.expiresAt <= this.#clock) return undefined;
    return copyWindow(s.snap);
  }

  async linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void> {
    // `from.snapshot` may be the old session's live window: read it before touching anything.
    const carried = carriedValues(from.snapshot);
    const root = from.snapshot.root ?? from.session;
    const s = this.#touch(newSession);
    const w = s.snap;
    if (w.rotated_from) return;
    for (const [field, value, entry] of carried) {
      const list = (w.fields[field] ??= []);
      if (list.some((x) => x.value === value) || list.length >= this.#limits.valuesPerField) continue;
      const p1 = entry.indexOf('|');
      const p2 = entry.indexOf('|', p1 + 1);
      list.push({ value, first: Number(entry.slice(0, p1)), last: Number(entry.slice(p1 + 1, p2)), meta: entry.slice(p2 + 1) });
      list.sort(byFirst);
      s.order.set(`${field}\u0000${value}`, s.seq++);
    }
    w.rotated_from = { session: from.session, time: from.time };
    w.root = root;
    if (w.first_seen === 0 || from.time < w.first_seen) w.first_seen = from.time;
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }
}
