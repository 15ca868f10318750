import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
// The Redis window store: observe-3.lua records each event atomically in the session's window. This process keeps
// a copy of the windows it handles (bounded): when the script finds the window where our copy says it is, it sends
// back only what our copy needs (nothing, or the values it evicted) and we apply the event to the copy with the same
// state machine; otherwise it sends the window whole. An event that repeats the latest one of a current copy (the
// common case: same network, same browser) is sent in a short form without its values. The copies are checked
// against the memory store, event by event, in test/integration/redis-store-copies.test.ts.
//
// The hash is kept short enough for Redis to store it as a listpack (every field and value ≤ 64 bytes): fields have
// one-letter names, value times are base 36 relative to the window's base time, the tuple is a digest, and long facts
// (a network's place and AS, a raw user agent) are written once to a shared key named by their digest and referred
// to from the window. This store turns all of it back into the snapshot the memory store gives: the rules see the
// same window whichever store is behind them.
import { emptyWindow, nextWindow, snapshotFromHash, DEFAULT_WINDOW_LIMITS, type Observation, type ObservedValue, type WindowLimits, type WindowSnapshot, type WindowStore, type WindowValue } from '../window.js';
import type { KeySpace } from './keys.js';
import { defineScripts, runScripts } from './scripts.js';

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

/** One-letter names of the fields the pipeline records (src/pipeline/observations.ts); any other keeps its name. */
const ALIAS = new Map([['network', 'N'], ['asn', 'A'], ['country', 'C'], ['browser', 'B'], ['os', 'O'], ['device', 'D'], ['client', 'K'], ['ua', 'U'], ['device_id', 'I']]);
const FIELD = new Map([...ALIAS].map(([f, a]) => [a, f]));

function alias(field: string): string {
  return ALIAS.get(field) ?? `_${field}`;
}

function fieldOf(a: string): string {
  return FIELD.get(a) ?? a.slice(1);
}

/** The field and value a hash field `v:<alias>:<value>` names. */
function splitValueKey(key: string): [string, string] {
  const sep = key.indexOf(':', 2);
  return [fieldOf(key.slice(2, sep)), key.slice(sep + 1)];
}

/** Metas this short are kept in the window itself; longer ones by reference ('~' + digest) to a shared key. */
const INLINE_META = 24;

function isRef(stored: string): boolean {
  return stored.charCodeAt(0) === 0x7e;
}

interface Framed {
  transition: string;
  /** the values' hash fields, framed as the script reads them */
  keys: string;
  /** the values' metas as stored (inline or a reference), framed */
  metas: string;
  /** digest of the tuple (values and transition): `k` in the window */
  tuple: string;
  /** facts this tuple refers to: reference, text */
  refs: [string, string][];
}

/** A window as the script sends it back whole, decoded into the snapshot the memory store would give. */
function fromFlat(duplicate: boolean, flat: readonly string[], transitions: readonly string[], metaOf: (stored: string) => string): { snap: WindowSnapshot; gid: string; tuple?: string } {
  let base = 0;
  let tl = -Infinity;
  let tuple: string | undefined;
  let gid = '';
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!;
    if (k === 'b') base = Number(flat[i + 1]);
    else if (k === 'tl') tl = Number(flat[i + 1]);
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!;
    const v = flat[i + 1]!;
    if (k.startsWith('v:')) {
      const marked = v.charCodeAt(0) === 0x2a;
      const p1 = v.indexOf('|', marked ? 1 : 0);
      const p2 = v.indexOf('|', p1 + 1);
      const first = base + parseInt(v.slice(marked ? 1 : 0, p1), 36);
      let last = first + parseInt(v.slice(p1 + 1, p2), 36);
      if (marked && tl > last) last = tl;
      const [field, value] = splitValueKey(k);
      pairs.push([`v:${field}:${value}`, `${first}|${last}|${metaOf(v.slice(p2 + 1))}`]);
    } else if (k === 'k') tuple = v;
    else if (k === 'gid') gid = v;
    else pairs.push([k, v]);
  }
  const snap = snapshotFromHash(duplicate, pairs, transitions);
  return tuple === undefined ? { snap, gid } : { snap, gid, tuple };
}

/** The stored metas of a flat window reply that refer to facts elsewhere. */
function refsIn(flat: readonly string[], into: Set<string>): void {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (!flat[i]!.startsWith('v:')) continue;
    const v = flat[i + 1]!;
    const at = v.indexOf('|', v.indexOf('|') + 1) + 1;
    if (v.charCodeAt(at) === 0x7e) into.add(v.slice(at));
  }
}

/** This process's copy of a session's window, as of its `n`th event. */
interface Cached {
  n: number;
  snap: WindowSnapshot;
  /** the id of the event that created the window in Redis (`gid`) */
  gid: string;
  /** the tuple digest of its latest event (`k`) */
  tuple?: string;
  /** wall time this process last made sure the facts the window refers to are kept */
  factsAt?: number;
}

export interface RedisWindowStoreOptions {
  /** sessions whose latest window this process keeps, so most events need no window read (0: none) */
  cacheSessions?: number;
}

let batches = 0;

export class RedisWindowStore implements WindowStore {
  readonly kind = 'redis' as const;
  /** an observation's framed values, metas and tuple digest, kept with its values list (shared by toObservation) */
  readonly #framed = new WeakMap<readonly ObservedValue[], Framed>();
  /** meta text → as stored; reference → meta text (ours, or read back); two generations each, bounded */
  #stored = new Map<string, string>();
  #texts = new Map<string, string>();
  #textsOlder = new Map<string, string>();
  /** reference → wall time this process last wrote its facts key */
  #written = new Map<string, number>();
  /** facts keys to write (with their TTL) before the next calls that may refer to them */
  #pendingFacts: (string | number)[][] = [];
  readonly #cacheSize: number;
  // Two generations (hashlru): a hit in the older one is promoted; a full current generation becomes the older.
  #cache = new Map<string, Cached>();
  #older = new Map<string, Cached>();
  #queue: Promise<unknown> = Promise.resolve();
  /** windows sent back whole, windows derived from this process's copy, calls refused and sent again */
  readonly stats = { full: 0, derived: 0, retried: 0, factsRead: 0, factsMissing: 0 };

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

  /** How a meta is kept in the window: as is when short, else by reference to a shared facts key. */
  #store(meta: string): string {
    if (meta === '') return '';
    let stored = this.#stored.get(meta);
    if (stored === undefined) {
      stored = meta.length <= INLINE_META && !isRef(meta) && byteLength(meta) === meta.length
        ? meta
        : `~${createHash('sha256').update(meta).digest('base64url').slice(0, 11)}`;
      if (this.#stored.size >= 20_000) this.#stored.clear();
      this.#stored.set(meta, stored);
    }
    if (isRef(stored)) this.#learn(stored, meta);
    return stored;
  }

  #learn(ref: string, meta: string): void {
    if (this.#texts.has(ref)) return;
    if (this.#texts.size >= 20_000) {
      this.#textsOlder = this.#texts;
      this.#texts = new Map();
    }
    this.#texts.set(ref, meta);
  }

  #text(stored: string): string | undefined {
    if (!isRef(stored)) return stored;
    return this.#texts.get(stored) ?? this.#textsOlder.get(stored);
  }

  /** Facts wall-clock lifetime: a window's TTL and a margin over the interval at which they are kept alive. */
  #factsTtl(): number {
    return this.limits.ttlSeconds + Math.ceil(this.limits.ttlSeconds / 16);
  }

  #factsInterval(): number {
    return (this.limits.ttlSeconds * 1000) / 64;
  }

  /** Makes sure the facts key of `ref` is written (again, once its last write is older than the interval). */
  #keep(ref: string, meta: string, now: number): void {
    const at = this.#written.get(ref);
    if (at !== undefined && now - at < this.#factsInterval()) return;
    if (this.#written.size >= 100_000) this.#written.clear();
    this.#written.set(ref, now);
    this.#pendingFacts.push(['set', this.keys.windowFacts(ref.slice(1)), meta, 'EX', this.#factsTtl()]);
  }

  #frame(o: Observation): Framed {
    let f = this.#framed.get(o.values);
    if (f === undefined || f.transition !== o.transition) {
      let keys = '';
      let metas = '';
      const refs: [string, string][] = [];
      for (const v of o.values) {
        keys += frame(`v:${alias(v.field)}:${v.value}`);
        const stored = this.#store(v.meta);
        metas += frame(stored);
        if (isRef(stored)) refs.push([stored, v.meta]);
      }
      const tuple = createHash('sha1').update(keys).update('\u0000').update(o.transition).digest('hex').slice(0, 16);
      f = { transition: o.transition, keys, metas, tuple, refs };
      this.#framed.set(o.values, f);
    }
    return f;
  }

  /**
   * A live window's facts must outlive it: each window this process touches has the facts it refers to re-written
   * at most once per interval (1/64 of the TTL) by this process, and every key lives a TTL and a margin.
   */
  #keepFactsOf(c: Cached, now: number): void {
    if (c.factsAt !== undefined && now - c.factsAt < this.#factsInterval()) return;
    c.factsAt = now;
    for (const list of Object.values(c.snap.fields)) {
      for (const v of list) {
        if (v.meta === '') continue;
        const stored = this.#store(v.meta);
        if (isRef(stored)) this.#keep(stored, v.meta, now);
      }
    }
  }

  /** Reads the facts of references this process does not know (windows another process wrote). */
  async #resolve(refs: Set<string>): Promise<void> {
    const missing = [...refs].filter((r) => this.#text(r) === undefined);
    if (missing.length === 0) return;
    const texts = await this.redis.mget(...missing.map((r) => this.keys.windowFacts(r.slice(1))));
    this.stats.factsRead += missing.length;
    missing.forEach((r, i) => {
      const t = texts[i];
      if (t === null || t === undefined) this.stats.factsMissing++;
      else this.#learn(r, t);
    });
  }

  #metaOf = (stored: string): string => this.#text(stored) ?? '';

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
    const now = Date.now();
    for (const [ref, meta] of f.refs) this.#keep(ref, meta, now);
    head.push(this.limits.valuesPerField, this.limits.transitions, o.end?.type ?? '', o.end?.new_session ?? '', o.transition, f.keys, f.metas, f.tuple);
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
    // One round trip per batch (facts first); events of one session are applied in the order given.
    const replies = await runScripts(this.redis, 'observe', argsList, this.#takePendingFacts());
    await this.#resolveReplies(replies);
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
      const second = await runScripts(this.redis, 'observe', retry.map((i) => this.args(observations[i]!, false, '', '', again)), this.#takePendingFacts());
      await this.#resolveReplies(second);
      retry.forEach((i, k) => this.#take(observations[i]!, second[k] as WindowReply, current.get(observations[i]!.session), current, out, i));
    }
    const now = Date.now();
    for (const [session, c] of current) {
      this.#keepFactsOf(c, now);
      this.#remember(session, c);
    }
    return out;
  }

  #takePendingFacts(): (string | number)[][] {
    const p = this.#pendingFacts;
    this.#pendingFacts = [];
    return p;
  }

  /** Windows sent back whole may refer to facts this process has not seen: read them, in one round trip. */
  async #resolveReplies(replies: readonly unknown[]): Promise<void> {
    const refs = new Set<string>();
    for (const r of replies) if (Array.isArray(r) && r.length >= 4) refsIn(r[2] as string[], refs);
    if (refs.size > 0) await this.#resolve(refs);
  }

  /** One reply: the window sent back whole, or derived from the copy it was sent against. */
  #take(o: Observation, reply: WindowReply, base: Cached | undefined, current: Map<string, Cached>, out: WindowSnapshot[], i: number): void {
    if (!Array.isArray(reply)) throw new Error(`observe: unexpected reply ${String(reply)}`);
    const dup = reply[0] === 1;
    const n = reply[1];
    let next: Cached;
    if (reply.length >= 4) {
      const { snap, gid, tuple } = fromFlat(dup, reply[2]!, reply[3]!, this.#metaOf);
      next = tuple === undefined ? { n, snap, gid } : { n, snap, gid, tuple };
      // Taken over from another process or an older copy: it keeps its own record of when facts were kept.
      if (base?.factsAt !== undefined) next.factsAt = base.factsAt;
      this.stats.full++;
    } else {
      // The script found the window where the call said it was: our copy (or the empty window) is exact.
      const prev = base?.snap ?? emptyWindow();
      const snap = dup ? { ...prev, duplicate: true } : nextWindow(prev, o, n, (reply[2] ?? []).map(splitValueKey), this.limits.transitions);
      const tuple = dup ? base?.tuple : o.transition === '' ? undefined : this.#frame(o).tuple;
      next = { n, snap, gid: base?.gid || o.event_id };
      if (tuple !== undefined) next.tuple = tuple;
      if (base?.factsAt !== undefined) next.factsAt = base.factsAt;
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
    const flat = Object.entries(hash).flat();
    const refs = new Set<string>();
    refsIn(flat, refs);
    await this.#resolve(refs);
    return fromFlat(false, flat, transitions, this.#metaOf).snap;
  }

  async linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void> {
    const now = Date.now();
    const args: (string | number)[] = [
      this.keys.sessionWindow(newSession), from.session, from.time, this.limits.ttlSeconds, this.limits.valuesPerField,
      from.snapshot.root ?? from.session, 0,
    ];
    let count = 0;
    for (const [field, values] of Object.entries(from.snapshot.fields)) {
      for (const v of values) {
        const stored = this.#store(v.meta);
        if (isRef(stored)) this.#keep(stored, v.meta, now);
        args.push(alias(field), v.value, v.first, v.last, stored);
        count++;
      }
    }
    args[6] = count;
    // A linked window is always sent back whole (the script sees `prev`); drop our copy of it all the same.
    this.#forget(newSession);
    await runScripts(this.redis, 'link-rotation', [args], this.#takePendingFacts());
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it.
  }
}
