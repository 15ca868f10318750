// Incident storage: one incident per (rule, tenant, session) while it stays open; later detections fold
// into it. Two implementations (Redis, memory) behind one interface and one contract test suite.
import { dedupKey, incidentId, severityRank, type Detection, type Incident, type IncidentStatus, type ResponseRecord, type Severity, type StatusChange } from './model.js';

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

/** Rebuilds an Incident from the stored hash (same field names in both stores). */
export const MAX_STATUS_HISTORY = 50;

export function incidentFromHash(h: Record<string, string>, eventIds: string[], history?: string[]): Incident {
  const base = JSON.parse(h.base ?? '{}') as IncidentBase;
  const iso = (ms: string | undefined) => new Date(Number(ms ?? 0)).toISOString();
  const incident: Incident = {
    id: base.id,
    dedup_key: base.dedup_key,
    rule: base.rule,
    severity: (h.sev ?? 'info') as Severity,
    mitre: base.mitre,
    status: (h.status ?? 'open') as IncidentStatus,
    session: base.session,
    tenant: base.tenant,
    first_seen: iso(h.first),
    last_seen: iso(h.last),
    count: Number(h.count ?? 0),
    suppressed: Number(h.supp ?? 0),
    action: base.action,
    monitor: h.mon === '1',
    event_ids: eventIds,
    evidence: JSON.parse(h.evidence ?? '{}') as Incident['evidence'],
    created_at: iso(h.created),
    updated_at: iso(h.updated),
  };
  if (base.user !== undefined) incident.user = base.user;
  if (history) incident.history = history.map((e) => JSON.parse(e) as StatusChange);
  if (h.resp) incident.response = JSON.parse(h.resp) as ResponseRecord;
  return incident;
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
