// ECS 9.5 alert document (shared/reference/siem-formats.md §3). Field order follows the reference vector so a
// diff against it reads naturally; JSON consumers do not care about order.
import type { Incident } from '../../incidents/model.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { SEVERITY_TABLE } from './severity.js';
import { looksLikeEmail } from './text.js';
import { iso, mitreSummary, parseTime, viewIncident, type EvidenceValueView, type IncidentView } from './view.js';

export const ECS_VERSION = '9.5.0';
/**
 * Custom namespace for what ECS has no field for. Capitalised because ECS never uses capitals, so it cannot
 * collide with a future ECS field (ECS custom-field guidance); fixed, not derived from the producer name, so
 * index templates and dashboards survive a rename of the deployment.
 */
export const ECS_CUSTOM_NAMESPACE = 'ReplayGuard';
/** event.dataset; also the middle part of the default data stream `logs-replayguard.alerts-default`. */
export const ECS_DATASET = 'replayguard.alerts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function sources(view: IncidentView): JsonObject[] {
  return view.sources.map((s) => {
    // `ip` only for valid literals: a template that maps it as `ip` would reject the whole document otherwise.
    const o: JsonObject = s.ip !== undefined ? { ip: s.ip } : { address: s.value };
    if (s.country) o.country_iso_code = s.country;
    if (s.city) o.city_name = s.city;
    if (s.asn !== undefined) o.as_number = s.asn;
    if (s.asOrg) o.as_organization_name = s.asOrg;
    return o;
  });
}

/** Times normalised to ISO or dropped, so a dynamic `date` mapping never meets a value it cannot parse. */
function evidenceValue(v: EvidenceValueView): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(v)) {
    if (value === undefined) continue;
    if (key === 'first_seen' || key === 'last_seen') {
      const ms = parseTime(value);
      if (ms !== undefined) out[key] = iso(ms);
    } else out[key] = value as Json;
  }
  return out;
}

function threat(view: IncidentView): JsonObject | undefined {
  if (view.mitre.length === 0) return undefined;
  const { techniques, subtechniques, tactics } = mitreSummary(view.mitre);
  const out: JsonObject = { framework: 'MITRE ATT&CK' };
  // ECS keeps id/name/reference as parallel keyword arrays; names and links exist only for ids we know, so
  // those arrays can be shorter than `id` (ECS itself gives no alignment guarantee for flattened arrays).
  if (tactics.length > 0) {
    out.tactic = {
      id: tactics.map((t) => t.id),
      name: tactics.map((t) => t.name).filter((n) => n !== ''),
      reference: tactics.map((t) => t.reference),
    };
  }
  if (techniques.length > 0) {
    const technique: JsonObject = {
      id: techniques.map((t) => t.id),
      name: techniques.flatMap((t) => (t.name ? [t.name] : [])),
      reference: techniques.flatMap((t) => (t.reference ? [t.reference] : [])),
    };
    if (subtechniques.length > 0) {
      technique.subtechnique = {
        id: subtechniques.map((t) => t.id),
        name: subtechniques.flatMap((t) => (t.name ? [t.name] : [])),
        reference: subtechniques.flatMap((t) => (t.reference ? [t.reference] : [])),
      };
    }
    out.technique = technique;
  }
  return out;
}

function source(view: IncidentView): JsonObject | undefined {
  const p = view.primary;
  if (!p?.ip) return undefined;
  const out: JsonObject = { ip: p.ip };
  const geo: JsonObject = {};
  if (p.country) geo.country_iso_code = p.country;
  if (p.city) geo.city_name = p.city;
  if (p.lat !== undefined && p.lon !== undefined) geo.location = { lat: p.lat, lon: p.lon };
  if (Object.keys(geo).length > 0) out.geo = geo;
  const as: JsonObject = {};
  if (p.asn !== undefined) as.number = p.asn;
  if (p.asOrg) as.organization = { name: p.asOrg };
  if (Object.keys(as).length > 0) out.as = as;
  return out;
}

export function ecsDocumentFromView(view: IncidentView, o: ResolvedOptions): JsonObject {
  const sev = SEVERITY_TABLE[view.severity];
  const event: JsonObject = {
    kind: 'alert',
    // session/info is an expected ECS pair; `threat` is reserved for indicator documents.
    category: ['session'],
    type: ['info'],
    action: view.ruleId,
    severity: sev.ecs,
    risk_score: sev.ecs,
    id: view.id,
  };
  if (view.createdMs !== undefined) event.created = iso(view.createdMs);
  if (view.firstSeenMs !== undefined) event.start = iso(view.firstSeenMs);
  if (view.lastSeenMs !== undefined) event.end = iso(view.lastSeenMs);
  event.dataset = ECS_DATASET;
  event.module = 'replayguard';
  event.provider = 'replayguard';

  const rule: JsonObject = { id: view.ruleId, name: view.ruleTitle };
  if (view.ruleVersion !== '') rule.version = view.ruleVersion;
  rule.category = 'session';

  const doc: JsonObject = {
    '@timestamp': iso(view.timeMs),
    ecs: { version: ECS_VERSION },
    message: view.message,
    event,
    rule,
  };
  const t = threat(view);
  if (t) doc.threat = t;
  const src = source(view);
  if (src) doc.source = src;
  if (view.user !== '') {
    doc.user = looksLikeEmail(view.user) ? { name: view.user, email: view.user } : { name: view.user };
  }
  if (view.userAgent !== undefined) doc.user_agent = { original: view.userAgent };
  const related: JsonObject = {};
  if (view.ips.length > 0) related.ip = view.ips;
  if (view.user !== '') related.user = [view.user];
  // The session HMAC is a hash in ECS's sense; related.hash makes it pivotable with the other hash fields.
  if (view.session !== '') related.hash = [view.session];
  if (Object.keys(related).length > 0) doc.related = related;

  const observer: JsonObject = { vendor: o.vendor, product: o.product, version: o.version, type: 'detector' };
  if (o.hostname !== undefined) observer.hostname = o.hostname;
  doc.observer = observer;
  if (view.tenant !== '') doc.organization = { id: view.tenant };
  if (view.session !== '') doc.labels = { session_hash: view.session };

  const session: JsonObject = { hash: view.session, countries: view.countries, sources: sources(view) };
  if (view.userAgents.length > 0) session.user_agents = view.userAgents;
  const incident: JsonObject = {
    status: view.status,
    count: view.count,
    event_ids: view.eventIds,
  };
  if (view.updatedMs !== undefined) incident.updated = iso(view.updatedMs);
  if (view.dedupKey !== '') incident.dedup_key = view.dedupKey;
  const evidence: JsonObject = {
    reason: view.reason,
    // Arrays of fixed-shape objects, not objects keyed by field or detail name: arbitrary keys from rules
    // would each become a mapping in Elasticsearch (mapping explosion).
    details: view.details.map(([name, value]) => ({ name, value: String(value) })),
    fields: view.fields.map((f) => ({ name: f.name, values: f.values.map(evidenceValue) })),
  };
  doc[ECS_CUSTOM_NAMESPACE] = { session, incident, evidence };
  return doc;
}

export function ecsDocument(incident: Incident, opts?: FormatterOptions): JsonObject {
  const o = resolveOptions(opts);
  return ecsDocumentFromView(viewIncident(incident, o.clock), o);
}

/** One compact JSON document, no trailing newline. */
export function formatEcs(incident: Incident, opts?: FormatterOptions): string {
  return JSON.stringify(ecsDocument(incident, opts));
}
