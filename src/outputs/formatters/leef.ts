// IBM QRadar LEEF 1.0 and 2.0 (shared/reference/siem-formats.md §2). LEEF defines no escape mechanism and
// QRadar's property regexes stop at the delimiter, so values are made safe by replacement, not escaping:
// the active delimiter, CR, LF and TAB become a space, other control characters U+FFFD. Header fields use the
// de-facto `\\` / `\|` escapes (AxoSyslog), as the reference convention says.
import type { Incident } from '../../incidents/model.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { SEVERITY_TABLE } from './severity.js';
import { lineSafe, truncateUtf8 } from './text.js';
import { viewIncident, type IncidentView } from './view.js';

export type LeefVersion = '1.0' | '2.0';

export interface LeefRecord {
  version: LeefVersion;
  vendor: string;
  product: string;
  productVersion: string;
  eventId: string;
  /** 2.0 only: the delimiter character (default `^`) and how the header spells it (default: the character) */
  delimiter?: string;
  delimiterField?: string;
  attributes: Array<readonly [string, string | number | undefined]>;
}

const EVENT_ID_MAX = 255;
const ATTRIBUTE_LIMITS: Readonly<Record<string, number>> = { usrName: 255 };

export function leefHeaderEscape(value: string): string {
  return lineSafe(value).replace(/[\\|]/g, (c) => '\\' + c);
}

/** The value a LEEF parser reads back: delimiter and line breaks as spaces, per-key limit applied. */
export function leefValue(key: string, value: string, delimiter: string): string {
  // Line-safe first: lineSafe turns control characters into U+FFFD, which could itself be the delimiter.
  const safe = lineSafe(value).split(delimiter).join(' ');
  const limit = ATTRIBUTE_LIMITS[key];
  return limit === undefined ? safe : truncateUtf8(safe, limit);
}

/** One LEEF line (no syslog prefix, no trailing newline, no trailing delimiter). */
export function formatLeefRecord(record: LeefRecord): string {
  const delimiter = record.version === '1.0' ? '\t' : (record.delimiter ?? '^');
  const header = [
    `LEEF:${record.version}`,
    leefHeaderEscape(record.vendor),
    leefHeaderEscape(record.product),
    leefHeaderEscape(record.productVersion),
    leefHeaderEscape(truncateUtf8(lineSafe(record.eventId), EVENT_ID_MAX)),
  ];
  // 2.0 always states its delimiter: an omitted field is legal but parsers disagree on what it means.
  if (record.version === '2.0') header.push(record.delimiterField ?? delimiter);
  const seen = new Set<string>();
  const attrs: string[] = [];
  for (const [key, raw] of record.attributes) {
    // A duplicate key can make QRadar ignore the value; custom keys must be single alphanumeric words.
    if (raw === undefined || !/^[A-Za-z0-9]+$/.test(key) || seen.has(key)) continue;
    const value = leefValue(key, String(raw), delimiter);
    if (value === '') continue;
    seen.add(key);
    attrs.push(`${key}=${value}`);
  }
  // The header always ends with a pipe, even with no attributes.
  return `${header.join('|')}|${attrs.join(delimiter)}`;
}

export function leefRecordFromView(view: IncidentView, o: ResolvedOptions, version: LeefVersion): LeefRecord {
  const p = view.primary;
  // No identSrc: it tells QRadar "this user is at this IP", and the IP here is the one replaying a stolen
  // session, so it would write the attacker's address into the victim's identity record.
  const attributes: Array<readonly [string, string | number | undefined]> = [
    ['devTime', view.timeMs],
    ['src', p?.ip],
    ['usrName', view.user],
    ['sev', SEVERITY_TABLE[view.severity].leef],
    ['cat', view.ruleId],
    ['sessionHash', view.session],
    ['srcCountries', view.countries.join(',')],
    ['srcIps', view.sources.map((s) => s.ip ?? s.value).join(',')],
    ['mitreTechnique', view.mitre.map((m) => m.raw).join(',')],
    ['userAgent', view.userAgent],
    ['incidentId', view.id],
    ['ruleName', view.ruleTitle],
    ['ruleVersion', view.ruleVersion],
    ['tenant', view.tenant],
    ['incidentStatus', view.status],
    ['incidentCount', view.count],
    ['startTime', view.firstSeenMs],
    ['reason', view.reason],
  ];
  const record: LeefRecord = {
    version,
    vendor: o.vendor,
    product: o.product,
    productVersion: o.version,
    eventId: view.ruleId,
    attributes,
  };
  if (version === '2.0') {
    record.delimiter = o.leefDelimiter;
    record.delimiterField = o.leefDelimiterField;
  }
  return record;
}

/** One LEEF line (1.0: TAB-delimited; 2.0: the configured delimiter, stated in the header). */
export function formatLeef(incident: Incident, opts?: FormatterOptions, version: LeefVersion = '1.0'): string {
  const o = resolveOptions(opts);
  return formatLeefRecord(leefRecordFromView(viewIncident(incident, o.clock), o, version));
}

export function formatLeef2(incident: Incident, opts?: FormatterOptions): string {
  return formatLeef(incident, opts, '2.0');
}
