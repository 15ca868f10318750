// The facts a window keeps with a value (JSON written once, on first sight: src/pipeline/observations.ts), parsed
// once per distinct string rather than once per rule per event: a session's first user agent is read by the
// client rules on every event. Parsed objects are shared and frozen; never mutate them.
// Two generations (as hashlru): a full current generation becomes the older one and a hit there is promoted, so the
// metas of busy sessions stay parsed when the cache turns over (clearing it all re-parsed them every 20,000 misses).
let cache = new Map<string, object | null>();
let older = new Map<string, object | null>();
const GENERATION = 20_000;

/** The meta as an object, or undefined when it is not a JSON object (empty, or a plain string like an AS org). */
export function parsedMeta<T>(raw: string): Readonly<Partial<T>> | undefined {
  if (!raw.startsWith('{')) return undefined;
  let v = cache.get(raw);
  if (v === undefined) {
    v = older.get(raw);
    if (v === undefined) {
      try {
        v = Object.freeze(JSON.parse(raw) as object);
      } catch {
        v = null;
      }
    }
    if (cache.size >= GENERATION) {
      older = cache;
      cache = new Map();
    }
    cache.set(raw, v);
  }
  return (v ?? undefined) as Readonly<Partial<T>> | undefined;
}

/** The network class stored with a network value on first sight (NetworkMeta.nc), if any. */
export function networkClassOf(meta: string): string | undefined {
  return parsedMeta<{ nc: string }>(meta)?.nc;
}
