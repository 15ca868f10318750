// Splunk HTTP Event Collector envelope for /services/collector/event (shared/reference/siem-formats.md §5).
import type { Incident } from '../../incidents/model.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { iso, mitreSummary, viewIncident, type IncidentView } from './view.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface HecEnvelope {
  /** epoch seconds, fractional for milliseconds */
  time: number;
  host?: string | undefined;
  source?: string | undefined;
  sourcetype?: string | undefined;
  index?: string | undefined;
  event: JsonObject;
  /** indexed fields: HEC rejects anything but strings and arrays of strings (code 15) */
  fields?: Record<string, string | string[]> | undefined;
}

/** The envelope as one JSON object, keys in HEC's documented order, no trailing newline. */
export function formatHecEnvelope(envelope: HecEnvelope): string {
  const out: JsonObject = { time: envelope.time };
  if (envelope.host !== undefined) out.host = envelope.host;
  if (envelope.source !== undefined) out.source = envelope.source;
  if (envelope.sourcetype !== undefined) out.sourcetype = envelope.sourcetype;
  if (envelope.index !== undefined) out.index = envelope.index;
  out.event = envelope.event;
  if (envelope.fields !== undefined && Object.keys(envelope.fields).length > 0) out.fields = envelope.fields;
  return JSON.stringify(out);
}

/** HEC batches are concatenated objects, not a JSON array (a newline between them is also accepted). */
export function hecBatch(records: Iterable<string>): string {
  return [...records].join('');
}

export function hecEventFromView(view: IncidentView): JsonObject {
  const { tactics } = mitreSummary(view.mitre);
  const event: JsonObject = {
    incident_id: view.id,
    rule_id: view.ruleId,
    rule_name: view.ruleTitle,
    rule_version: view.ruleVersion,
    severity: view.severity,
    status: view.status,
    session_hash: view.session,
    user: view.user,
    tenant: view.tenant,
  };
  if (view.primary?.ip) event.src_ip = view.primary.ip;
  event.src_ips = view.sources.map((s) => s.ip ?? s.value);
  event.src_countries = view.countries;
  if (view.userAgent !== undefined) event.user_agent = view.userAgent;
  if (view.userAgents.length > 1) event.user_agents = view.userAgents;
  // Always an array (Splunk multivalue) so the field keeps one type whether a rule cites one technique or three.
  event.mitre_technique = view.mitre.map((m) => m.raw);
  event.mitre_tactic = tactics.map((t) => t.id);
  event.count = view.count;
  if (view.firstSeenMs !== undefined) event.first_seen = iso(view.firstSeenMs);
  if (view.lastSeenMs !== undefined) event.last_seen = iso(view.lastSeenMs);
  event.timestamp = iso(view.timeMs);
  event.reason = view.reason;
  event.event_ids = view.eventIds;
  if (view.details.length > 0) event.details = Object.fromEntries(view.details);
  return event;
}

export function hecEnvelopeFromView(view: IncidentView, o: ResolvedOptions): HecEnvelope {
  // Indexed fields cost index space on every event, so only the low-cardinality pivots analysts filter on.
  const fields: Record<string, string | string[]> = {};
  if (view.ruleId !== '') fields.rule_id = view.ruleId;
  fields.severity = view.severity;
  if (view.mitre.length > 0) fields.mitre_technique = view.mitre.map((m) => m.raw);
  if (view.ips.length > 0) fields.src_ip = view.ips;
  if (view.tenant !== '') fields.tenant = view.tenant;
  return {
    time: view.timeMs / 1000,
    host: o.hostname,
    source: o.hecSource,
    sourcetype: o.hecSourcetype,
    index: o.hecIndex,
    event: hecEventFromView(view),
    fields,
  };
}

/** One HEC event envelope (JSON, no trailing newline); batch with hecBatch(). */
export function formatHec(incident: Incident, opts?: FormatterOptions): string {
  const o = resolveOptions(opts);
  return formatHecEnvelope(hecEnvelopeFromView(viewIncident(incident, o.clock), o));
}
