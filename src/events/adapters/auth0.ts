// Auth0 tenant log events, in any of the three shapes Auth0 ships them:
// - Management API GET /api/v2/logs: the event itself ({date, type, log_id|_id, ...});
// - log streams (custom webhook, Datadog, Splunk...): {log_id, data: {...event}};
// - Amazon EventBridge: {detail: {data: {...event}}, source: "aws.partner/auth0.com/<tenant>-<uuid>/auth0.logs"}.
//
// Session identity. Auth0 writes the session id (the `auth0` session cookie's id) in `details.session_id` on
// the events the Authentication API serves inside a session (s, ssa, slo, some failures). Management API
// operations (sapi/fapi) run on a Management API access token instead; when there is no session id, the token's
// `jti` (details.request.auth.credentials.jti) is the identity of that dashboard/API session, prefixed `jti:`.
import type { EventType, Signal } from '../schema.js';
import { finish, firstText, get, guard, isObj, own, parseIp, parseTime, safeDetect, skip, text } from './common.js';
import type { Adapter, AdapterOptions, AdapterResult } from './types.js';

export type Auth0Options = AdapterOptions;

/**
 * Type codes from Auth0's "Log Event Type Codes" reference. Codes not listed (signup, email/password changes,
 * MFA enrolment, connector health, rate-limit notices, client-credentials exchanges) are skipped as irrelevant.
 */
const TYPES: Readonly<Record<string, EventType>> = {
  s: 'login', // Success Login
  scoa: 'login', // Success cross-origin authentication
  sens: 'login', // Native Social Login
  ssa: 'request', // Success Silent Auth: the session cookie was presented and accepted
  sapi: 'request', // Success API Operation (Management API)
  fapi: 'request', // Failed API Operation: the token was still used
  gd_auth_succeed: 'request', // MFA success inside a login flow
  gd_recovery_succeed: 'request',
  sertft: 'refresh', // Success Exchange: Refresh Token for Access Token
  slo: 'logout', // Success Logout
  // Rotating refresh token reused: Auth0's reuse detection revokes the whole token family.
  ferrt: 'revoke',
  srrt: 'revoke', // Success Revocation of a refresh token
  f: 'login_failed',
  fp: 'login_failed',
  fu: 'login_failed',
  fc: 'login_failed',
  fco: 'login_failed',
  fcoa: 'login_failed',
  fens: 'login_failed',
  fsa: 'login_failed', // Failed Silent Auth: the session cookie was refused
  feacft: 'login_failed',
  fepft: 'login_failed',
  feoobft: 'login_failed',
  feotpft: 'login_failed',
  fercft: 'login_failed',
  fertft: 'login_failed',
  fede: 'login_failed',
  gd_auth_failed: 'login_failed',
  gd_auth_rejected: 'login_failed',
  gd_otp_rate_limit_exceed: 'login_failed',
  gd_recovery_failed: 'login_failed',
  gd_recovery_rate_limit_exceed: 'login_failed',
  limit_wc: 'login_failed', // Blocked Account: logged on the attempt that was blocked
  pwd_leak: 'login_failed', // Breached password: the login attempt was blocked
};

/**
 * What Auth0 itself concluded. `ferrt`: a rotated-out refresh token came back, so two parties hold the token family;
 * Auth0 revokes it (type `revoke`) and the reuse is a signal rules can match on its own.
 */
const SIGNALS_BY_CODE: Readonly<Record<string, Signal[]>> = {
  ferrt: ['token_reuse'],
};

/** `finish()` (common.ts) takes no signals; these are members of SIGNALS, so adding them keeps the schema's proof. */
function withSignals(result: AdapterResult, signals: Signal[] | undefined): AdapterResult {
  return result.ok && signals ? { ok: true, event: { ...result.event, signals } } : result;
}

/** The event object out of whichever envelope it came in. */
function unwrap(record: unknown): unknown {
  const detailData = get(record, 'detail', 'data');
  if (isObj(detailData)) return detailData;
  const data = own(record, 'data');
  if (isObj(data) && typeof own(data, 'type') === 'string') return data;
  return record;
}

/** "aws.partner/auth0.com/acme-4f1c.../auth0.logs" → "acme" (the tenant name precedes the event-source uuid). */
function eventBridgeTenant(record: unknown): string | undefined {
  const source = text(own(record, 'source'));
  const m = source ? /^aws\.partner\/auth0\.com\/(.+?)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\//i.exec(source) : null;
  return m?.[1];
}

function convert(record: unknown, opts: Auth0Options = {}): AdapterResult {
  if (!isObj(record)) return skip('unrecognized_record', 'an Auth0 log event is a JSON object');
  const ev = unwrap(record);
  const code = text(own(ev, 'type'));
  if (code === undefined) return skip('unrecognized_record', 'no type code');
  const type = Object.prototype.hasOwnProperty.call(TYPES, code) ? TYPES[code] : undefined;
  if (type === undefined) return skip('irrelevant_event_type', `Auth0 type "${code.slice(0, 40)}" is not a session event`);

  const time = parseTime(own(ev, 'date') ?? own(record, 'p_event_time'), { assumeUtc: true });
  if (!time.ok) return skip(time.skip, time.message);

  const ip = parseIp(own(ev, 'ip') ?? get(ev, 'details', 'request', 'ip'));
  if (!ip.ok) return skip(ip.skip, ip.message);

  const sessionId = firstText(get(ev, 'details', 'session_id'), own(ev, 'session_id'), get(ev, 'details', 'session', 'id'));
  const jti = text(get(ev, 'details', 'request', 'auth', 'credentials', 'jti'));
  const session = sessionId ?? (jti && `jti:${jti}`);
  if (!session) return skip('no_session', `no session_id or token jti on Auth0 "${code}"`);

  const signals = Object.prototype.hasOwnProperty.call(SIGNALS_BY_CODE, code) ? SIGNALS_BY_CODE[code] : undefined;
  const result = finish(
    {
      id: firstText(own(ev, 'log_id'), own(ev, '_id'), own(record, 'log_id'), own(record, '_id')),
      time: time.time,
      type,
      session_id: session,
      // user_id is the stable Auth0 identity; failed logins of unknown users only have the typed user_name.
      user_id: firstText(own(ev, 'user_id'), own(ev, 'user_name'), get(ev, 'details', 'request', 'auth', 'user', 'user_id')),
      ip: ip.ip,
      user_agent: firstText(own(ev, 'user_agent'), get(ev, 'details', 'request', 'userAgent')),
      // A session cookie belongs to one Auth0 domain, so the tenant (or its domain) is the session namespace.
      tenant: firstText(own(ev, 'tenant_name'), own(record, 'tenant_name'), eventBridgeTenant(record), own(ev, 'hostname')),
      app: firstText(own(ev, 'client_id')),
    },
    opts.defaultTenant,
  );
  return withSignals(result, signals);
}

function looksLikeEvent(ev: unknown): boolean {
  if (!isObj(ev)) return false;
  const type = own(ev, 'type');
  if (typeof type !== 'string' || !/^[a-z][a-z0-9_]{0,39}$/.test(type)) return false;
  return own(ev, 'date') !== undefined && (own(ev, 'log_id') !== undefined || own(ev, '_id') !== undefined || own(ev, 'client_id') !== undefined || own(ev, 'ip') !== undefined);
}

export const auth0Adapter: Adapter<Auth0Options> = {
  name: 'auth0',
  detect: (record) =>
    safeDetect(() => {
      if (!isObj(record)) return false;
      if (own(record, 'p_log_type') === 'Auth0.Events') return true;
      return looksLikeEvent(get(record, 'detail', 'data')) || looksLikeEvent(own(record, 'data')) || looksLikeEvent(record);
    }),
  convert: (record, opts) => guard(() => convert(record, opts)),
};
