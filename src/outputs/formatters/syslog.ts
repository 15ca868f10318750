// RFC 5424 syslog (shared/reference/siem-formats.md §6), plus the RFC 6587 octet-counting frame and an RFC 3164
// prefix for receivers that only know BSD syslog (ArcSight's own CEF examples use it).
import type { Incident } from '../../incidents/model.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { SEVERITY_TABLE } from './severity.js';
import { lineSafe, printUsAscii, truncateUtf8 } from './text.js';
import { iso, viewIncident, type IncidentView } from './view.js';

export const NILVALUE = '-';
const BOM = '\uFEFF';
/** Header field maxima from the RFC 5424 ABNF (all PRINTUSASCII, so characters = octets). */
export const HEADER_LIMITS = { hostname: 255, appName: 48, procId: 128, msgId: 32 } as const;
/** Our SD-ID, `<name>@<PEN>`; the name is fixed so receiver-side parsing rules survive a change of APP-NAME. */
export const SD_NAME = 'replayguard';

export interface SdElement {
  id: string;
  params: Array<readonly [string, string]>;
}

export interface Syslog5424Message {
  facility: number;
  severity: number;
  /** epoch ms; omitted means NILVALUE */
  timeMs?: number | undefined;
  hostname?: string | undefined;
  appName?: string | undefined;
  procId?: string | undefined;
  msgId?: string | undefined;
  structuredData?: SdElement[] | undefined;
  msg?: string | undefined;
  /** MSG-UTF8 (BOM first) when true; MSG-ANY when false, e.g. for CEF/LEEF payloads whose parsers search for `CEF:` */
  bom?: boolean | undefined;
}

/** PRI = facility * 8 + severity, clamped to the valid 0..191 and written without leading zeros. */
export function syslogPri(facility: number, severity: number): number {
  const f = Number.isInteger(facility) ? Math.min(23, Math.max(0, facility)) : 1;
  const s = Number.isInteger(severity) ? Math.min(7, Math.max(0, severity)) : 5;
  return f * 8 + s;
}

/** PARAM-VALUE escaping, RFC 5424 §6.3.3: exactly `"`, `\` and `]`; nothing else is an escape. */
export function sdEscape(value: string): string {
  return value.replace(/["\\\]]/g, (c) => '\\' + c);
}

/** SD-NAME: 1*32 PRINTUSASCII except `=`, SP, `]`, `"`. */
export function sdName(value: string): string {
  const cleaned = value.replace(/[^\x21-\x7E]|[=\]"]/g, '_').slice(0, 32);
  return cleaned === '' ? '_' : cleaned;
}

function header(m: Syslog5424Message): string {
  return [
    `<${syslogPri(m.facility, m.severity)}>1`,
    m.timeMs === undefined ? NILVALUE : iso(m.timeMs),
    printUsAscii(m.hostname ?? '', HEADER_LIMITS.hostname),
    printUsAscii(m.appName ?? '', HEADER_LIMITS.appName),
    printUsAscii(m.procId ?? '', HEADER_LIMITS.procId),
    printUsAscii(m.msgId ?? '', HEADER_LIMITS.msgId),
  ].join(' ');
}

function structuredData(elements: SdElement[] | undefined): string {
  const seen = new Set<string>();
  let out = '';
  for (const el of elements ?? []) {
    const id = sdName(el.id);
    // An SD-ID may occur only once per message; PARAM-NAMEs may repeat.
    if (seen.has(id)) continue;
    seen.add(id);
    out += `[${id}${el.params.map(([k, v]) => ` ${sdName(k)}="${sdEscape(lineSafe(v))}"`).join('')}]`;
  }
  return out === '' ? NILVALUE : out;
}

/**
 * One RFC 5424 message (no framing, no trailing newline). SD values and MSG go through lineSafe first: RFC 5424
 * allows control characters but receivers rewrite them and LF-framed transports split on them.
 */
export function formatSyslog5424(m: Syslog5424Message): string {
  const base = `${header(m)} ${structuredData(m.structuredData)}`;
  if (m.msg === undefined || m.msg === '') return base;
  return `${base} ${m.bom === false ? '' : BOM}${lineSafe(m.msg)}`;
}

/** RFC 6587 §3.4.1 / RFC 5425 frame: the octet count (UTF-8 bytes, BOM included), one space, the message. */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message, 'utf8')} ${message}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * RFC 3164-style wrapper `<PRI>Mmm dd HH:MM:SS HOST MSG` (day space-padded; UTC, since BSD syslog has no zone
 * field). Meant for CEF/LEEF payloads that are already single lines.
 */
export function wrapRfc3164(payload: string, m: { facility: number; severity: number; timeMs: number; hostname?: string | undefined }): string {
  const d = new Date(m.timeMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `<${syslogPri(m.facility, m.severity)}>${stamp} ${printUsAscii(m.hostname ?? '', HEADER_LIMITS.hostname)} ${lineSafe(payload)}`;
}

/** Carries another format's record (CEF, LEEF, JSON) as MSG-ANY with NILVALUE structured data and no BOM. */
export function wrapSyslog5424(payload: string, m: Omit<Syslog5424Message, 'msg' | 'bom' | 'structuredData'>): string {
  return formatSyslog5424({ ...m, msg: payload, bom: false });
}

/** Longest prefix of whole characters whose escaped form fits in `maxBytes` (escapes double some bytes). */
function cutEscaped(value: string, maxBytes: number): string {
  let used = 0;
  let end = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(sdEscape(ch));
    if (used + n > maxBytes) break;
    used += n;
    end += ch.length;
  }
  return value.slice(0, end);
}

function incidentParams(view: IncidentView): Array<[string, string]> {
  const params: Array<[string, string]> = [
    ['ruleId', view.ruleId],
    ['rule', view.ruleTitle],
    ['severity', view.severity],
    ['session', view.session],
    ['user', view.user],
    ['src', view.sources.map((s) => s.ip ?? s.value).join(',')],
    ['cc', view.countries.join(',')],
    ['technique', view.mitre.map((m) => m.raw).join(',')],
    ['incident', view.id],
    ['tenant', view.tenant],
    ['count', String(view.count)],
    ['status', view.status],
  ];
  return params.filter(([, v]) => v !== '');
}

/**
 * Fits the message into `maxBytes` (e.g. a UDP datagram): first the MSG is cut, then, if the structured data
 * alone is too big, the longest parameter value is cut (repeatedly), dropping a parameter only once it is
 * empty. Cuts happen on unescaped text at character boundaries, so neither UTF-8 nor an escape is split.
 * Only the header is never touched: with maxBytes >= 480 it only overflows if the configured names do.
 */
function fit(m: Syslog5424Message, params: Array<[string, string]>, sdId: string, maxBytes: number): string {
  const build = (p: Array<[string, string]>, msg: string | undefined) =>
    formatSyslog5424({ ...m, structuredData: [{ id: sdId, params: p }], msg });
  const full = build(params, m.msg);
  if (Buffer.byteLength(full) <= maxBytes) return full;
  const withoutMsg = build(params, undefined);
  const room = maxBytes - Buffer.byteLength(withoutMsg) - 1 - Buffer.byteLength(BOM);
  if (room > 0 && m.msg) {
    const cut = truncateUtf8(lineSafe(m.msg), room);
    if (cut !== '') return build(params, cut);
  }
  let p = params.map(([k, v]) => [k, lineSafe(v)] as [string, string]);
  for (let i = 0; i < 64; i++) {
    const size = Buffer.byteLength(build(p, undefined));
    if (size <= maxBytes || p.length === 0) break;
    let longest = 0;
    p.forEach(([, v], j) => {
      if (Buffer.byteLength(sdEscape(v)) > Buffer.byteLength(sdEscape(p[longest]?.[1] ?? ''))) longest = j;
    });
    const [k, v] = p[longest] ?? ['', ''];
    const cut = cutEscaped(v, Buffer.byteLength(sdEscape(v)) - (size - maxBytes));
    p = cut === '' ? p.filter((_, j) => j !== longest) : p.map((e, j) => (j === longest ? [k, cut] : e));
  }
  return build(p, undefined);
}

export function syslogFromView(view: IncidentView, o: ResolvedOptions): string {
  const m: Syslog5424Message = {
    facility: o.facility,
    severity: SEVERITY_TABLE[view.severity].syslog,
    timeMs: view.timeMs,
    hostname: o.hostname,
    appName: o.appName,
    procId: o.procId,
    msgId: view.ruleId,
    msg: view.message,
    bom: true,
  };
  const sdId = `${SD_NAME}@${o.enterpriseId}`;
  const params = incidentParams(view);
  if (o.syslogMaxBytes !== undefined) return fit(m, params, sdId, o.syslogMaxBytes);
  return formatSyslog5424({ ...m, structuredData: [{ id: sdId, params }] });
}

/** One RFC 5424 message, unframed; use octetFrame() for TCP/TLS, nothing for UDP. */
export function formatSyslog(incident: Incident, opts?: FormatterOptions): string {
  const o = resolveOptions(opts);
  return syslogFromView(viewIncident(incident, o.clock), o);
}
