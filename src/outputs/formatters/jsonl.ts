// Our own incident JSON, one object per line: the lossless format (`replayguard scan --output jsonl`).
import type { Incident } from '../../incidents/model.js';
import { wellFormed } from './text.js';

/**
 * A deep copy that JSON can always serialise the same way: lone surrogates become U+FFFD (JSON.stringify would
 * emit `\udc00`, which strict UTF-8 consumers reject), non-finite numbers null, cycles and non-data values
 * dropped. Keys go through Object.fromEntries so `__proto__` stays an ordinary key.
 */
export function toJsonSafe(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => toJsonSafe(v, seen) ?? null);
    const entries: Array<[string, unknown]> = [];
    for (const [k, v] of Object.entries(value)) {
      const safe = toJsonSafe(v, seen);
      if (safe !== undefined) entries.push([wellFormed(k), safe]);
    }
    return Object.fromEntries(entries);
  } finally {
    seen.delete(value);
  }
}

/** The incident as one compact JSON object, no trailing newline. */
export function formatJsonl(incident: Incident): string {
  return JSON.stringify(toJsonSafe(incident) ?? null);
}
