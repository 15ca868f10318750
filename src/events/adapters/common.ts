// Shared, defensive readers for vendor records. Vendor exports arrive re-serialised by SIEMs (Panther lower-cases
// some Okta keys and drops the "Z" from timestamps, Logstash renames eventTime to @timestamp), so every reader here
// tolerates key case, placeholders and wrong types, and none of them throws.
import { isIP } from 'node:net';
import { canonicalEventSchema, LIMITS, type CanonicalEventInput, type EventType } from '../schema.js';
import type { AdapterResult, SkipReason } from './types.js';

export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Own property by exact name, else by case-insensitive name. Only own properties: a record with no `toString`
 * key must not yield Object.prototype.toString, and a JSON `__proto__` key is just data.
 */
export function own(obj: unknown, key: string): unknown {
  if (!isObj(obj)) return undefined;
  if (hasOwn(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) {
    if (k.toLowerCase() === lower) return obj[k];
  }
  return undefined;
}

/** Walks a path of own properties (see `own`). */
export function get(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    cur = own(cur, key);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * Reads a dotted field the way Elasticsearch stores it: nested (`{"source":{"ip":..}}`), flattened
 * (`{"source.ip":..}`) or any mix of the two.
 */
export function getDotted(obj: unknown, dotted: string): unknown {
  if (!isObj(obj) || dotted === '') return undefined;
  const direct = own(obj, dotted);
  if (direct !== undefined) return direct;
  const parts = dotted.split('.');
  // Try every split point: "a.b.c" may be stored as a→b→c, "a.b"→c, a→"b.c".
  for (let i = 1; i < parts.length; i++) {
    const head = own(obj, parts.slice(0, i).join('.'));
    if (isObj(head)) {
      const found = getDotted(head, parts.slice(i).join('.'));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Values vendors and SIEMs write when they have nothing: never an identity. */
const PLACEHOLDERS = new Set(['', '-', 'unknown', 'null', 'undefined', 'none', 'n/a', 'redacted']);

/** A trimmed, non-placeholder string; numbers become strings (some exports type ids as numbers). */
export function text(value: unknown): string | undefined {
  let s: string;
  if (typeof value === 'string') s = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) s = String(value);
  else return undefined;
  return PLACEHOLDERS.has(s.toLowerCase()) ? undefined : s;
}

/** First non-placeholder text among candidates. */
export function firstText(...values: unknown[]): string | undefined {
  for (const v of values) {
    const t = text(v);
    if (t !== undefined) return t;
  }
  return undefined;
}

export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,10}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

/** ISO 3166-1 alpha-2 only: vendors that write country names ("United States") get no country at all. */
export function countryCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z]{2}$/.test(value.trim()) ? value.trim().toUpperCase() : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Time

const MIN_MS = 946_684_800_000; // 2000-01-01, as the canonical schema
const MAX_MS = 4_102_444_800_000; // 2100-01-01

const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,12}))?\s?(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;

export type TimeResult = { ok: true; time: string } | { ok: false; skip: 'missing_time' | 'invalid_time'; message: string };

export interface TimeOptions {
  /**
   * Treat a zone-less "YYYY-MM-DD hh:mm:ss[.f]" as UTC. Only for vendor fields that are UTC by definition
   * (Okta `published`, CloudTrail `eventTime`, Entra `createdDateTime`, Auth0 `date`, ECS `@timestamp`): SIEM
   * exports such as Panther's drop the "Z" but not the meaning.
   */
  assumeUtc?: boolean;
  /** Accept epoch numbers (ms, or s when the value only makes sense as seconds). */
  allowEpoch?: boolean;
}

function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms);
  // Date.UTC rolls 31 Feb into March; a real calendar date round-trips.
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t;
}

function parseOffsetMinutes(zone: string): number | undefined {
  if (/^(Z|z|UTC|GMT)$/.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? '0');
  if (hours > 23 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function inRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS;
}

/** Parses a vendor timestamp and returns it as an RFC 3339 UTC string with milliseconds. */
export function parseTime(value: unknown, opts: TimeOptions = {}): TimeResult {
  if (value === undefined || value === null || value === '') {
    return { ok: false, skip: 'missing_time', message: 'no timestamp' };
  }
  let ms: number | undefined;
  if (typeof value === 'number') {
    if (!opts.allowEpoch) return { ok: false, skip: 'invalid_time', message: 'numeric timestamp not accepted for this field' };
    ms = inRange(value) ? value : inRange(value * 1000) ? value * 1000 : undefined;
  } else if (typeof value === 'string') {
    const s = value.trim();
    if (s.length > 64) return { ok: false, skip: 'invalid_time', message: 'timestamp string too long' };
    if (opts.allowEpoch && /^\d{9,13}$/.test(s)) {
      const n = Number(s);
      ms = inRange(n) ? n : inRange(n * 1000) ? n * 1000 : undefined;
    } else {
      const m = ISO_LIKE.exec(s);
      if (m) {
        const zone = m[8];
        const offset = zone === undefined ? (opts.assumeUtc ? 0 : undefined) : parseOffsetMinutes(zone);
        const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
        const base = utcMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(frac));
        if (offset !== undefined && base !== undefined) ms = base - offset * 60_000;
        else if (zone === undefined && !opts.assumeUtc) {
          return { ok: false, skip: 'invalid_time', message: `timestamp has no time zone: ${s.slice(0, 40)}` };
        }
      }
    }
  } else {
    return { ok: false, skip: 'invalid_time', message: `timestamp is a ${Array.isArray(value) ? 'array' : typeof value}` };
  }
  if (ms === undefined || !inRange(ms)) {
    return { ok: false, skip: 'invalid_time', message: `unparseable or out-of-range timestamp: ${String(value).slice(0, 40)}` };
  }
  return { ok: true, time: new Date(ms).toISOString() };
}

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

/** Common Log Format time, "10/Oct/2000:13:55:36 -0700" (the zone is mandatory in CLF). */
export function parseClfTime(value: string): TimeResult {
  const m = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-]\d{4})$/.exec(value);
  const month = m ? MONTHS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || month === undefined) return { ok: false, skip: 'invalid_time', message: `not a CLF time: ${value.slice(0, 40)}` };
  const offset = parseOffsetMinutes(m[8] ?? '');
  const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  const base = utcMs(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), Number(frac));
  if (offset === undefined || base === undefined || !inRange(base - offset * 60_000)) {
    return { ok: false, skip: 'invalid_time', message: `invalid CLF time: ${value.slice(0, 40)}` };
  }
  return { ok: true, time: new Date(base - offset * 60_000).toISOString() };
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

export type IpResult = { ok: true; ip: string } | { ok: false; skip: 'missing_ip' | 'invalid_ip'; message: string };

/** Same normal form as the canonical schema, so adapters reject exactly what the schema would. */
export function parseIp(value: unknown): IpResult {
  const raw = typeof value === 'string' ? value.trim() : undefined;
  if (raw === undefined || raw === '') return { ok: false, skip: 'missing_ip', message: 'no client address' };
  if (raw.length > 64) return { ok: false, skip: 'invalid_ip', message: 'client address too long' };
  let ip = raw;
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip)) ip = ip.slice(7);
  if (isIP(ip) === 0) return { ok: false, skip: 'invalid_ip', message: `not an IP address: ${raw.slice(0, 64)}` };
  return { ok: true, ip: ip.toLowerCase() };
}

// ---------------------------------------------------------------------------------------------------------------
// Results

const MAX_SKIP_MESSAGE = 200;

/** Skip messages quote record fields for the operator; a record can hold anything, so they are bounded. */
export function skip(reason: SkipReason, message: string): AdapterResult {
  return { ok: false, skip: reason, message: message.length > MAX_SKIP_MESSAGE ? `${cutText(message, MAX_SKIP_MESSAGE)}…` : message };
}

/** Cuts to at most `max` UTF-16 units without leaving half of a surrogate pair at the end. */
export function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export interface Draft {
  id?: string | undefined;
  time: string;
  type: EventType;
  session_id: string;
  new_session_id?: string | undefined;
  user_id?: string | undefined;
  ip: string;
  user_agent?: string | undefined;
  tenant?: string | undefined;
  device_id?: string | undefined;
  app?: string | undefined;
  asn?: number | undefined;
  country?: string | undefined;
  is_proxy?: boolean | undefined;
}

const fits = (s: string | undefined, max: number): string | undefined => (s !== undefined && s.length <= max ? s : undefined);

/**
 * Assembles the canonical input and proves it against the schema, so a caller never receives an event that
 * normalize() would reject. Oversized optional labels are dropped rather than failing the event: a 3 KB user name
 * is garbage, but the session use it came with is still evidence. The user agent is cut, not dropped, because
 * its head (product/version) is what the enrichment reads.
 */
export function finish(draft: Draft, defaultTenant?: string): AdapterResult {
  const event: Record<string, unknown> = {};
  const put = (k: keyof CanonicalEventInput, v: unknown): void => {
    if (v !== undefined) event[k] = v;
  };
  put('id', fits(draft.id, LIMITS.id));
  put('time', draft.time);
  put('type', draft.type);
  put('session_id', draft.session_id);
  put('new_session_id', draft.new_session_id);
  put('user_id', fits(draft.user_id, LIMITS.userId));
  put('ip', draft.ip);
  put('user_agent', draft.user_agent === undefined ? undefined : cutText(draft.user_agent, LIMITS.userAgent));
  put('tenant', draft.tenant ?? text(defaultTenant));
  put('device_id', fits(draft.device_id, LIMITS.deviceId));
  put('app', fits(draft.app, LIMITS.app));
  put('asn', draft.asn);
  put('country', draft.country);
  put('is_proxy', draft.is_proxy);
  return validate(event);
}

/** The canonical schema as the final word: the event is returned as given (input form) only if it passes. */
export function validate(event: Record<string, unknown>): AdapterResult {
  const parsed = canonicalEventSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    return skip('invalid_event', `${where || 'event'}: ${issue?.message ?? 'invalid'}`);
  }
  return { ok: true, event: event as CanonicalEventInput };
}

/** Adapters never throw; this turns any surprise (a getter that throws, a stack overflow) into a counted skip. */
export function guard(fn: () => AdapterResult): AdapterResult {
  try {
    return fn();
  } catch (err) {
    const message = err instanceof Error ? err.message : 'non-error thrown';
    return skip('internal_error', `adapter failed: ${String(message).slice(0, 200)}`);
  }
}

/** Like `guard` for detect(): a record that makes detection throw is simply not this format. */
export function safeDetect(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}
