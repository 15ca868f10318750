// Microsoft Entra ID sign-in logs, in both shapes:
// - Azure Monitor diagnostic settings (Event Hub / storage / Log Analytics export): {time, category, tenantId,
//   callerIpAddress, correlationId, resultType, properties: {...signIn}};
// - Microsoft Graph signIn resource (/auditLogs/signIns, v1.0 and beta): the signIn object itself.
//
// Session identity: `sessionId` only. Entra generates it at the interactive authentication and stamps it on every
// interactive and non-interactive sign-in that derives from it, which is exactly what a replayed session cookie or
// refresh token carries along. There is deliberately no fallback:
// - `correlationId` is the id of one client request flow (Graph: "the identifier the client sends when sign-in is
//   initiated"); a new one appears for every token request, so it would make one-event "sessions" that can never
//   show a replay, and it is client-chosen, so it is not evidence of anything.
// - `uniqueTokenIdentifier` names the one token this sign-in issued (the join key to Graph activity logs'
//   signInActivityId), also one per record. Records without sessionId (older exports) are skipped as no_session.
import type { EventType } from '../schema.js';
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

export type EntraOptions = AdapterOptions;

const USER_SIGNIN_CATEGORIES = new Set(['signinlogs', 'noninteractiveusersigninlogs']);
const NON_USER_SIGNIN_CATEGORIES = new Set([
  'serviceprincipalsigninlogs',
  'managedidentitysigninlogs',
  'adfssigninlogs',
]);

/** True when the record is the Azure Monitor envelope (properties hold the signIn). */
function isDiagnostic(record: unknown): boolean {
  return typeof own(record, 'category') === 'string' && isObj(own(record, 'properties'));
}

function isGraphSignIn(record: unknown): boolean {
  return (
    own(record, 'createdDateTime') !== undefined &&
    (own(record, 'userPrincipalName') !== undefined || own(record, 'appId') !== undefined) &&
    (own(record, 'status') !== undefined || own(record, 'ipAddress') !== undefined || own(record, 'isInteractive') !== undefined)
  );
}

/** Success unless a status says otherwise; trimmed exports often drop status from successful sign-ins. */
function failed(record: unknown, p: unknown): boolean {
  const code = get(p, 'status', 'errorCode');
  if (code !== undefined && code !== null) return String(code).trim() !== '0';
  const resultType = own(record, 'resultType');
  if (resultType !== undefined && resultType !== null && String(resultType).trim() !== '') {
    const r = String(resultType).trim().toLowerCase();
    return !(r === '0' || r === 'success');
  }
  const signature = text(own(record, 'resultSignature'))?.toLowerCase();
  return signature === 'failure';
}

type Kind = { interactive: boolean } | { skip: 'irrelevant_event_type' | 'not_user_activity'; why: string };

function kindOf(record: unknown, p: unknown, diagnostic: boolean): Kind {
  const eventTypes = own(p, 'signInEventTypes');
  const types = Array.isArray(eventTypes) ? eventTypes.filter((t): t is string => typeof t === 'string') : [];
  if (diagnostic) {
    const category = String(own(record, 'category')).toLowerCase();
    if (NON_USER_SIGNIN_CATEGORIES.has(category)) return { skip: 'not_user_activity', why: `${String(own(record, 'category'))} is not a user sign-in` };
    if (!USER_SIGNIN_CATEGORIES.has(category)) return { skip: 'irrelevant_event_type', why: `category ${String(own(record, 'category')).slice(0, 60)} is not a sign-in log` };
  }
  if (types.some((t) => t === 'servicePrincipal' || t === 'managedIdentity')) {
    return { skip: 'not_user_activity', why: `signInEventTypes ${types.join(',')}` };
  }
  // isInteractive is the property Entra documents as authoritative; the category or event types only fill in.
  const explicit = toBool(own(p, 'isInteractive'));
  if (explicit !== undefined) return { interactive: explicit };
  if (types.includes('nonInteractiveUser')) return { interactive: false };
  if (types.includes('interactiveUser')) return { interactive: true };
  if (diagnostic) return { interactive: String(own(record, 'category')).toLowerCase() === 'signinlogs' };
  return { interactive: true };
}

function convert(record: unknown, opts: EntraOptions = {}): AdapterResult {
  if (!isObj(record)) return skip('unrecognized_record', 'an Entra sign-in is a JSON object');
  const diagnostic = isDiagnostic(record);
  if (!diagnostic && !isGraphSignIn(record)) return skip('unrecognized_record', 'neither a diagnostic-settings record nor a Graph signIn');
  const p = diagnostic ? own(record, 'properties') : record;

  const kind = kindOf(record, p, diagnostic);
  if ('skip' in kind) return skip(kind.skip, kind.why);
  // Interactive: the user proved who they are. Non-interactive: a client redeemed a refresh token or PRT from an
  // existing session, i.e. a refresh. Any failure is a failed sign-in (interrupts such as MFA-required included).
  const type: EventType = failed(record, p) ? 'login_failed' : kind.interactive ? 'login' : 'refresh';

  // createdDateTime is when the sign-in started (UTC by definition); the envelope's `time` is when it was logged.
  const time = parseTime(own(p, 'createdDateTime') ?? own(record, 'time') ?? own(record, 'p_event_time'), { assumeUtc: true });
  if (!time.ok) return skip(time.skip, time.message);

  const ip = parseIp(own(p, 'ipAddress') ?? own(record, 'callerIpAddress'));
  if (!ip.ok) return skip(ip.skip, ip.message);

  const sessionId = text(own(p, 'sessionId'));
  if (!sessionId) return skip('no_session', 'sign-in has no sessionId');

  return finish(
    {
      id: firstText(own(p, 'id'), diagnostic ? own(record, 'id') : undefined),
      time: time.time,
      type,
      session_id: sessionId,
      user_id: firstText(own(p, 'userPrincipalName'), own(p, 'userId')),
      ip: ip.ip,
      user_agent: text(own(p, 'userAgent')),
      // The envelope's tenantId is the tenant whose log this is; Graph records only name the resource's tenant.
      tenant: firstText(diagnostic ? own(record, 'tenantId') : undefined, own(p, 'resourceTenantId'), own(p, 'tenantId')),
      device_id: text(get(p, 'deviceDetail', 'deviceId')),
      // appId, not the display name: Microsoft's first-party app ids are global constants, and they are what
      // exceptions for first-party background traffic (Teams, OneDrive sync, Outlook mobile) are written against.
      app: firstText(own(p, 'appId'), own(p, 'appDisplayName')),
      asn: toInt(own(p, 'autonomousSystemNumber')),
      country: countryCode(get(p, 'location', 'countryOrRegion')),
    },
    opts.defaultTenant,
  );
}

export const entraAdapter: Adapter<EntraOptions> = {
  name: 'entra',
  detect: (record) =>
    safeDetect(() => {
      if (!isObj(record)) return false;
      if (own(record, 'p_log_type') === 'Azure.Audit') return true;
      if (isDiagnostic(record)) {
        return ['operationName', 'tenantId', 'resourceId', 'callerIpAddress', 'time'].some((k) => own(record, k) !== undefined);
      }
      return isGraphSignIn(record);
    }),
  convert: (record, opts) => guard(() => convert(record, opts)),
};
