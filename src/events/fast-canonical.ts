// A hand-written check of a canonical event against canonicalEventSchema (src/events/schema.ts), for the hot path: zod
// was about 5% of a scan, and clean lines are nearly all of a scan's input. It only ever answers "clean: here is what
// the schema would give" or "not sure": anything unusual (a value past a limit in UTF-16 units, which zod counts in
// code points; a surrogate in a session id; a key present but undefined or inherited; an object that is not plain)
// goes to the schema, which accepts or rejects it with its own errors. So an answer here is the schema's answer: the
// same fields, the same values, in the schema's key order (test/property/fast-canonical.test.ts compares the two).
import { canonicalEventIp, canonicalTime, EVENT_TYPES, LIMITS, SIGNALS, type CanonicalEvent } from './schema.js';

const TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const SIGNAL_SET: ReadonlySet<unknown> = new Set(SIGNALS);
/** Any surrogate, paired or not: the schema refuses lone ones; paired ones are rare enough to leave to it. */
const SURROGATE = /[\uD800-\uDFFF]/;
const COUNTRY = /^[A-Za-z]{2}$/;
const hasOwn = Object.prototype.hasOwnProperty;

const UNSURE = Symbol('unsure');

/** The value of an own, defined key; undefined when absent; UNSURE when present but undefined, or inherited. */
function read(o: Record<string, unknown>, k: string): unknown {
  const v = o[k];
  if (v === undefined) return k in o ? UNSURE : undefined;
  return hasOwn.call(o, k) ? v : UNSURE;
}

const text = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/** Optional text fields, in the schema's order after `ip` and `user_agent`. */
const TRAILING_TEXT = [
  ['tenant', LIMITS.tenant],
  ['device_id', LIMITS.deviceId],
  ['app', LIMITS.app],
] as const;

/** What canonicalEventSchema.parse(input) returns, when the input is plainly clean; otherwise undefined. */
export function fastCanonical(input: unknown): CanonicalEvent | undefined {
  if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const o = input as Record<string, unknown>;
  // Built key by key in the schema's order, so the object is the schema's to the key order.
  const out: Record<string, unknown> = {};

  const id = read(o, 'id');
  if (id !== undefined) {
    if (!text(id, LIMITS.id)) return undefined;
    out.id = id;
  }
  const t = read(o, 'time');
  if (!(typeof t === 'number' ? Number.isFinite(t) : typeof t === 'string' && t.length <= 64)) return undefined;
  const time = canonicalTime(t as number | string);
  if (typeof time !== 'number') return undefined;
  out.time = time;
  const type = read(o, 'type');
  if (!TYPES.has(type)) return undefined;
  out.type = type;
  const sid = read(o, 'session_id');
  if (!text(sid, LIMITS.sessionId) || SURROGATE.test(sid)) return undefined;
  out.session_id = sid;
  const newSid = read(o, 'new_session_id');
  if (newSid !== undefined) {
    if (!text(newSid, LIMITS.sessionId) || SURROGATE.test(newSid)) return undefined;
    out.new_session_id = newSid;
  } else if (type === 'rotate') {
    return undefined;
  }
  const user = read(o, 'user_id');
  if (user !== undefined) {
    if (!text(user, LIMITS.userId)) return undefined;
    out.user_id = user;
  }
  const rawIp = read(o, 'ip');
  if (typeof rawIp !== 'string' || rawIp.length > 64) return undefined;
  const ip = canonicalEventIp(rawIp);
  if (ip === undefined) return undefined;
  out.ip = ip;
  const ua = read(o, 'user_agent');
  if (ua !== undefined) {
    if (typeof ua !== 'string' || ua.length > LIMITS.userAgent) return undefined;
    out.user_agent = ua;
  }
  for (const [k, max] of TRAILING_TEXT) {
    const v = read(o, k);
    if (v === undefined) continue;
    if (!text(v, max)) return undefined;
    out[k] = v;
  }
  const asn = read(o, 'asn');
  if (asn !== undefined) {
    if (typeof asn !== 'number' || !Number.isInteger(asn) || asn < 0 || asn > 4_294_967_295) return undefined;
    out.asn = asn;
  }
  const country = read(o, 'country');
  if (country !== undefined) {
    if (typeof country !== 'string' || !COUNTRY.test(country)) return undefined;
    out.country = country.toUpperCase();
  }
  const proxy = read(o, 'is_proxy');
  if (proxy !== undefined) {
    if (typeof proxy !== 'boolean') return undefined;
    out.is_proxy = proxy;
  }
  const signals = read(o, 'signals');
  if (signals !== undefined) {
    if (!Array.isArray(signals) || signals.length > 8) return undefined;
    const copy: unknown[] = [];
    for (let i = 0; i < signals.length; i++) {
      const s: unknown = signals[i];
      if (!SIGNAL_SET.has(s)) return undefined;
      copy.push(s);
    }
    out.signals = copy;
  }
  return out as CanonicalEvent;
}
