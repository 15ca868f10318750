// One normalised reading of an Incident shared by every formatter, so that "which IP is the source", "which
// countries", "what time is it" get the same answer in CEF as in OCSF. It is also the only place that touches
// raw incident values: everything after it works on cleaned, well-formed strings.
import type { Incident, Severity } from '../../incidents/model.js';
import { expandMitre, type MitreRef } from './mitre.js';
import { normalizeSeverity } from './severity.js';
import { arr, asIp, isRecord, str, uniq } from './text.js';

export interface SourceView {
  /** the address string as the incident gave it (cleaned) */
  value: string;
  /** set only when `value` is a valid IP literal (safe for `ip`-typed fields) */
  ip?: string;
  ipVersion?: 4 | 6;
  /** ISO 3166-1 alpha-2, upper case; other spellings are not trusted into typed country fields */
  country?: string;
  city?: string;
  asn?: number;
  asOrg?: string;
  lat?: number;
  lon?: number;
  lastSeenMs?: number;
}

export interface EvidenceValueView {
  value: string;
  /** not in EvidenceValue yet: the address a network value was first seen from (see byAddress below) */
  ip?: string;
  first_seen?: string;
  last_seen?: string;
  country?: string;
  city?: string;
  asn?: number;
  as_org?: string;
  lat?: number;
  lon?: number;
  browser?: string;
  os?: string;
  device?: string;
  is_script?: boolean;
}

export type DetailValue = string | number | boolean;

export interface IncidentView {
  id: string;
  dedupKey: string;
  ruleId: string;
  ruleTitle: string;
  /** rule version as text (ECS rule.version and OCSF analytic.version are strings); '' when absent */
  ruleVersion: string;
  severity: Severity;
  status: string;
  session: string;
  user: string;
  tenant: string;
  /** the record's time: last_seen, else updated_at, created_at, first_seen, else the clock */
  timeMs: number;
  firstSeenMs: number | undefined;
  lastSeenMs: number | undefined;
  createdMs: number | undefined;
  updatedMs: number | undefined;
  count: number;
  eventIds: string[];
  reason: string;
  /** the one human sentence every format carries (reason, else rule title) */
  message: string;
  /** every address of evidence.ips, cleaned and de-duplicated, in incident order */
  sources: SourceView[];
  /** the source to put in single-valued source fields; see pickPrimary */
  primary: SourceView | undefined;
  /** valid IP literals only, for ip-typed arrays (related.ip, src lists in typed fields) */
  ips: string[];
  countries: string[];
  userAgents: string[];
  /** the most recent user agent (evidence lists them oldest first) */
  userAgent: string | undefined;
  mitre: MitreRef[];
  details: Array<[string, DetailValue]>;
  fields: Array<{ name: string; values: EvidenceValueView[] }>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
// Four-digit years only: every format here renders time as RFC 3339 or epoch ms, and years outside
// 1970..9999 would print as `+275760-...` or negative epochs that receivers reject.
const MAX_MS = 253_402_300_799_999;

export function parseTime(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && RFC3339.test(value)) ms = Date.parse(value.replace(' ', 'T'));
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_MS) return undefined;
  return Math.trunc(ms);
}

function finite(value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : undefined;
}

function isoCountry(value: unknown): string | undefined {
  const s = str(value).trim();
  return /^[A-Za-z]{2}$/.test(s) ? s.toUpperCase() : undefined;
}

function evidenceValue(raw: unknown): EvidenceValueView | undefined {
  if (!isRecord(raw)) return undefined;
  const v: EvidenceValueView = { value: str(raw.value) };
  const text = ['ip', 'first_seen', 'last_seen', 'country', 'city', 'as_org', 'browser', 'os', 'device'] as const;
  for (const key of text) {
    const s = str(raw[key]);
    if (s !== '') v[key] = s;
  }
  const asn = finite(raw.asn, 0, 4_294_967_295);
  if (asn !== undefined && Number.isInteger(asn)) v.asn = asn;
  const lat = finite(raw.lat, -90, 90);
  const lon = finite(raw.lon, -180, 180);
  if (lat !== undefined && lon !== undefined) {
    v.lat = lat;
    v.lon = lon;
  }
  if (typeof raw.is_script === 'boolean') v.is_script = raw.is_script;
  return v;
}

/**
 * The single-valued source is the address whose evidence was seen last (the newcomer that made the session
 * suspicious); without timing, the last one listed. Ties go to the later entry for the same reason.
 */
function pickPrimary(sources: SourceView[]): SourceView | undefined {
  let best: SourceView | undefined;
  for (const s of sources) {
    if (s.ip === undefined) continue;
    if (best === undefined || (s.lastSeenMs ?? -1) >= (best.lastSeenMs ?? -1)) best = s;
  }
  return best;
}

function detailValue(value: unknown): DetailValue {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return str(value);
}

export function viewIncident(incident: Incident, clock: () => number): IncidentView {
  // Read through `unknown` on purpose: see str() for why runtime types are not trusted.
  const raw: Record<string, unknown> = isRecord(incident) ? (incident as unknown as Record<string, unknown>) : {};
  const rule = isRecord(raw.rule) ? raw.rule : {};
  const evidence = isRecord(raw.evidence) ? raw.evidence : {};

  const fields: IncidentView['fields'] = [];
  if (isRecord(evidence.fields)) {
    for (const [name, values] of Object.entries(evidence.fields)) {
      const list = arr(values).map(evidenceValue).filter((v): v is EvidenceValueView => v !== undefined);
      fields.push({ name: str(name), values: list });
    }
  }

  // Geo and AS facts live on evidence values, but an IP is not a field of its own: the rule engine keys
  // `network` values by network and builds evidence.ips from them, one address per network value, in the same
  // order. So an address is matched to its facts by an explicit `ip` on the value, by a value equal to the
  // address, or else by position against `network` when both lists have the same length.
  const byAddress = new Map<string, EvidenceValueView>();
  for (const field of fields) {
    for (const v of field.values) {
      for (const address of [v.ip, v.value]) {
        if (address === undefined) continue;
        const key = (asIp(address)?.ip ?? address).toLowerCase();
        const prev = byAddress.get(key);
        if (!prev || (prev.country === undefined && v.country !== undefined)) byAddress.set(key, v);
      }
    }
  }
  const rawIps = arr(evidence.ips);
  const networks = fields.find((f) => f.name === 'network')?.values;
  const positional = networks !== undefined && networks.length === rawIps.length ? networks : undefined;

  const sources: SourceView[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of rawIps.entries()) {
    const value = str(entry);
    if (value === '' || seen.has(value)) continue;
    seen.add(value);
    const parsed = asIp(value);
    const ev = byAddress.get((parsed?.ip ?? value).toLowerCase()) ?? positional?.[index];
    const s: SourceView = { value };
    if (parsed) {
      s.ip = parsed.ip;
      s.ipVersion = parsed.version;
    }
    if (ev) {
      const country = isoCountry(ev.country);
      if (country) s.country = country;
      if (ev.city) s.city = ev.city;
      if (ev.asn !== undefined) s.asn = ev.asn;
      if (ev.as_org) s.asOrg = ev.as_org;
      if (ev.lat !== undefined && ev.lon !== undefined) {
        s.lat = ev.lat;
        s.lon = ev.lon;
      }
      const last = parseTime(ev.last_seen);
      if (last !== undefined) s.lastSeenMs = last;
    }
    sources.push(s);
  }

  const countryField = fields.find((f) => f.name === 'country');
  const countries = uniq([
    ...sources.map((s) => s.country),
    ...(countryField?.values ?? []).map((v) => isoCountry(v.value)),
  ].filter((c): c is string => c !== undefined));

  const userAgents = uniq(arr(evidence.user_agents).map(str).filter((s) => s !== ''));
  // De-duplicated after expansion, so `t1539` and `T1539` count once.
  const mitre = [
    ...new Map(arr(raw.mitre).map(str).filter((s) => s.trim() !== '').map(expandMitre).map((m) => [m.raw, m])).values(),
  ];

  const details: Array<[string, DetailValue]> = isRecord(evidence.details)
    ? Object.entries(evidence.details).map(([k, v]) => [str(k), detailValue(v)])
    : [];

  const firstSeenMs = parseTime(raw.first_seen);
  const lastSeenMs = parseTime(raw.last_seen);
  const createdMs = parseTime(raw.created_at);
  const updatedMs = parseTime(raw.updated_at);
  const timeMs = lastSeenMs ?? updatedMs ?? createdMs ?? firstSeenMs ?? parseTime(clock()) ?? 0;

  const ruleTitle = str(rule.title);
  const reason = str(evidence.reason);
  const version = rule.version;
  const count = typeof raw.count === 'number' && Number.isFinite(raw.count) ? Math.max(0, Math.trunc(raw.count)) : 1;

  return {
    id: str(raw.id),
    dedupKey: str(raw.dedup_key),
    ruleId: str(rule.id),
    ruleTitle,
    ruleVersion: typeof version === 'number' && Number.isFinite(version) ? String(version) : str(version),
    severity: normalizeSeverity(raw.severity),
    status: str(raw.status),
    session: str(raw.session),
    user: str(raw.user),
    tenant: str(raw.tenant),
    timeMs,
    firstSeenMs,
    lastSeenMs,
    createdMs,
    updatedMs,
    count,
    eventIds: arr(raw.event_ids).map(str),
    reason,
    message: reason.trim() !== '' ? reason : ruleTitle.trim() !== '' ? ruleTitle : 'replayguard incident',
    sources,
    primary: pickPrimary(sources),
    ips: uniq(sources.flatMap((s) => (s.ip === undefined ? [] : [s.ip]))),
    countries,
    userAgents,
    userAgent: userAgents.at(-1),
    mitre,
    details,
    fields,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Techniques (parents of sub-techniques included) in first-mention order, with their tactics merged. */
export function mitreSummary(mitre: MitreRef[]): {
  techniques: NonNullable<MitreRef['technique']>[];
  subtechniques: NonNullable<MitreRef['subtechnique']>[];
  tactics: MitreRef['tactics'];
} {
  const techniques = new Map<string, NonNullable<MitreRef['technique']>>();
  const subtechniques = new Map<string, NonNullable<MitreRef['subtechnique']>>();
  const tactics = new Map<string, MitreRef['tactics'][number]>();
  for (const m of mitre) {
    if (m.technique && !techniques.has(m.technique.id)) techniques.set(m.technique.id, m.technique);
    if (m.subtechnique && !subtechniques.has(m.subtechnique.id)) subtechniques.set(m.subtechnique.id, m.subtechnique);
    for (const t of m.tactics) if (!tactics.has(t.id)) tactics.set(t.id, t);
  }
  return { techniques: [...techniques.values()], subtechniques: [...subtechniques.values()], tactics: [...tactics.values()] };
}
