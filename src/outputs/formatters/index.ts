// The formatter registry: sinks, the CLI (`scan --output`) and the API ask for a format by name here.
//
// Contract: every formatter is a pure function of (incident, options) returning ONE record as a string, with no
// trailing newline; framing is the caller's (see FRAMING and docs/outputs.md). Incident values never make a
// formatter throw; only invalid options do (FormatterOptionsError), so validate options at startup.
import type { Incident } from '../../incidents/model.js';
import { bulkBody, formatBulk } from './bulk.js';
import { formatCef } from './cef.js';
import { formatEcs } from './ecs.js';
import { formatHec, hecBatch } from './hec.js';
import { formatJsonl } from './jsonl.js';
import { formatLeef } from './leef.js';
import { formatOcsf } from './ocsf.js';
import { resolveOptions, type FormatterOptions } from './options.js';
import { formatSyslog } from './syslog.js';

export const OUTPUT_FORMATS = ['jsonl', 'ecs', 'ocsf', 'cef', 'leef', 'leef2', 'hec', 'syslog', 'bulk'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isOutputFormat(value: unknown): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly unknown[]).includes(value);
}

const FORMATTERS: Readonly<Record<OutputFormat, (incident: Incident, opts: FormatterOptions) => string>> = {
  jsonl: (incident) => formatJsonl(incident),
  ecs: formatEcs,
  ocsf: formatOcsf,
  cef: formatCef,
  leef: (incident, opts) => formatLeef(incident, opts, '1.0'),
  leef2: (incident, opts) => formatLeef(incident, opts, '2.0'),
  hec: formatHec,
  syslog: formatSyslog,
  bulk: formatBulk,
};

/** One record in `format`, without a trailing newline. */
export function formatIncident(format: OutputFormat, incident: Incident, opts: FormatterOptions = {}): string {
  const formatter = FORMATTERS[format];
  if (formatter === undefined) throw new TypeError(`unknown output format: ${String(format)}`);
  return formatter(incident, opts);
}

/** Checks options once (throws FormatterOptionsError with the offending path); call it when loading config. */
export function validateFormatterOptions(opts: FormatterOptions): void {
  resolveOptions(opts);
}

/**
 * How records of each format are put together on the wire. No record contains a raw LF except `bulk`, whose
 * record is exactly two lines, so "record + LF" is a valid file/stdout framing for every format.
 */
export const FRAMING: Readonly<Record<OutputFormat, string>> = {
  jsonl: 'one record per line (LF)',
  ecs: 'one document per line (LF), or as the source line of a _bulk record',
  ocsf: 'one record per line (LF), or a JSON array for APIs that take one',
  cef: 'one record per line; over syslog as MSG (wrapSyslog5424 / wrapRfc3164)',
  leef: 'one record per line; over syslog as MSG (wrapSyslog5424 / wrapRfc3164)',
  leef2: 'one record per line; over syslog as MSG (wrapSyslog5424 / wrapRfc3164)',
  hec: 'batch = records concatenated (hecBatch), POSTed to /services/collector/event',
  syslog: 'UDP: one record per datagram; TCP/TLS: octetFrame(record) (RFC 6587 / RFC 5425)',
  bulk: 'every record followed by LF, the last one too (bulkBody), POSTed as application/x-ndjson',
};

/** Joins records for a file, stdout or an HTTP body in the format's own framing. */
export function frameRecords(format: OutputFormat, records: Iterable<string>): string {
  if (format === 'hec') return hecBatch(records);
  return bulkBody(records);
}

export { FormatterOptionsError, SYSLOG_FACILITIES, parseLeefDelimiter } from './options.js';
export type { FormatterOptions, SyslogFacilityName } from './options.js';
export { SEVERITY_TABLE, severityMapping } from './severity.js';
export type { SeverityMapping } from './severity.js';
export { formatJsonl, toJsonSafe } from './jsonl.js';
export { formatEcs, ecsDocument, ECS_VERSION, ECS_CUSTOM_NAMESPACE } from './ecs.js';
export { formatOcsf, ocsfFinding, OCSF_VERSION } from './ocsf.js';
export { formatCef, formatCefRecord, cefHeaderEscape, cefExtensionEscape } from './cef.js';
export { formatLeef, formatLeef2, formatLeefRecord } from './leef.js';
export { formatHec, formatHecEnvelope, hecBatch } from './hec.js';
export {
  formatSyslog,
  formatSyslog5424,
  octetFrame,
  sdEscape,
  syslogPri,
  wrapRfc3164,
  wrapSyslog5424,
} from './syslog.js';
export { formatBulk, formatBulkRecord, bulkBody, bulkDocumentId } from './bulk.js';
