// Okta System Log (System Log API /api/v1/logs, Event Hooks, or a SIEM export of either).
//
// Session identity. Okta writes two identifiers that matter for replay:
// - authenticationContext.externalSessionId: Okta's id for the session itself (the `sid` cookie). A stolen
//   session cookie replays exactly this id, so it is the session key by default. It changes at sign-in: events of
//   the sign-in flow carry the pre-authentication (`idx...`) id and later events the post-login id
//   (elastic/detection-rules#3506), so a login and the requests after it are usually two different sessions here.
// - debugContext.debugData.dtHash: a hash of the `DT` device-token cookie, one per browser profile, surviving
//   across sessions. A full cookie-jar theft carries it to the attacker's browser; OAuth grant flows mint extra
//   hashes (elastic/detection-rules#5947). It is always exported as `device_id`, and is the session key only when
//   no external session id exists (mode `auto`) or when asked for (mode `dtHash`, Splunk-style grouping of
//   policy.evaluate_sign_on by device token). Keys made from it are prefixed `dt:` so they never collide with ids.
import type { EventType, Signal } from '../schema.js';
import {
  countryCode,
  finish,
  firstText,
  get,
  guard,
  isObj,
  own,
  parseIp,
  parseTime,
  safeDetect,
  skip,
  text,
  toBool,
  toInt,
} from './common.js';
import type { Adapter, AdapterOptions, AdapterResult } from './types.js';

export interface OktaOptions extends AdapterOptions {
  /** Which identifier becomes session_id (see the header). Default `auto`. */
  session?: 'auto' | 'externalSessionId' | 'dtHash';
}

const FAILED = new Set(['FAILURE', 'DENY']);

/** Okta's own notices (rate limits, ThreatInsight, org settings): not a client using a session. */
const IRRELEVANT_PREFIXES = ['system.', 'security.', 'application.integration.'];

type Mapping = { type: EventType; signals?: Signal[] } | { skip: 'irrelevant_event_type' | 'not_user_activity'; why: string };

function classify(eventType: string, failed: boolean, actorType: string | undefined): Mapping {
  if (eventType === 'user.session.start') return { type: failed ? 'login_failed' : 'login' };
  if (eventType === 'user.session.end' || eventType === 'user.session.expire') return { type: 'logout' };
  // Okta writes the lock on the sign-in attempt that exceeded the limit.
  if (eventType === 'user.account.lock') return { type: 'login_failed' };
  // Okta revokes the whole refresh-token family when a rotated token comes back; the session is over. The
  // reuse itself is Okta's own verdict that two parties hold the token, so it travels as a signal rules can match.
  if (eventType === 'app.oauth2.token.detect_reuse' || eventType === 'app.oauth2.as.token.detect_reuse') {
    return { type: 'revoke', signals: ['token_reuse'] };
  }
  if (/^app\.oauth2(\.as)?\.token\.grant\.refresh_token$/.test(eventType)) return { type: failed ? 'login_failed' : 'refresh' };
  if (
    eventType.startsWith('user.authentication.') ||
    eventType === 'policy.evaluate_sign_on' ||
    eventType.startsWith('app.oauth2.') ||
    eventType === 'user.session.access_admin_app' ||
    eventType === 'user.session.context.change'
  ) {
    return { type: failed ? 'login_failed' : 'request' };
  }
  if (IRRELEVANT_PREFIXES.some((p) => eventType.startsWith(p))) {
    return { skip: 'irrelevant_event_type', why: `${eventType} is an Okta system notice` };
  }
  // Anything else a person did (admin changes, MFA enrolment, app access) happened inside their session, and
  // stolen admin sessions are exactly how such changes get made, so it counts as a use of that session.
  if (actorType?.toLowerCase() === 'user') return { type: 'request' };
  return { skip: 'not_user_activity', why: `${eventType} by actor type ${actorType ?? 'none'}` };
}

/** `finish()` (common.ts) takes no signals; these are members of SIGNALS, so adding them keeps the schema's proof. */
function withSignals(result: AdapterResult, signals: Signal[] | undefined): AdapterResult {
  return result.ok && signals ? { ok: true, event: { ...result.event, signals } } : result;
}

function userOf(record: unknown): string | undefined {
  const actor = own(record, 'actor');
  if (text(own(actor, 'type'))?.toLowerCase() === 'user') {
    const id = firstText(own(actor, 'alternateId'));
    if (id !== undefined) return id;
  }
  const targets = own(record, 'target');
  if (Array.isArray(targets)) {
    for (const t of targets) {
      if (text(own(t, 'type'))?.toLowerCase() === 'user') {
        const id = firstText(own(t, 'alternateId'));
        if (id !== undefined) return id;
      }
    }
  }
  return undefined;
}

function appOf(record: unknown): string | undefined {
  const targets = own(record, 'target');
  if (!Array.isArray(targets)) return undefined;
  for (const t of targets) {
    if (text(own(t, 'type')) === 'AppInstance') return firstText(own(t, 'alternateId'), own(t, 'displayName'));
  }
  return undefined;
}

/**
 * Whether the record carries the id of a session Okta had already issued. Okta attaches the external session id
 * from the `sid` cookie the client sent, so such a record proves the cookie was presented, whatever the outcome.
 * Sign-in flows before a session exists carry a placeholder (`unknown`) or an Identity Engine pre-authentication
 * id (`idx…`), which prove nothing about an issued session.
 */
function presentsIssuedSession(external: string | undefined): boolean {
  return external !== undefined && !/^idx/i.test(external);
}

/**
 * Okta's own servers acting on a user's behalf (Admin Console operations relayed internally, integrations)
 * are logged with `Okta-Integrations` as the user agent and an Okta (AWS) address: neither is the user's client,
 * so the record says nothing about where the session is being used (Okta support article "Okta-Integrations
 * showing as rawUserAgent with Okta IPs"; Panther's Okta.PotentiallyStolenSession ignores them too).
 */
const OKTA_OWN_CLIENT = /^okta-integrations$/i;

function convert(record: unknown, opts: OktaOptions = {}): AdapterResult {
  if (!isObj(record)) return skip('unrecognized_record', 'an Okta event is a JSON object');
  const eventType = text(own(record, 'eventType'));
  if (eventType === undefined) return skip('unrecognized_record', 'no eventType');
  const outcome = text(get(record, 'outcome', 'result'))?.toUpperCase();
  const external = text(get(record, 'authenticationContext', 'externalSessionId'));
  const mapping = classify(eventType, outcome !== undefined && FAILED.has(outcome), text(get(record, 'actor', 'type')));
  if ('skip' in mapping) return skip(mapping.skip, mapping.why);
  // A failed verification that presented an issued session (a wrong MFA answer on a step-up, a denied sign-on
  // policy, a failed re-authentication) is still a use of that session: whoever holds the cookie presented it from
  // that address and client. Only failures before any session exists are failed sign-ins, which rules set apart.
  if (mapping.type === 'login_failed' && presentsIssuedSession(external)) mapping.type = 'request';
  const rawUa = text(get(record, 'client', 'userAgent', 'rawUserAgent'));
  if (rawUa !== undefined && OKTA_OWN_CLIENT.test(rawUa)) {
    return skip('service_source_ip', `${eventType} was performed by Okta's own servers (user agent ${rawUa}), not the user's client`);
  }

  // `published` is always UTC in Okta; Panther keeps its own copy in p_event_time when published is redacted.
  const publishedRaw = own(record, 'published');
  const time = parseTime(publishedRaw ?? own(record, 'p_event_time'), { assumeUtc: true });
  if (!time.ok) return skip(time.skip, time.message);

  const ip = parseIp(get(record, 'client', 'ipAddress'));
  if (!ip.ok) return skip(ip.skip, ip.message);

  const dtHash = text(get(record, 'debugContext', 'debugData', 'dtHash'));
  const mode = opts.session ?? 'auto';
  const sessionId =
    mode === 'dtHash'
      ? dtHash && `dt:${dtHash}`
      : mode === 'externalSessionId'
        ? external
        : (external ?? (dtHash && `dt:${dtHash}`));
  if (!sessionId) {
    return skip('no_session', `no ${mode === 'dtHash' ? 'dtHash' : 'externalSessionId or dtHash'} on ${eventType}`);
  }

  const result = finish(
    {
      id: text(own(record, 'uuid')),
      time: time.time,
      type: mapping.type,
      session_id: sessionId,
      user_id: userOf(record),
      ip: ip.ip,
      user_agent: rawUa,
      device_id: dtHash,
      app: appOf(record),
      asn: toInt(get(record, 'securityContext', 'asNumber')),
      is_proxy: toBool(get(record, 'securityContext', 'isProxy')),
      country: countryCode(get(record, 'client', 'geographicalContext', 'country')),
    },
    opts.defaultTenant,
  );
  return withSignals(result, mapping.signals);
}

export const oktaAdapter: Adapter<OktaOptions> = {
  name: 'okta',
  detect: (record) =>
    safeDetect(() => {
      if (!isObj(record)) return false;
      if (own(record, 'p_log_type') === 'Okta.SystemLog') return true;
      if (typeof own(record, 'eventType') !== 'string') return false;
      return ['published', 'uuid', 'actor', 'legacyEventType', 'displayMessage', 'client', 'authenticationContext'].some(
        (k) => own(record, k) !== undefined,
      );
    }),
  convert: (record, opts) => guard(() => convert(record, opts)),
};
