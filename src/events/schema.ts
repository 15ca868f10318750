// The canonical event: the one contract every source (HTTP, queue, file, vendor adapter) produces.
// Raw session ids exist only in `CanonicalEventInput`; `normalize()` replaces them with a keyed HMAC
// before the event goes anywhere else (see src/events/normalize.ts).
import { isIP } from 'node:net';
import { canonicalIp } from '../enrich/network.js';
import { z } from 'zod';

export const EVENT_TYPES = ['login', 'request', 'refresh', 'rotate', 'logout', 'revoke', 'login_failed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Types that end a session: later use of the session is itself a signal. */
export const ENDING_TYPES: ReadonlySet<EventType> = new Set(['logout', 'revoke', 'rotate']);

/** Source-reported signals an adapter can attach to an event. */
export const SIGNALS = ['token_reuse', 'session_hijack_suspected', 'proxy', 'mfa_bypass_suspected'] as const;
export type Signal = (typeof SIGNALS)[number];

export const LIMITS = {
  id: 256,
  sessionId: 4096,
  userId: 512,
  tenant: 128,
  userAgent: 2048,
  deviceId: 256,
  app: 256,
} as const;

// 2000-01-01 .. 2100-01-01: anything outside is a unit mistake (seconds for ms) or garbage.
const MIN_TIME_MS = 946_684_800_000;
const MAX_TIME_MS = 4_102_444_800_000;

/** Epoch milliseconds of a canonical time (RFC 3339 text or epoch ms), or which rule it breaks. */
export function canonicalTime(value: string | number): number | 'unparseable' | 'out_of_range' {
  const ms = typeof value === 'number' ? value : parseRfc3339(value);
  if (ms === undefined || !Number.isFinite(ms)) return 'unparseable';
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) return 'out_of_range';
  return Math.trunc(ms);
}

const timeSchema = z.union([z.string().max(64), z.number()]).transform((value, ctx) => {
  const ms = canonicalTime(value);
  if (ms === 'unparseable') {
    ctx.addIssue({ code: 'custom', message: 'time must be RFC 3339 with a time zone, or epoch milliseconds' });
    return z.NEVER;
  }
  if (ms === 'out_of_range') {
    ctx.addIssue({ code: 'custom', message: 'time is outside 2000..2100 (epoch seconds given instead of milliseconds?)' });
    return z.NEVER;
  }
  return ms;
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(value.replace(' ', 'T'));
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls impossible dates over (Feb 30 → Mar 1, 24:00 → next day); RFC 3339 makes them invalid.
  const [y, mo, d, h, mi, s] = value.slice(0, 19).split(/[-T tT:]/).map(Number) as [number, number, number, number, number, number];
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || probe.getUTCHours() !== h || probe.getUTCMinutes() !== mi || probe.getUTCSeconds() !== s) return undefined;
  return ms;
}

/** The one spelling of an event's address, or undefined when it is not an IPv4 or IPv6 address. */
export function canonicalEventIp(value: string): string | undefined {
  // Strip an IPv6 zone id and IPv4-mapped prefix so one address has one spelling.
  let ip = value.trim();
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  if (isIP(ip) === 0) return undefined;
  // One spelling per address (IPv4-mapped → IPv4, IPv6 compressed lower-case), so re-sends dedup.
  return canonicalIp(ip) ?? ip.toLowerCase();
}

const ipSchema = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    const ip = canonicalEventIp(value);
    if (ip === undefined) {
      ctx.addIssue({ code: 'custom', message: 'ip is not an IPv4 or IPv6 address' });
      return z.NEVER;
    }
    return ip;
  });

const text = (max: number) => z.string().min(1).max(max);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Session ids are hashed as UTF-8, where lone surrogates all become U+FFFD: refuse them rather than merge ids. */
const sessionIdText = text(LIMITS.sessionId).refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone surrogates)');

export const canonicalEventSchema = z
  .object({
    id: text(LIMITS.id).optional(),
    time: timeSchema,
    type: z.enum(EVENT_TYPES),
    session_id: sessionIdText,
    new_session_id: sessionIdText.optional(),
    user_id: text(LIMITS.userId).optional(),
    ip: ipSchema,
    user_agent: z.string().max(LIMITS.userAgent).optional(),
    tenant: text(LIMITS.tenant).optional(),
    device_id: text(LIMITS.deviceId).optional(),
    app: text(LIMITS.app).optional(),
    // Source-given enrichment wins over our lookups (the IdP often knows better).
    asn: z.number().int().min(0).max(4_294_967_295).optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'country must be an ISO 3166-1 alpha-2 code')
      .transform((c) => c.toUpperCase())
      .optional(),
    is_proxy: z.boolean().optional(),
    // What the source itself concluded about this event (e.g. the IdP saw a rotated refresh token come
    // back): deterministic signals that rules can match with `where: {signals: token_reuse}`.
    signals: z.array(z.enum(SIGNALS)).max(8).optional(),
  })
  .superRefine((event, ctx) => {
    if (event.type === 'rotate' && !event.new_session_id) {
      ctx.addIssue({ code: 'custom', path: ['new_session_id'], message: 'a rotate event needs new_session_id' });
    }
  });

export type CanonicalEventInput = z.input<typeof canonicalEventSchema>;
export type CanonicalEvent = z.output<typeof canonicalEventSchema>;

/** An event after normalize(): session ids are HMACs, time is epoch ms, id is always present. */
export interface AuthEvent {
  id: string;
  time: number;
  type: EventType;
  /** hex HMAC-SHA256(key, tenant + ":" + session_id) */
  session: string;
  new_session?: string;
  user?: string;
  tenant: string;
  ip: string;
  user_agent?: string;
  device_id?: string;
  app?: string;
  asn?: number;
  country?: string;
  is_proxy?: boolean;
  signals?: Signal[];
}

export interface GeoInfo {
  country?: string;
  region?: string;
  city?: string;
  lat?: number;
  lon?: number;
  /** radius in km within which the location is believed to lie */
  accuracy_km?: number;
}

export interface UserAgentInfo {
  /** browser or client family, e.g. "Chrome", "curl", "python-requests"; "unknown" when absent */
  browser: string;
  browser_major?: string;
  os: string;
  /** "desktop" | "mobile" | "tablet" | "bot" | "unknown" ... */
  device: string;
  /** a script, CLI tool, HTTP library or headless browser rather than a person's browser */
  is_script: boolean;
}

/** What enrich() adds. Every field the rules can count lives here or on AuthEvent. */
export interface EnrichedEvent extends AuthEvent {
  geo: GeoInfo;
  as?: { number: number; org?: string };
  /** network identity: the IPv4 address itself, or the /64 of an IPv6 address */
  network: string;
  ua: UserAgentInfo;
  /** hosting, anonymizer, tor, relay, vpn, satellite, mobile, corporate: from rules/lists (src/rules/lists.ts) */
  net_class?: string;
}
