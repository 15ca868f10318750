// Incident → the bytes one sink sends for it. The formatters make the record; this adds what the transport
// needs around it: a HEC envelope for non-HEC formats, a syslog header for CEF/LEEF/JSON, the UDP size cap.
// Pure, like the formatters: the same incident and sink give the same record, which at-least-once relies on.
import type { Incident } from '../../incidents/model.js';
import type { SinkConfig } from '../config.js';
import { formatIncident, wrapRfc3164, wrapSyslog5424 } from '../formatters/index.js';
import { resolveOptions } from '../formatters/options.js';
import { SEVERITY_TABLE } from '../formatters/severity.js';
import { truncateUtf8 } from '../formatters/text.js';
import { viewIncident } from '../formatters/view.js';

const JSON_FORMATS = new Set(['jsonl', 'ecs', 'ocsf']);

export function renderRecord(sink: SinkConfig, incident: Incident): string {
  const record = formatIncident(sink.format, incident, sink.formatOptions);
  if (sink.type === 'http_hec' && sink.format !== 'hec') {
    const o = resolveOptions(sink.formatOptions);
    const view = viewIncident(incident, o.clock);
    // Same key order as the hec formatter. A text record (CEF, LEEF, syslog) is a string event, as Splunk's
    // CEF/syslog add-ons expect; a JSON record is the event object itself.
    const envelope: Record<string, unknown> = { time: view.timeMs / 1000 };
    if (o.hostname !== undefined) envelope.host = o.hostname;
    envelope.source = o.hecSource;
    // One sourcetype per format, so Splunk props/transforms can tell an ECS document from a CEF line.
    envelope.sourcetype = sink.formatOptions.hec?.sourcetype ?? `replayguard:${sink.format}`;
    if (o.hecIndex !== undefined) envelope.index = o.hecIndex;
    envelope.event = JSON_FORMATS.has(sink.format) ? (JSON.parse(record) as unknown) : record;
    return JSON.stringify(envelope);
  }
  if (sink.type === 'syslog' && sink.format !== 'syslog') {
    const o = resolveOptions(sink.formatOptions);
    const view = viewIncident(incident, o.clock);
    const severity = SEVERITY_TABLE[view.severity].syslog;
    const message = sink.wrapper === 'rfc3164'
      ? wrapRfc3164(record, { facility: o.facility, severity, timeMs: view.timeMs, hostname: o.hostname })
      : wrapSyslog5424(record, { facility: o.facility, severity, timeMs: view.timeMs, hostname: o.hostname, appName: o.appName, procId: o.procId, msgId: view.ruleId });
    // RFC 5426: cut from the end, never inside a UTF-8 sequence. A JSON payload cut this way is no longer JSON,
    // which is why docs/outputs.md advises syslog/CEF/LEEF over UDP.
    return sink.maxBytes !== undefined ? truncateUtf8(message, sink.maxBytes) : message;
  }
  return record;
}
