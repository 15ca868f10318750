// Decoded record → normalized AuthEvent, the same way for HTTP, `scan` and `tail`:
// vendor adapter (or format detection) → canonical input → normalizeOne (validation + session-id HMAC).
// Every record that does not become an event leaves with a stage, a stable code and a message, and is counted.
import { convertRecord, detectFormat, type AdapterName, type AnyAdapterOptions } from '../events/adapters/index.js';
import { normalizeOne, type SessionHasher } from '../events/normalize.js';
import type { AuthEvent } from '../events/schema.js';
import type { Metrics } from '../observability/metrics.js';
import type { DecodedRecord, InputFormat } from './decode.js';

export type IngestOutcome =
  | { ok: true; index: number; line?: number; event: AuthEvent; format: AdapterName }
  | {
      ok: false;
      index: number;
      line?: number;
      /**
       * `decode`: the bytes were not a record (bad JSON, too large, corrupt gzip). `adapter`: a record the adapter
       * skipped (a counted, expected outcome: system notices, no session...). `schema`: canonical input that failed
       * validation.
       */
      stage: 'decode' | 'adapter' | 'schema';
      code: string;
      message: string;
      /** the format that judged the record; `auto` when no format recognised it */
      format: AdapterName | 'auto';
    };

export interface RecordConverterOptions {
  format: InputFormat;
  hasher: SessionHasher;
  adapterOptions?: AnyAdapterOptions;
  /** counts skips (rg_records_skipped_total) and rejections (rg_events_rejected_total) as they happen */
  metrics?: Metrics;
}

export class RecordConverter {
  readonly #format: InputFormat;
  readonly #hasher: SessionHasher;
  readonly #opts: AnyAdapterOptions;
  readonly #metrics: Metrics | undefined;

  constructor(opts: RecordConverterOptions) {
    this.#format = opts.format;
    this.#hasher = opts.hasher;
    this.#opts = opts.adapterOptions ?? {};
    this.#metrics = opts.metrics;
  }

  convert(rec: DecodedRecord): IngestOutcome {
    const where = rec.line !== undefined ? { index: rec.index, line: rec.line } : { index: rec.index };
    if ('error' in rec) {
      this.#metrics?.eventsRejected.inc({ reason: rec.error.code });
      return { ok: false, ...where, stage: 'decode', code: rec.error.code, message: rec.error.message, format: this.#format };
    }
    const format = this.#format === 'auto' ? (detectFormat(rec.value) ?? 'auto') : this.#format;

    // Canonical input goes straight to normalize: its codes (missing_field, invalid_ip...) are the API's contract,
    // and every canonical field (signals included) is kept.
    if (format === 'canonical') return this.#normalize(where, this.#withTenant(rec.value), 'canonical');

    const converted = format === 'auto' ? convertRecord(rec.value, 'auto', this.#opts) : convertRecord(rec.value, format, this.#opts);
    if (!converted.ok) {
      this.#metrics?.recordsSkipped.inc({ format, reason: converted.skip });
      return { ok: false, ...where, stage: 'adapter', code: converted.skip, message: converted.message, format };
    }
    return this.#normalize(where, converted.event, format as AdapterName);
  }

  #normalize(where: { index: number; line?: number }, input: unknown, format: AdapterName): IngestOutcome {
    const result = normalizeOne(input, this.#hasher);
    if (result.ok) return { ok: true, ...where, event: result.event, format };
    this.#metrics?.eventsRejected.inc({ reason: result.code });
    return { ok: false, ...where, stage: 'schema', code: result.code, message: result.message, format };
  }

  #withTenant(value: unknown): unknown {
    const tenant = this.#opts.defaultTenant;
    if (tenant === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    if (Object.prototype.hasOwnProperty.call(value, 'tenant')) return value;
    return { ...(value as Record<string, unknown>), tenant };
  }
}
