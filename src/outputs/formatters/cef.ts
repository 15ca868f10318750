// ArcSight CEF (shared/reference/siem-formats.md §1). Two layers: formatCefRecord does the byte rules (escaping,
// limits, key hygiene) for any header and pairs, and is pinned byte-for-byte to the reference vectors;
// formatCef decides what of an incident goes where.
import type { Incident } from '../../incidents/model.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { SEVERITY_TABLE } from './severity.js';
import { lineSafe, lineSafeKeepBreaks, truncateUtf8 } from './text.js';
import { viewIncident, type IncidentView } from './view.js';

export interface CefRecord {
  version?: 0 | 1;
  vendor: string;
  product: string;
  deviceVersion: string;
  classId: string;
  name: string;
  severity: number | 'Unknown' | 'Low' | 'Medium' | 'High' | 'Very-High';
  extension: Array<readonly [string, string | number | undefined]>;
}

// Header maxima from the CEF standard. The unit is unstated there, so we count UTF-8 bytes (stricter).
const HEADER_LIMITS = { vendor: 63, product: 63, deviceVersion: 31, classId: 1023, name: 512 } as const;

// Extension maxima from the CEF dictionary; keys not listed get 1023, the common string size.
const EXTENSION_LIMITS: Readonly<Record<string, number>> = {
  act: 63,
  outcome: 63,
  externalId: 40,
  deviceExternalId: 255,
  dvchost: 100,
  threatAttackID: 32,
  frameworkName: 256,
  cs1: 4000, cs2: 4000, cs3: 4000, cs4: 4000, cs5: 4000, cs6: 4000,
};
const DEFAULT_EXTENSION_LIMIT = 1023;

// Keys only a consumer (ArcSight) may set; a producer that sends them corrupts the consumer's own values.
const CONSUMER_ONLY = new Set(['eventId', 'slat', 'slong', 'dlat', 'dlong']);

/** Dictionary slots that need a `…Label` partner: group 1 is the slot, group 2 is set on the label key. */
const LABELLED = /^((?:cs|cn|cfp|c6a|flexString|flexNumber|flexDate)\d)(Label)?$/;

/** Header field: `\` and `|` escaped; CR/LF (CRLF counted once), TAB and controls made safe by lineSafe. */
export function cefHeaderEscape(value: string): string {
  return lineSafe(value).replace(/[\\|]/g, (c) => '\\' + c);
}

/** Extension value: `\` first (else `=`'s escape would be re-escaped), then `=`, CR, LF. `|` stays literal. */
export function cefExtensionEscape(value: string): string {
  return lineSafeKeepBreaks(value).replace(/[\\=\r\n]/g, (c) =>
    c === '\r' ? '\\r' : c === '\n' ? '\\n' : '\\' + c,
  );
}

function headerField(value: string, limit: number): string {
  // Truncate before escaping so a cut can never fall inside an escape sequence.
  return cefHeaderEscape(truncateUtf8(lineSafe(value), limit));
}

/**
 * The value a receiver will read back for `value` under `key`: sanitised, cut to the key's limit, and with
 * edge spaces removed (a parser drops the final pair's trailing spaces, and some trim leading ones).
 * Exported so tests can state the round-trip contract.
 */
export function cefExtensionValue(key: string, value: string): string {
  const limit = EXTENSION_LIMITS[key] ?? DEFAULT_EXTENSION_LIMIT;
  return truncateUtf8(lineSafeKeepBreaks(value), limit).replace(/^[ ]+|[ ]+$/g, '');
}

function severityField(severity: CefRecord['severity']): string {
  if (typeof severity === 'string') return severity;
  return Number.isFinite(severity) ? String(Math.min(10, Math.max(0, Math.round(severity)))) : 'Unknown';
}

/** One CEF line (no syslog prefix, no trailing newline). Empty or invalid pairs are dropped, never thrown. */
export function formatCefRecord(record: CefRecord): string {
  const header = [
    `CEF:${record.version ?? 0}`,
    headerField(record.vendor, HEADER_LIMITS.vendor),
    headerField(record.product, HEADER_LIMITS.product),
    headerField(record.deviceVersion, HEADER_LIMITS.deviceVersion),
    headerField(record.classId, HEADER_LIMITS.classId),
    headerField(record.name, HEADER_LIMITS.name),
    severityField(record.severity),
  ].join('|');
  const pairs = new Map<string, string>();
  for (const [key, raw] of record.extension) {
    if (raw === undefined || !/^[A-Za-z0-9]+$/.test(key) || pairs.has(key) || CONSUMER_ONLY.has(key)) continue;
    const value = cefExtensionValue(key, String(raw));
    if (value !== '') pairs.set(key, value);
  }
  // A custom slot and its label travel together or not at all (a value can vanish in sanitising, e.g. a lone TAB).
  const out: string[] = [];
  for (const [key, value] of pairs) {
    const slot = LABELLED.exec(key);
    if (slot?.[1] !== undefined && !pairs.has(slot[2] === undefined ? `${slot[1]}Label` : slot[1])) continue;
    out.push(`${key}=${cefExtensionEscape(value)}`);
  }
  // The pipe after Severity is written even with no extension (CEF standard; AxoSyslog does the same).
  return `${header}|${out.join(' ')}`;
}

/** Custom string slots: label first, as in the reference vector, and only when the value exists. */
function custom(n: number, label: string, value: string | undefined): Array<readonly [string, string | undefined]> {
  if (value === undefined || value === '') return [];
  return [
    [`cs${n}Label`, label],
    [`cs${n}`, value],
  ];
}

export function cefRecordFromView(view: IncidentView, o: ResolvedOptions): CefRecord {
  const p = view.primary;
  const ext: Array<readonly [string, string | number | undefined]> = [
    ['rt', view.timeMs],
    ['start', view.firstSeenMs],
    ['end', view.lastSeenMs],
  ];
  // src is IPv4-only in CEF; an IPv6 source goes to c6a2 with the label the CEF special mappings give it.
  if (p?.ipVersion === 4) ext.push(['src', p.ip]);
  if (p?.ipVersion === 6) ext.push(['c6a2Label', 'Source IPv6 Address'], ['c6a2', p.ip]);
  ext.push(
    ['suser', view.user],
    ['act', 'alert'],
    ['cat', `/Authentication/Session/${view.ruleId}`],
    ['requestClientApplication', view.userAgent],
    ...custom(1, 'sessionHash', view.session),
    ...custom(2, 'sourceCountries', view.countries.join(',')),
    ...custom(3, 'sourceAddresses', view.sources.map((s) => s.ip ?? s.value).join(',')),
    ...custom(4, 'mitreTechnique', view.mitre.map((m) => m.raw).join(',')),
    ...custom(5, 'tenant', view.tenant),
    ...custom(6, 'incidentStatus', view.status),
  );
  // cn1 is typed long; a non-integer version would be rejected by the receiver, so it is left out.
  if (/^-?\d{1,18}$/.test(view.ruleVersion)) ext.push(['cn1Label', 'ruleVersion'], ['cn1', view.ruleVersion]);
  ext.push(['cnt', view.count], ['dvchost', o.hostname], ['externalId', view.id], ['msg', view.message]);
  return {
    version: 0,
    vendor: o.vendor,
    product: o.product,
    deviceVersion: o.version,
    classId: view.ruleId,
    name: view.ruleTitle,
    severity: SEVERITY_TABLE[view.severity].cef,
    extension: ext,
  };
}

/** One CEF line without syslog prefix and without trailing newline. */
export function formatCef(incident: Incident, opts?: FormatterOptions): string {
  const o = resolveOptions(opts);
  return formatCefRecord(cefRecordFromView(viewIncident(incident, o.clock), o));
}
