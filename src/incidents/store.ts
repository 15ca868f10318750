// Incident storage: one incident per (rule, tenant, session) while it stays open; later detections fold
// into it. Two implementations (Redis, memory) behind one interface and one contract test suite.
import { dedupKey, incidentId, isoTime, severityRank, type Detection, type Evidence, type Incident, type IncidentStatus, type ResponseRecord, type Severity, type StatusChange } from './model.js';

export type RecordOutcome = 'created' | 'updated' | 'suppressed' | 'unchanged';

export interface RecordResult {
  incident: Incident;
  outcome: RecordOutcome;
}

export interface IncidentQuery {
  rule?: string;
  severity?: Severity;
  /** at least this severity */
  min_severity?: Severity;
  status?: IncidentStatus;
  user?: string;
  session?: string;
  tenant?: string;
  /** incidents active at or after this time (last_seen >= since), epoch ms */
  since?: number;
  /** incidents that began at or before this time (first_seen <= until), epoch ms */
  until?: number;
  limit?: number;
  cursor?: string;
}

export interface IncidentPage {
  items: Incident[];
  next_cursor?: string;
}

export interface IncidentStore {
  readonly kind: 'redis' | 'memory';
  record(detection: Detection): Promise<RecordResult>;
  /** Records detections in the order given, with the same answers as record() one after another, in fewer round trips. */
  recordMany?(detections: readonly Detection[]): Promise<RecordResult[]>;
  /** Changes the status; resolving closes the incident (a new hit opens a new one). */
  setStatus(id: string, change: StatusChange): Promise<Incident | undefined>;
  /** Records the response decision on the incident. */
  setResponse(id: string, response: ResponseRecord): Promise<void>;
  get(id: string): Promise<Incident | undefined>;
  list(query: IncidentQuery): Promise<IncidentPage>;
  close(): Promise<void>;
}

/** The fields of an incident that never change after creation. */
export interface IncidentBase {
  id: string;
  action: Incident['action'];
  dedup_key: string;
  rule: Incident['rule'];
  mitre: string[];
  session: string;
  tenant: string;
  user?: string;
}

export const MAX_INCIDENT_EVENT_IDS = 50;

export function baseOf(d: Detection, id: string, key: string): IncidentBase {
  const base: IncidentBase = { id, action: d.action, dedup_key: key, rule: d.rule, mitre: d.mitre, session: d.session, tenant: d.tenant };
  if (d.user !== undefined) base.user = d.user;
  return base;
}

export function keyAndNewId(d: Detection): { key: string; newId: string } {
  const key = dedupKey(d.rule.id, d.tenant, d.session);
  return { key, newId: incidentId(key, d.event_id) };
}

export const MAX_STATUS_HISTORY = 50;

/** An incident's changing fields, typed, under the names record-incident-4.lua gives them in its hash. */
export interface IncidentFields {
  base: IncidentBase;
  sev: Severity;
  status: IncidentStatus;
  first: number;
  last: number;
  count: number;
  supp: number;
  mon: boolean;
  evidence: Evidence;
  created: number;
  updated: number;
  /** the response record as JSON (read back as a fresh copy) */
  resp?: string;
}

/** The Incident of stored fields: one builder for both stores, so both give the same object, key for key. */
export function incidentFrom(f: IncidentFields, eventIds: string[], history?: string[]): Incident {
  const base = f.base;
  const incident: Incident = {
    id: base.id,
    dedup_key: base.dedup_key,
    rule: base.rule,
    severity: f.sev,
    mitre: base.mitre,
    status: f.status,
    session: base.session,
    tenant: base.tenant,
    first_seen: isoTime(f.first),
    last_seen: isoTime(f.last),
    count: f.count,
    suppressed: f.supp,
    action: base.action,
    monitor: f.mon,
    event_ids: eventIds,
    evidence: f.evidence,
    created_at: isoTime(f.created),
    updated_at: isoTime(f.updated),
  };
  if (base.user !== undefined) incident.user = base.user;
  if (history) incident.history = history.map((e) => JSON.parse(e) as StatusChange);
  if (f.resp) incident.response = JSON.parse(f.resp) as ResponseRecord;
  return incident;
}

/** Rebuilds an Incident from Redis's hash of strings. */
export function incidentFromHash(h: Record<string, string>, eventIds: string[], history?: string[]): Incident {
  const fields: IncidentFields = {
    base: JSON.parse(h.base ?? '{}') as IncidentBase,
    sev: (h.sev ?? 'info') as Severity,
    status: (h.status ?? 'open') as IncidentStatus,
    first: Number(h.first ?? 0),
    last: Number(h.last ?? 0),
    count: Number(h.count ?? 0),
    supp: Number(h.supp ?? 0),
    mon: h.mon === '1',
    evidence: JSON.parse(h.evidence ?? '{}') as Evidence,
    created: Number(h.created ?? 0),
    updated: Number(h.updated ?? 0),
  };
  if (h.resp) fields.resp = h.resp;
  return incidentFrom(fields, eventIds, history);
}

export function matchesQuery(i: Incident, q: IncidentQuery): boolean {
  if (q.rule !== undefined && i.rule.id !== q.rule) return false;
  if (q.severity !== undefined && i.severity !== q.severity) return false;
  if (q.min_severity !== undefined && severityRank(i.severity) < severityRank(q.min_severity)) return false;
  if (q.status !== undefined && i.status !== q.status) return false;
  if (q.user !== undefined && i.user !== q.user) return false;
  if (q.session !== undefined && i.session !== q.session) return false;
  if (q.tenant !== undefined && i.tenant !== q.tenant) return false;
  if (q.since !== undefined && Date.parse(i.last_seen) < q.since) return false;
  if (q.until !== undefined && Date.parse(i.first_seen) > q.until) return false;
  return true;
}

/** Cursor: position in the index (created time, id), newest first; opaque to clients. */
export function encodeCursor(created: number, id: string): string {
  return Buffer.from(`${created}:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { created: number; id: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d+):(inc_[a-f0-9]{24})$/.exec(text);
  return m ? { created: Number(m[1]), id: m[2]! } : undefined;
}

export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
}

export function severityArgs(s: Severity): [Severity, number] {
  return [s, severityRank(s)];
}
