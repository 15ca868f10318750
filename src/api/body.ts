// Turns a request body into records: JSON (an array, one object, or a vendor envelope), NDJSON, or text lines,
// optionally gzip-compressed (`content-encoding: gzip`). A bad NDJSON or text line is one rejected record, not a
// failed request; a JSON body that does not parse is a 400, as it always was.
import { gunzipBounded, InflateError, recordsOfValue, RecordDecoder, type DecodedRecord, type InputFormat } from '../ingest/decode.js';
import { ApiError } from './errors.js';

export const JSON_TYPES = ['application/json'];
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];
/** Access-log lines, or any format's records one per line. */
export const TEXT_TYPES = ['text/plain'];
export const EVENT_CONTENT_TYPES = [...JSON_TYPES, ...NDJSON_TYPES, ...TEXT_TYPES];

export interface BodyRequest {
  contentType: string;
  contentEncoding?: string | undefined;
  format: InputFormat;
}

export interface BodyLimits {
  maxEvents: number;
  /** bytes a gzip body may inflate to; past it the request is refused with 413 (gzip bombs) */
  maxInflatedBytes: number;
}

const DECODE_SLICE = 1024 * 1024;

const tooMany = (max: number): ApiError => new ApiError(413, 'TOO_MANY_EVENTS', `a request may carry at most ${max} events`);

function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

async function inflate(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'x-gzip') {
    throw new ApiError(415, 'UNSUPPORTED_CONTENT_ENCODING', `content-encoding "${enc.slice(0, 40)}" is not supported; send gzip or no encoding`);
  }
  try {
    return await gunzipBounded(body, maxBytes);
  } catch (err) {
    if (err instanceof InflateError && err.code === 'too_large') throw new ApiError(413, 'BODY_TOO_LARGE', err.message);
    throw new ApiError(400, 'INVALID_GZIP', (err as Error).message);
  }
}

export async function readEventsBody(body: Buffer | string, req: BodyRequest, limits: BodyLimits): Promise<DecodedRecord[]> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const text = (await inflate(bytes, req.contentEncoding, limits.maxInflatedBytes)).toString('utf8');
  const type = mediaType(req.contentType);
  let records: DecodedRecord[];
  if (NDJSON_TYPES.includes(type) || TEXT_TYPES.includes(type)) {
    // Fed in slices so that a body with too many records is refused before all of it is parsed.
    const decoder = new RecordDecoder({ format: req.format, framing: 'lines' });
    records = [];
    for (let i = 0; i < text.length; i += DECODE_SLICE) {
      records.push(...decoder.push(text.slice(i, i + DECODE_SLICE)));
      if (records.length > limits.maxEvents) throw tooMany(limits.maxEvents);
    }
    records.push(...decoder.end());
  } else if (JSON_TYPES.includes(type)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, 'INVALID_JSON', `body is not JSON: ${(err as Error).message}`);
    }
    records = recordsOfValue(value, req.format).map((v, index) => ({ index, value: v }));
  } else {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send one of ${EVENT_CONTENT_TYPES.join(', ')}`);
  }
  if (records.length > limits.maxEvents) throw tooMany(limits.maxEvents);
  return records;
}
