// OCSF 1.3.0 Detection Finding (class 2004), shared/reference/siem-formats.md §4. Every attribute the 1.3.0
// schema requires is always present (with a fallback value if the incident lacks it): a strict validator
// rejects the whole record over one missing attribute, which would lose the incident.
import type { Incident } from '../../incidents/model.js';
import { ATTACK_VERSION, type MitreRef } from './mitre.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { SEVERITY_TABLE } from './severity.js';
import { viewIncident, type IncidentView } from './view.js';

export const OCSF_VERSION = '1.3.0';
export const OCSF_CATEGORY_UID = 2;
export const OCSF_CLASS_UID = 2004;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ACTIVITIES = { 1: 'Create', 2: 'Update', 3: 'Close' } as const;
type ActivityId = keyof typeof ACTIVITIES;

// OCSF 1.3.0 finding status enum. A false positive is a resolved finding; the detail says which kind.
const STATUSES: Record<string, { id: number; caption: string; detail?: string }> = {
  open: { id: 1, caption: 'New' },
  acknowledged: { id: 2, caption: 'In Progress' },
  resolved: { id: 4, caption: 'Resolved' },
  false_positive: { id: 4, caption: 'Resolved', detail: 'false_positive' },
};

// OCSF email_t is ASCII-only; a mailbox that fails it stays in user.name rather than failing validation.
const OCSF_EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const OCSF_IP_MAX = 40;

/**
 * Create for a fresh incident, Update once it has absorbed more events or changed state, Close when it is
 * resolved; a SIEM can then fold the stream of findings for one incident uid into its current state.
 */
function activityId(view: IncidentView): ActivityId {
  if (view.status === 'resolved' || view.status === 'false_positive') return 3;
  if (view.count > 1) return 2;
  if (view.updatedMs !== undefined && view.createdMs !== undefined && view.updatedMs > view.createdMs) return 2;
  return 1;
}

function attacks(mitre: MitreRef[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const m of mitre) {
    const technique: JsonObject | undefined = m.technique ? { uid: m.technique.id } : undefined;
    if (technique && m.technique?.name) technique.name = m.technique.name;
    if (technique && m.technique?.reference) technique.src_url = m.technique.reference;
    let sub: JsonObject | undefined;
    if (m.subtechnique) {
      sub = { uid: m.subtechnique.id };
      if (m.subtechnique.name) sub.name = m.subtechnique.name;
      if (m.subtechnique.reference) sub.src_url = m.subtechnique.reference;
    }
    // attack.tactic is singular (tactics[] is deprecated since 1.1), so a technique with two tactics
    // becomes two attack objects.
    const tactics = m.tactics.length > 0 ? m.tactics : [undefined];
    for (const t of tactics) {
      const a: JsonObject = { version: ATTACK_VERSION };
      if (t) a.tactic = t.name !== '' ? { uid: t.id, name: t.name } : { uid: t.id };
      if (technique) a.technique = technique;
      if (sub) a.sub_technique = sub;
      out.push(a);
    }
  }
  return out;
}

export function ocsfFindingFromView(view: IncidentView, o: ResolvedOptions): JsonObject {
  const sev = SEVERITY_TABLE[view.severity];
  const activity = activityId(view);
  const status = STATUSES[view.status];
  const uid = view.id !== '' ? view.id : view.dedupKey !== '' ? view.dedupKey : 'unknown';

  const finding: JsonObject = {
    activity_id: activity,
    activity_name: ACTIVITIES[activity],
    category_uid: OCSF_CATEGORY_UID,
    category_name: 'Findings',
    class_uid: OCSF_CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: OCSF_CLASS_UID * 100 + activity,
    type_name: `Detection Finding: ${ACTIVITIES[activity]}`,
    time: view.timeMs,
    severity_id: sev.ocsfId,
    severity: sev.ocsfCaption,
    status_id: status?.id ?? 0,
    status: status?.caption ?? 'Unknown',
  };
  if (status?.detail) finding.status_detail = status.detail;
  finding.message = view.message;
  finding.count = view.count;
  if (view.firstSeenMs !== undefined) finding.start_time = view.firstSeenMs;
  if (view.lastSeenMs !== undefined) finding.end_time = view.lastSeenMs;

  const product: JsonObject = { name: o.product, vendor_name: o.vendor, version: o.version };
  finding.metadata = { version: OCSF_VERSION, uid, product };

  const info: JsonObject = {
    uid,
    title: view.ruleTitle !== '' ? view.ruleTitle : view.ruleId !== '' ? view.ruleId : view.message,
    desc: view.message,
  };
  if (view.ruleId !== '') info.types = [view.ruleId];
  if (view.createdMs !== undefined) info.created_time = view.createdMs;
  if (view.updatedMs !== undefined) info.modified_time = view.updatedMs;
  if (view.firstSeenMs !== undefined) info.first_seen_time = view.firstSeenMs;
  if (view.lastSeenMs !== undefined) info.last_seen_time = view.lastSeenMs;
  const analytic: JsonObject = { uid: view.ruleId, name: view.ruleTitle, type_id: 1, type: 'Rule' };
  if (view.ruleVersion !== '') analytic.version = view.ruleVersion;
  info.analytic = analytic;
  const atk = attacks(view.mitre);
  if (atk.length > 0) info.attacks = atk;
  finding.finding_info = info;

  const email = view.user !== '' && OCSF_EMAIL.test(view.user) && view.user.length <= 254;
  const user: JsonObject | undefined =
    view.user === '' ? undefined : email ? { name: view.user, email_addr: view.user } : { name: view.user };
  const data: JsonObject = {};
  if (view.session !== '') data.session_hash = view.session;
  if (view.userAgent !== undefined) data.user_agent = view.userAgent;

  const evidences: JsonObject[] = [];
  const observables: JsonObject[] = [];
  for (const s of view.sources) {
    const ev: JsonObject = {};
    const evData: JsonObject = { ...data };
    if (s.ip !== undefined && s.ip.length <= OCSF_IP_MAX) {
      const endpoint: JsonObject = { ip: s.ip };
      const location: JsonObject = {};
      if (s.country) location.country = s.country;
      if (s.city) location.city = s.city;
      if (s.lat !== undefined && s.lon !== undefined && Object.keys(location).length > 0) {
        location.coordinates = [s.lon, s.lat];
      }
      // location's constraint needs city or country; coordinates alone would fail validation.
      if (Object.keys(location).length > 0) endpoint.location = location;
      const as: JsonObject = {};
      if (s.asn !== undefined) as.number = s.asn;
      if (s.asOrg) as.name = s.asOrg;
      if (Object.keys(as).length > 0) endpoint.autonomous_system = as;
      ev.src_endpoint = endpoint;
      observables.push({ name: 'evidences.src_endpoint.ip', type_id: 2, type: 'IP Address', value: s.ip });
    } else {
      // Not an ip_t: kept as data so nothing is lost and the record still validates.
      evData.source_address = s.value;
    }
    if (user) ev.user = user;
    if (Object.keys(evData).length > 0) ev.data = evData;
    if (Object.keys(ev).length > 0) evidences.push(ev);
  }
  if (evidences.length === 0 && (user || Object.keys(data).length > 0)) {
    const ev: JsonObject = {};
    if (user) ev.user = user;
    if (Object.keys(data).length > 0) ev.data = data;
    evidences.push(ev);
  }
  if (user) {
    observables.push(
      email
        ? { name: 'evidences.user.email_addr', type_id: 5, type: 'Email Address', value: view.user }
        : { name: 'evidences.user.name', type_id: 4, type: 'User Name', value: view.user },
    );
  }
  const countries = [...new Set(view.sources.flatMap((s) => (s.ip && s.ip.length <= OCSF_IP_MAX && s.country ? [s.country] : [])))];
  for (const c of countries) {
    observables.push({ name: 'evidences.src_endpoint.location.country', type_id: 14, type: 'Country', value: c });
  }
  if (evidences.length > 0) finding.evidences = evidences;
  if (observables.length > 0) finding.observables = observables;

  const unmapped: JsonObject = { session_hash: view.session, tenant: view.tenant, event_ids: view.eventIds };
  if (view.status !== '' && status === undefined) unmapped.status = view.status;
  if (view.dedupKey !== '') unmapped.dedup_key = view.dedupKey;
  if (view.userAgents.length > 1) unmapped.user_agents = view.userAgents;
  // fromEntries defines own properties, so a detail named __proto__ stays data instead of a prototype.
  if (view.details.length > 0) unmapped.details = Object.fromEntries(view.details);
  finding.unmapped = unmapped;
  return finding;
}

export function ocsfFinding(incident: Incident, opts?: FormatterOptions): JsonObject {
  const o = resolveOptions(opts);
  return ocsfFindingFromView(viewIncident(incident, o.clock), o);
}

/** One compact JSON object, no trailing newline. */
export function formatOcsf(incident: Incident, opts?: FormatterOptions): string {
  return JSON.stringify(ocsfFinding(incident, opts));
}
