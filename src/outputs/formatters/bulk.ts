// Elasticsearch `_bulk` NDJSON (shared/reference/siem-formats.md §7): an action line and the ECS document.
import { createHash } from 'node:crypto';
import type { Incident } from '../../incidents/model.js';
import { ecsDocumentFromView } from './ecs.js';
import { resolveOptions, type FormatterOptions, type ResolvedOptions } from './options.js';
import { viewIncident, type IncidentView } from './view.js';

const ES_ID_MAX_BYTES = 512;

/**
 * The document `_id`. With `create` (data streams, append-only) each incident *revision* is one document:
 * `<incident id>:<count>:<status>`, so a retried delivery hits 409 (a harmless duplicate) while an incident
 * that absorbed more events or changed status is a new document. Using the bare incident id, as the reference
 * vector does, would make every update after the first a 409 and silently drop it. With `index` (a plain
 * index) the bare incident id is right: the latest state overwrites the earlier one.
 */
export function bulkDocumentId(view: IncidentView, action: 'create' | 'index'): string {
  const id = action === 'index' ? view.id : `${view.id}:${view.count}:${view.status}`;
  // Elasticsearch refuses ids over 512 bytes; a hash keeps such (hostile or absurd) ids deterministic.
  if (id !== '' && Buffer.byteLength(id) <= ES_ID_MAX_BYTES) return id;
  return 'sha256:' + createHash('sha256').update(id).digest('hex');
}

/** Action line + source line joined by one LF; the caller terminates every record with LF (see bulkBody). */
export function formatBulkRecord(action: Record<string, unknown>, document: unknown): string {
  return `${JSON.stringify(action)}\n${JSON.stringify(document)}`;
}

/** A complete `_bulk` body: every line, the last included, ends with LF (Elasticsearch rejects it otherwise). */
export function bulkBody(records: Iterable<string>): string {
  let out = '';
  for (const r of records) out += r + '\n';
  return out;
}

export function bulkFromView(view: IncidentView, o: ResolvedOptions): string {
  const action = { [o.bulkAction]: { _index: o.bulkIndex, _id: bulkDocumentId(view, o.bulkAction) } };
  return formatBulkRecord(action, ecsDocumentFromView(view, o));
}

/** Two NDJSON lines (action, ECS document) separated by LF, without the final LF. */
export function formatBulk(incident: Incident, opts?: FormatterOptions): string {
  const o = resolveOptions(opts);
  return bulkFromView(viewIncident(incident, o.clock), o);
}
