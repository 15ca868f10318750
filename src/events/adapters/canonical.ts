// The canonical form itself (design §3), so `--format canonical|auto` runs through the same registry as vendor
// formats and reports failures with the same skip codes.
import { EVENT_TYPES } from '../schema.js';
import { guard, isObj, own, safeDetect, skip, text, validate } from './common.js';
import type { Adapter, AdapterOptions, AdapterResult } from './types.js';

const FIELDS = [
  'id', 'time', 'type', 'session_id', 'new_session_id', 'user_id', 'ip', 'user_agent', 'tenant', 'device_id', 'app', 'asn', 'country', 'is_proxy', 'signals',
] as const;

function convert(record: unknown, opts: AdapterOptions = {}): AdapterResult {
  if (!isObj(record)) return skip('unrecognized_record', 'a canonical event is a JSON object');
  // Copy only the canonical fields (exact names, own properties) so nothing else rides along downstream.
  // Unlike vendor adapters nothing is trimmed or dropped: a canonical producer gets the schema's verdict as is.
  const event: Record<string, unknown> = {};
  for (const f of FIELDS) {
    if (Object.prototype.hasOwnProperty.call(record, f) && record[f] !== undefined) event[f] = record[f];
  }
  const tenant = text(opts.defaultTenant);
  if (event['tenant'] === undefined && tenant !== undefined) event['tenant'] = tenant;
  return validate(event);
}

export const canonicalAdapter: Adapter = {
  name: 'canonical',
  detect: (record) =>
    safeDetect(
      () =>
        isObj(record) &&
        typeof own(record, 'session_id') === 'string' &&
        (EVENT_TYPES as readonly unknown[]).includes(record['type']) &&
        Object.prototype.hasOwnProperty.call(record, 'time'),
    ),
  convert: (record, opts) => guard(() => convert(record, opts)),
};
