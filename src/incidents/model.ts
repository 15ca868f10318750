// The incident: what a detection becomes after `decide`. Everything downstream (API, SIEM formatters,
// revocation) reads this shape, so it carries no raw session id, only the session HMAC.
import { createHash } from 'node:crypto';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** One distinct value a session was seen with (a network, an ASN, a browser, ...). */
export interface EvidenceValue {
  value: string;
  first_seen: string;
  last_seen: string;
  /** for networks: the first address seen in it (an IPv6 network is a /64), where it is and whose */
  ip?: string;
  country?: string;
  city?: string;
  asn?: number;
  as_org?: string;
  lat?: number;
  lon?: number;
  /** for user agents: the parsed form */
  browser?: string;
  os?: string;
  device?: string;
  is_script?: boolean;
}

export interface Evidence {
  /** why the rule fired, in words an analyst can read */
  reason: string;
  /** distinct values per field, as the session window held them when the rule fired */
  fields: Record<string, EvidenceValue[]>;
  /** IPs involved (for SIEM related.ip); at most a handful */
  ips: string[];
  /** the raw user agents involved */
  user_agents: string[];
  /** the address of the event that triggered the rule */
  trigger_ip?: string;
  /** rule-specific facts (speed in km/h, time since logout, ...) */
  details?: Record<string, string | number | boolean>;
}

export interface Detection {
  rule: { id: string; title: string; version: number };
  severity: Severity;
  mitre: string[];
  session: string;
  user?: string;
  tenant: string;
  /** event time of the triggering event, epoch ms */
  time: number;
  event_id: string;
  evidence: Evidence;
  /** what the rule asks for: alert, or revoke in shadow or enforce mode */
  action: IncidentAction;
  /** recorded for review, never acted on: the rule's action is monitor, or the user has no established baseline yet */
  monitor: boolean;
  /** hits within this long of the last emitted one are counted, not emitted again (0: no cooldown) */
  cooldown_ms: number;
}

export type IncidentAction = 'alert' | 'revoke:shadow' | 'revoke:enforce';

export interface Incident {
  id: string;
  dedup_key: string;
  rule: { id: string; title: string; version: number };
  severity: Severity;
  mitre: string[];
  status: IncidentStatus;
  session: string;
  user?: string;
  tenant: string;
  first_seen: string;
  last_seen: string;
  /** how many distinct triggering events this incident has absorbed */
  count: number;
  /** of those, how many fell inside the rule's cooldown and were not emitted again */
  suppressed: number;
  action: IncidentAction;
  monitor: boolean;
  /** ids of the events that triggered it (most recent last, capped) */
  event_ids: string[];
  evidence: Evidence;
  created_at: string;
  updated_at: string;
  /** status changes, oldest first (on reads by id and lists; not on the hot path's write results) */
  history?: StatusChange[];
  /** what the response step decided for this incident (revocation policy) */
  response?: ResponseRecord;
}

export interface StatusChange {
  status: IncidentStatus;
  note?: string;
  /** the API token's name, or "cli" */
  by: string;
  at: string;
}

export interface ResponseRecord {
  decision: 'none' | 'shadow' | 'enforce' | 'held' | 'manual';
  why: string;
  revocation_id?: string;
  at: string;
}

/** One incident per (rule, tenant, session) while it stays open. */
export function dedupKey(ruleId: string, tenant: string, session: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${tenant}\u0000${session}`).digest('hex').slice(0, 32);
}

/**
 * Deterministic id: the same events replayed give the same incident id (scan twice, or scan vs service).
 * The triggering event id is part of it so a closed-then-reopened incident gets a new id.
 */
export function incidentId(key: string, firstEventId: string): string {
  return 'inc_' + createHash('sha256').update(`${key}\u0000${firstEventId}`).digest('hex').slice(0, 24);
}

/**
 * `new Date(ms).toISOString()`, remembered per time in a small direct-mapped table (a slot is overwritten by the next
 * time that lands in it): evidence and incidents format the same few times hit after hit (a session's values keep
 * their first and last sight; an incident's creation and latest hit), and formatting was most of their cost.
 */
const ISO_SLOTS = 4096;
const isoTimes = new Float64Array(ISO_SLOTS).fill(NaN);
const isoTexts: string[] = new Array<string>(ISO_SLOTS).fill('');

export function isoTime(ms: number): string {
  const slot = ms & (ISO_SLOTS - 1);
  if (isoTimes[slot] === ms) return isoTexts[slot]!;
  const text = new Date(ms).toISOString();
  isoTimes[slot] = ms;
  isoTexts[slot] = text;
  return text;
}
