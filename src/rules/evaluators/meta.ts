// The facts a window keeps with a value (JSON written once, on first sight: src/pipeline/observations.ts), parsed
// once per distinct string rather than once per rule per event: a session's first user agent is read by the
// client rules on every event. Parsed objects are shared and frozen; never mutate them.
const cache = new Map<string, object | undefined>();
const MAX = 20_000;

/** The meta as an object, or undefined when it is not a JSON object (empty, or a plain string like an AS org). */
export function parsedMeta<T>(raw: string): Readonly<Partial<T>> | undefined {
  if (!raw.startsWith('{')) return undefined;
  let v = cache.get(raw);
  if (v === undefined && !cache.has(raw)) {
    try {
      v = Object.freeze(JSON.parse(raw) as object);
    } catch {
      v = undefined;
    }
    if (cache.size >= MAX) cache.clear();
    cache.set(raw, v);
  }
  return v as Readonly<Partial<T>> | undefined;
}

/** The network class stored with a network value on first sight (NetworkMeta.nc), if any. */
export function networkClassOf(meta: string): string | undefined {
  return parsedMeta<{ nc: string }>(meta)?.nc;
}
