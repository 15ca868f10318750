// The Redis user-baseline store: observe-user-1.lua records each event atomically in the user's baseline. As in
// RedisWindowStore, this process keeps copies of the baselines it handles and applies events to them when the script
// says the copy is current (then only the evicted values come back), instead of reading the baseline back.
import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_BASELINE_LIMITS, emptyBaselineValues, locationArg, parseLocation, userSnapshotFromHash, type BaselineLimits, type BaselineStore, type BaselineValue, type UserObservation, type StoredKind, type UserSnapshot } from '../baseline.js';
import type { KeySpace } from './keys.js';
import { defineScripts, runScripts } from './scripts.js';
import { frame, unframe } from './window-store.js';

/** The pending count and last sight of the values named in `tk` (see observe-user-1.lua). */
function applyPending(snap: UserSnapshot, tuple: string | undefined, tl: string | undefined, tc: string | undefined): UserSnapshot {
  if (tuple === undefined || tuple === '' || tl === undefined) return snap;
  const time = Number(tl);
  const count = Number(tc ?? 0);
  for (const key of unframe(tuple)) {
    const sep = key.indexOf(':', 2);
    const entry = snap.values[key.slice(2, sep) as StoredKind]?.get(key.slice(sep + 1));
    if (!entry) continue;
    entry.count += count;
    if (entry.last < time) entry.last = time;
  }
  return snap;
}

function fromFlat(flat: readonly string[], prev: string | false | null): UserSnapshot {
  const pairs: [string, string][] = [];
  let tk: string | undefined;
  let tl: string | undefined;
  let tc: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!;
    const v = flat[i + 1]!;
    if (k === 'tk') tk = v;
    else if (k === 'tl') tl = v;
    else if (k === 'tc') tc = v;
    else pairs.push([k, v]);
  }
  return applyPending(userSnapshotFromHash(pairs, prev), tk, tl, tc);
}

function emptyBaseline(): UserSnapshot {
  return { first_seen: 0, events: 0, values: emptyBaselineValues() };
}

/**
 * The baseline after one event, from the baseline before it (observe-user-1.lua's rules applied to this process's
 * copy): evicted values go, learnt values are counted and seen at the event's time. Maps that change are copied.
 */
function applyEvent(prev: UserSnapshot, o: UserObservation, n: number, evicted: readonly string[], previous: string | false | null): UserSnapshot {
  const values = { ...prev.values };
  const own = new Set<StoredKind>();
  const edit = (kind: StoredKind): Map<string, BaselineValue> => {
    if (!own.has(kind)) {
      values[kind] = new Map(values[kind]);
      own.add(kind);
    }
    return values[kind];
  };
  for (const key of evicted) {
    const sep = key.indexOf(':', 2);
    edit(key.slice(2, sep) as StoredKind).delete(key.slice(sep + 1));
  }
  if (o.learn) {
    for (const { kind, value } of o.values) {
      const entry = values[kind].get(value);
      edit(kind).set(value, entry ? { first: Math.min(entry.first, o.time), last: Math.max(entry.last, o.time), count: entry.count + 1 } : { first: o.time, last: o.time, count: 1 });
    }
  }
  const snap: UserSnapshot = { first_seen: prev.first_seen === 0 || o.time < prev.first_seen ? o.time : prev.first_seen, events: n, values };
  const loc = parseLocation(previous);
  if (loc) snap.previous_location = loc;
  return snap;
}

interface Cached {
  n: number;
  snap: UserSnapshot;
}

export interface RedisBaselineStoreOptions {
  /** users whose latest baseline this process keeps, so events that learn nothing new need no read (0: none) */
  cacheUsers?: number;
}

export class RedisBaselineStore implements BaselineStore {
  readonly #cacheSize: number;
  #cache = new Map<string, Cached>();
  #older = new Map<string, Cached>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly stats = { full: 0, derived: 0 };

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly limits: BaselineLimits = DEFAULT_BASELINE_LIMITS,
    opts: RedisBaselineStoreOptions = {},
  ) {
    defineScripts(redis);
    this.#cacheSize = opts.cacheUsers ?? 20_000;
  }

  #cached(user: string): Cached | undefined {
    const hit = this.#cache.get(user);
    if (hit !== undefined) return hit;
    const old = this.#older.get(user);
    if (old !== undefined) this.#remember(user, old);
    return old;
  }

  #remember(user: string, c: Cached): void {
    if (this.#cacheSize === 0) return;
    const cur = this.#cache.get(user) ?? this.#older.get(user);
    if (cur !== undefined && cur.n > c.n) return;
    if (this.#cache.size >= this.#cacheSize / 2 && !this.#cache.has(user)) {
      this.#older = this.#cache;
      this.#cache = new Map();
    }
    this.#cache.set(user, c);
  }

  /**
   * Batches run one after another in this process: each is sent with the counts the previous one left, and finds
   * the copies it derives from in place (concurrent batches would all guess from the same stale copies).
   */
  observe(observations: readonly UserObservation[]): Promise<UserSnapshot[]> {
    const run = this.#queue.then(() => this.#observe(observations));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #observe(observations: readonly UserObservation[]): Promise<UserSnapshot[]> {
    if (observations.length === 0) return [];
    const step = Math.floor((this.limits.ttlSeconds * 1000) / 64);
    // As in RedisWindowStore: the count each event expects, from this process's copy (0: no baseline yet).
    const predicted = new Map<string, number>();
    const bases: (UserSnapshot | undefined)[] = [];
    const argsList = observations.map((o) => {
      let known = predicted.get(o.user);
      if (known === undefined) {
        const c = this.#cached(o.user);
        known = c?.n ?? 0;
        bases.push(c?.snap);
      } else {
        bases.push(undefined);
      }
      predicted.set(o.user, known + 1);
      let tuple = '';
      if (o.learn) for (const v of o.values) tuple += frame(`v:${v.kind}:${v.value}`);
      return [this.keys.userBaseline(o.user), o.time, this.limits.ttlSeconds, this.limits.valuesPerKind, o.learn ? 1 : 0, locationArg(o), tuple, step, known];
    });
    const replies = await runScripts(this.redis, 'observe-user', argsList);
    const current = new Map<string, Cached>();
    const out = observations.map((o, i) => {
      const [prev, n, evicted, flat] = replies[i] as [string | null, number, string[], string[]?];
      let snap: UserSnapshot;
      if (flat !== undefined) {
        snap = fromFlat(flat, prev);
        this.stats.full++;
      } else {
        const had = current.get(o.user)?.snap ?? bases[i] ?? emptyBaseline();
        snap = applyEvent(had, o, n, evicted, prev);
        this.stats.derived++;
      }
      current.set(o.user, { n, snap });
      return snap;
    });
    for (const [user, c] of current) this.#remember(user, c);
    return out;
  }

  async close(): Promise<void> {}
}
