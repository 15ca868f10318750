// Elastic Common Schema documents: an `_source`, a whole search hit ({_id, _source}), or NDJSON from Filebeat /
// Elastic Agent. Field names are ECS dotted names, nested or flattened.
//
// Session identity: ECS defines no web-session field, so the session is read from a configurable field,
// `session.id` by default (replayguard's documented default, see docs/sources.md). Set `sessionField` for data that
// keeps it elsewhere, e.g. `okta.authentication_context.external_session_id` or
// `azure.signinlogs.properties.session_id`.
import type { EventType } from '../schema.js';
import { countryCode, finish, firstText, getDotted, guard, isObj, own, parseIp, parseTime, safeDetect, skip, text, toInt } from './common.js';
import type { Adapter, AdapterOptions, AdapterResult } from './types.js';

export const DEFAULT_ECS_SESSION_FIELD = 'session.id';

export interface EcsOptions extends AdapterOptions {
  /** Dotted field holding the session id. Default `session.id`. */
  sessionField?: string;
}

function values(v: unknown): string[] {
  if (typeof v === 'string') return [v.toLowerCase()];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase());
  return [];
}

/** From ECS categorisation fields (event.category / event.type / event.outcome); anything else is a request. */
function typeOf(doc: unknown): EventType {
  const category = values(getDotted(doc, 'event.category'));
  const kinds = values(getDotted(doc, 'event.type'));
  const outcome = text(getDotted(doc, 'event.outcome'))?.toLowerCase();
  if (category.includes('authentication')) {
    if (outcome === 'failure') return 'login_failed';
    if (kinds.includes('end')) return 'logout';
    return 'login';
  }
  if (category.includes('session')) {
    if (kinds.includes('end')) return 'logout';
    if (kinds.includes('start')) return outcome === 'failure' ? 'login_failed' : 'login';
  }
  return 'request';
}

function convert(record: unknown, opts: EcsOptions = {}): AdapterResult {
  if (!isObj(record)) return skip('unrecognized_record', 'an ECS document is a JSON object');
  const source = own(record, '_source');
  const doc = isObj(source) ? source : record;

  const time = parseTime(getDotted(doc, '@timestamp'), { assumeUtc: true, allowEpoch: true });
  if (!time.ok) return skip(time.skip, time.message);

  const ip = parseIp(getDotted(doc, 'source.ip') ?? getDotted(doc, 'client.ip'));
  if (!ip.ok) return skip(ip.skip, ip.message);

  const field = opts.sessionField ?? DEFAULT_ECS_SESSION_FIELD;
  const session = text(getDotted(doc, field));
  if (!session) return skip('no_session', `no session in ${field.slice(0, 100)}`);

  return finish(
    {
      id: firstText(getDotted(doc, 'event.id'), isObj(source) ? own(record, '_id') : undefined),
      time: time.time,
      type: typeOf(doc),
      session_id: session,
      user_id: firstText(getDotted(doc, 'user.name'), getDotted(doc, 'user.email'), getDotted(doc, 'user.id')),
      ip: ip.ip,
      user_agent: text(getDotted(doc, 'user_agent.original')),
      tenant: text(getDotted(doc, 'organization.id')),
      device_id: text(getDotted(doc, 'device.id')),
      app: text(getDotted(doc, 'service.name')),
      asn: toInt(getDotted(doc, 'source.as.number')),
      country: countryCode(getDotted(doc, 'source.geo.country_iso_code')),
    },
    opts.defaultTenant,
  );
}

function looksEcs(doc: unknown): boolean {
  if (!isObj(doc) || getDotted(doc, '@timestamp') === undefined) return false;
  return ['ecs.version', 'source.ip', 'client.ip', 'user_agent.original', 'event.category', 'event.kind', 'event.action'].some(
    (f) => getDotted(doc, f) !== undefined,
  );
}

export const ecsAdapter: Adapter<EcsOptions> = {
  name: 'ecs',
  detect: (record) => safeDetect(() => looksEcs(record) || looksEcs(own(record, '_source'))),
  convert: (record, opts) => guard(() => convert(record, opts)),
};
