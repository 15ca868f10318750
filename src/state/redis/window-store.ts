import type { Cluster, Redis } from 'ioredis';
// The Redis window store: observe-3.lua records each event atomically in the session's window. This process keeps
// a copy of the windows it handles (bounded): when the script finds the window where our copy says it is, it sends
// back only what our copy needs (nothing, or the values it evicted) and we apply the event to the copy with the same
// state machine; otherwise it sends the window whole. An event that repeats the latest one of a current copy (the
// common case: same network, same browser) is sent in a short form without its values. The copies are checked
// against the memory store, event by event, in test/integration/redis-store-copies.test.ts.
import { carriedValues, snapshotFromHash, DEFAULT_WINDOW_LIMITS, type Observation, type ObservedValue, type WindowLimits, type WindowSnapshot, type WindowStore, type WindowValue } from '../window.js';
import type { KeySpace } from './keys.js';
import { callScript, defineScripts, runScripts } from './scripts.js';

/** A reply of observe-3.lua: 'retry', or [duplicate, n, (evicted | flat hash), transitions?]. */
type WindowReply = 'retry' | [number, number, string[]?, string[]?];

/** UTF-8 length of a string (the Lua side counts bytes); the ASCII case without allocating. */
export function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** "<bytes>:<item>", the framing observe-3.lua reads lists in. */
export function frame(s: string): string {
  return `${byteLength(s)}:${s}`;
}

/** Splits a string of framed items (lengths in UTF-8 bytes). */
export function unframe(s: string): string[] {
  const out: string[] = [];
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    let pos = 0;
    while (pos < s.length) {
      const c = s.indexOf(':', pos);
      if (c === -1) break;
      const size = Number(s.slice(pos, c));
      out.push(s.slice(c + 1, c + 1 + size));
      pos = c + 1 + size;
    }
    return out;
  }
  const b = Buffer.from(s, 'utf8');
  let pos = 0;
  while (pos < b.length) {
    const c = b.indexOf(58, pos);
    if (c === -1) break;
    const size = Number(b.toString('latin1', pos, c));
    out.push(b.toString('utf8', c + 1, c + 1 + size));
    pos = c + 1 + size;
  }
  return out;
}

/** Framed metas repeat (a session's network and user agent): kept, bounded, instead of re-measured per event. */
class FrameCache {
  #map = new Map<string, string>();
  get(s: string): string {
    if (s === '') return '0:';
    let f = this.#map.get(s);
    if (f === undefined) {
      f = frame(s);
      if (this.#map.size >= 20_000) this.#map.clear();
      this.#map.set(s, f);
    }
    return f;
  }
}

/**
 * The values named in the stored tuple `k` were last seen at max(their own last, tl) (see observe-3.lua). Applied to a
 * snapshot built from the raw hash; `fields` lists are copied where changed (snapshots may share them).
 */
function applyTuple(snap: WindowSnapshot, tuple: string | undefined, tl: string | undefined): WindowSnapshot {
  if (tuple === undefined || tl === undefined) return snap;
  const time = Number(tl);
  const items = unframe(tuple);
  for (let i = 0; i < items.length - 1; i++) {
    const key = items[i]!;
    const sep = key.indexOf(':', 2);
    const field = key.slice(2, sep);
    const value = key.slice(sep + 1);
    const list = snap.fields[field];
    if (!list) continue;
    const at = list.findIndex((v) => v.value === value);
    if (at !== -1 && list[at]!.last < time) list[at] = { ...list[at]!, last: time };
  }
  return snap;
}

function fromFlat(duplicate: boolean, flat: readonly string[], transitions: readonly string[]): { snap: WindowSnapshot; gid: string; tuple?: string } {
  const pairs: [string, string][] = [];
  let tuple: string | undefined;
  let tl: string | undefined;
  let gid = '';
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!;
    const v = flat[i + 1]!;
    if (k === 'k') tuple = v;
    else if (k === 'tl') tl = v;
    else if (k === 'gid') gid = v;
    else pairs.push([k, v]);
  }
  const snap = applyTuple(snapshotFromHash(duplicate, pairs, transitions), tuple, tl);
  return tuple === undefined ? { snap, gid } : { snap, gid, tuple };
}

/** An empty window: what a caller's copy is before the session's first event. */
function emptyWindow(): WindowSnapshot {
  return { duplicate: false, events: 0, first_seen: 0, last_seen: 0, evicted: 0, fields: {}, transitions: [] };
}

const byFirst = (a: WindowValue, b: WindowValue): number => a.first - b.first || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/**
 * The window after one recorded event, from the window before it (observe-3.lua's state machine, applied to this
 * process's copy): the values evicted by the script go, the event's values are seen at its time, the earliest
 * ending and the transition are recorded. Lists that change are copied: snapshots handed out are never mutated.
 */
function applyEvent(prev: WindowSnapshot, o: Observation, n: number, evicted: readonly string[], transitionCap: number): WindowSnapshot {
  const fields: Record<string, WindowValue[]> = { ...prev.fields };
  for (const key of evicted) {
    const sep = key.indexOf(':', 2);
    const field = key.slice(2, sep);
    const value = key.slice(sep + 1);
    const list = fields[field];
    if (list) fields[field] = list.filter((v) => v.value !== value);
  }
  for (const v of o.values) {
    const list = fields[v.field];
    const at = list ? list.findIndex((x) => x.value === v.value) : -1;
    if (at === -1) {
      const next = list ? list.slice() : [];
      next.push({ value: v.value, first: o.time, last: o.time, meta: v.meta });
      fields[v.field] = next.sort(byFirst);
      continue;
    }
    const cur = list![at]!;
    if (o.time > cur.last) {
      const next = list!.slice();
      next[at] = { ...cur, last: o.time };
      fields[v.field] = next;
    } else if (o.time < cur.first) {
      const next = list!.slice();
      next[at] = { ...cur, first: o.time };
      fields[v.field] = next.sort(byFirst);
    }
  }
  const snap: WindowSnapshot = {
    ...prev, duplicate: false, events: n, evicted: prev.evicted + evicted.length, fields,
    first_seen: prev.first_seen === 0 || o.time < prev.first_seen ? o.time : prev.first_seen,
    last_seen: Math.max(prev.last_seen, o.time),
  };
  if (o.end && (!prev.ended || o.time < prev.ended.time)) {
    snap.ended = { type: o.end.type, time: o.time };
    if (o.end.new_session) snap.ended.new_session = o.end.new_session;
  }
  if (o.transition !== '' && prev.transitions[0]?.key !== o.transition) {
    snap.transitions = [{ time: o.time, key: o.transition }, ...prev.transitions].slice(0, transitionCap);
  }
  return snap;
}

/** This process's copy of a session's window, as of its `n`th event. */
interface Cached {
  n: number;
  snap: WindowSnapshot;
  /** the id of the event that created the window in Redis (`gid`) */
  gid: string;
  /** the tuple of its latest event (`k`), framed as the script stores it */
  tuple?: string;
}

interface Framed {
  transition: string;
  tuple: string;
  metas: string;
}

export interface RedisWindowStoreOptions {
  /** sessions whose latest window this process keeps, so most events need no window read (0: none) */
  cacheSessions?: number;
}

let batches = 0;

export class RedisWindowStore implements WindowStore {
  readonly kind = 'redis' as const;
  readonly #frames = new FrameCache();
  /** an observation's framed tuple and metas, kept with its values list (shared between events by toObservation) */
  readonly #framed = new WeakMap<readonly ObservedValue[], Framed>();
  readonly #cacheSize: number;
  // Two generations (hashlru): a hit in the older one is promoted; a full current generation becomes the older.
  #cache = new Map<string, Cached>();
  #older = new Map<string, Cached>();
  #queue: Promise<unknown> = Promise.resolve();
  /** windows sent back whole, windows derived from this process's copy, calls refused and sent again */
  readonly stats = { full: 0, derived: 0, retried: 0 };

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly limits: WindowLimits = DEFAULT_WINDOW_LIMITS,
    opts: RedisWindowStoreOptions = {},
  ) {
    defineScripts(redis);
    this.#cacheSize = opts.cacheSessions ?? 20_000;
  }

  #cached(session: string): Cached | undefined {
    const hit = this.#cache.get(session);
    if (hit !== undefined) return hit;
    const old = this.#older.get(session);
    if (old !== undefined) this.#remember(session, old);
    return old;
  }

  #remember(session: string, c: Cached): void {
    if (this.#cacheSize === 0) return;
    if (this.#cache.size >= this.#cacheSize / 2 && !this.#cache.has(session)) {
      this.#older = this.#cache;
      this.#cache = new Map();
    }
    this.#cache.set(session, c);
  }

  #forget(session: string): void {
    this.#cache.delete(session);
    this.#older.delete(session);
  }

  #frame(o: Observation): Framed {
    let f = this.#framed.get(o.values);
    if (f === undefined || f.transition !== o.transition) {
      let tuple = '';
      let metas = '';
      for (const v of o.values) {
        tuple += frame(`v:${v.field}:${v.value}`);
        metas += this.#frames.get(v.meta);
      }
      f = { transition: o.transition, tuple: tuple + frame(o.transition), metas };
      this.#framed.set(o.values, f);
    }
    return f;
  }

  /**
   * The script's arguments. Mode 'f' (the event repeats the latest one of an exact copy) sends no values at all;
   * mode 'w' sends everything. `expected`/`gid` name the caller's copy ('' for none).
   */
  private args(o: Observation, fast: boolean, expected: number | '', gid: string, token: string): (string | number)[] {
    const head = [
      this.keys.sessionWindow(o.session), this.keys.sessionEventIds(o.session), this.keys.sessionTransitions(o.session),
      fast ? 'f' : 'w', o.event_id, o.time, this.limits.ttlSeconds, this.limits.eventIds, this.#refreshStep(), expected, gid, token,
    ];
    if (fast) return head;
    const f = this.#frame(o);
    head.push(this.limits.valuesPerField, this.limits.transitions, o.end?.type ?? '', o.end?.new_session ?? '', o.transition, f.tuple, f.metas);
    return head;
  }

  /** TTLs are re-applied when a session's event time moved 1/64 of the TTL since the last time (≤ 1.6% early expiry). */
  #refreshStep(): number {
    return Math.floor((this.limits.ttlSeconds * 1000) / 64);
  }

  /**
   * Batches run one after another in this process: each is sent with the counts the previous one left, and finds
   * the copies it derives from in place (concurrent batches would all guess from the same stale copies).
   */
  observe(observations: readonly Observation[]): Promise<WindowSnapshot[]> {
    const run = this.#queue.then(() => this.#observe(observations));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #observe(observations: readonly Observation[]): Promise<WindowSnapshot[]> {
    if (observations.length === 0) return [];
    const token = `${process.pid.toString(36)}.${(batches++).toString(36)}`;
    // Where each session's window will be before each event, as far as this process knows (its copy, or no window
    // for a session it has never seen): events of one session in one batch follow each other. The script checks;
    // a wrong guess costs the window being sent back whole, or, for a mode 'f' call, a second round trip.
    const predicted = new Map<string, { n: number; gid: string; tuple: string | undefined; last: number }>();
    const bases: (Cached | undefined)[] = new Array(observations.length);
    const argsList = observations.map((o, i) => {
      let st = predicted.get(o.session);
      if (st === undefined) {
        const c = this.#cached(o.session);
        bases[i] = c;
        st = c ? { n: c.n, gid: c.gid, tuple: c.tuple, last: c.snap.last_seen } : { n: 0, gid: '', tuple: undefined, last: -Infinity };
        predicted.set(o.session, st);
      }
      const tuple = o.transition === '' || o.end ? undefined : this.#frame(o).tuple;
      const fast = st.n > 0 && tuple !== undefined && tuple === st.tuple && o.time >= st.last;
      const args = this.args(o, fast, st.n, st.gid, token);
      if (st.n === 0) st.gid = o.event_id;
      st.n += 1;
      st.tuple = o.transition === '' ? undefined : this.#frame(o).tuple;
      if (o.time > st.last) st.last = o.time;
      return args;
    });
    // One round trip per batch; events of one session are applied in the order given.
    const replies = await runScripts(this.redis, 'observe', argsList);
    const out: WindowSnapshot[] = new Array(observations.length);
    const current = new Map<string, Cached>();
    const retry: number[] = [];
    for (let i = 0; i < observations.length; i++) {
      const o = observations[i]!;
      const reply = replies[i];
      if (reply === 'retry') {
        // Our copy was not current: this event and the batch's later ones on the session were not recorded.
        retry.push(i);
        current.delete(o.session);
        this.#forget(o.session);
        continue;
      }
      this.#take(o, reply as WindowReply, current.get(o.session) ?? bases[i], current, out, i);
    }
    if (retry.length > 0) {
      this.stats.retried += retry.length;
      const again = `${token}.r`;
      const second = await runScripts(this.redis, 'observe', retry.map((i) => this.args(observations[i]!, false, '', '', again)));
      retry.forEach((i, k) => this.#take(observations[i]!, second[k] as WindowReply, current.get(observations[i]!.session), current, out, i));
    }
    for (const [session, c] of current) this.#remember(session, c);
    return out;
  }

  /** One reply: the window sent back whole, or derived from the copy it was sent against. */
  #take(o: Observation, reply: WindowReply, base: Cached | undefined, current: Map<string, Cached>, out: WindowSnapshot[], i: number): void {
    if (!Array.isArray(reply)) throw new Error(`observe: unexpected reply ${String(reply)}`);
    const dup = reply[0] === 1;
    const n = reply[1];
    let next: Cached;
    if (reply.length >= 4) {
      const { snap, gid, tuple } = fromFlat(dup, reply[2]!, reply[3]!);
      next = tuple === undefined ? { n, snap, gid } : { n, snap, gid, tuple };
      this.stats.full++;
    } else {
      // The script found the window where the call said it was: our copy (or the empty window) is exact.
      const prev = base?.snap ?? emptyWindow();
      const snap = dup ? { ...prev, duplicate: true } : applyEvent(prev, o, n, reply[2] ?? [], this.limits.transitions);
      const tuple = dup ? base?.tuple : o.transition === '' ? undefined : this.#frame(o).tuple;
      next = { n, snap, gid: base?.gid || o.event_id };
      if (tuple !== undefined) next.tuple = tuple;
      this.stats.derived++;
    }
    out[i] = next.snap;
    current.set(o.session, next.snap.duplicate ? { ...next, snap: { ...next.snap, duplicate: false } } : next);
  }

  async peek(session: string): Promise<WindowSnapshot | undefined> {
    const [[e1, hash], [e2, transitions]] = (await this.redis
      .multi()
      .hgetall(this.keys.sessionWindow(session))
      .lrange(this.keys.sessionTransitions(session), 0, -1)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
    if (e1 || e2) throw e1 ?? e2;
    if (!hash || Object.keys(hash).length === 0) return undefined;
    const { k, tl, ...rest } = hash;
    return applyTuple(snapshotFromHash(false, Object.entries(rest), transitions), k, tl);
  }

  async linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void> {
    const values = carriedValues(from.snapshot);
    const args: (string | number)[] = [
      this.keys.sessionWindow(newSession), from.session, from.time, this.limits.ttlSeconds, this.limits.valuesPerField,
      from.snapshot.root ?? from.session, values.length,
    ];
    for (const v of values) args.push(...v);
    // A linked window is always sent back whole (the script sees `prev`); drop our copy of it all the same.
    this.#forget(newSession);
    await callScript(this.redis, 'link-rotation', args);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it.
  }
}
