// Bytes and streams → records, for every ingestion path (HTTP bodies, `scan` files and stdin, `tail` lines).
//
// What a record is depends on the format: a JSON value for the JSON formats, a text line for `accesslog`, either for
// `auto`. Input framing is recognised from the content, never from a file name:
// - gzip (by its magic bytes 1f 8b), of anything below; concatenated gzip members are one stream;
// - a JSON array `[...]`: streamed element by element (src/ingest/json-array.ts);
// - NDJSON: one JSON value per line, streamed line by line;
// - one JSON document (e.g. a pretty-printed CloudTrail file `{"Records": [...]}`): held whole, up to
//   `maxDocumentChars`, since its envelope must be seen entire before its records are known. A document over the
//   limit is read as NDJSON instead, so a mislabelled huge file still streams;
// - text lines (`accesslog`; `auto` for lines that do not start with `{` or `[`).
// Vendor envelopes ({"Records": [...]}, {"records": [...]}, Graph pages) are opened with `unwrapBatch`, except for
// the canonical format, whose arrays and objects are taken as they are (an envelope is not a canonical event).
//
// Nothing here throws on bad content: an unreadable line, element or gzip stream is a record with an error, with its
// index and line, and the records around it still count.
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gunzip as gunzipCb, type InputType, type ZlibOptions } from 'node:zlib';
import { ADAPTER_NAMES, unwrapBatch, type AdapterName } from '../events/adapters/index.js';
import { JsonArraySplitter, type ArrayPiece } from './json-array.js';
import { LineSplitter, type SplitLine } from './lines.js';

export type InputFormat = AdapterName | 'auto';
export const INPUT_FORMATS: readonly InputFormat[] = [...ADAPTER_NAMES, 'auto'];

export function isInputFormat(name: string): name is InputFormat {
  return (INPUT_FORMATS as readonly string[]).includes(name);
}

export type DecodeErrorCode = 'invalid_json' | 'too_large' | 'invalid_gzip';

export type DecodedRecord =
  | { index: number; line?: number; value: unknown }
  | { index: number; line?: number; error: { code: DecodeErrorCode; message: string } };

export interface DecodeLimits {
  /** characters in one line or one array element */
  maxRecordChars: number;
  /** characters of a single JSON document held whole (see the header) */
  maxDocumentChars: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxRecordChars: 32 * 1024 * 1024,
  maxDocumentChars: 64 * 1024 * 1024,
};

/**
 * `sniff`: recognise array / NDJSON / document / text from the content (files, stdin).
 * `lines`: one record per line, whatever the first character (NDJSON and text/plain request bodies, `tail`).
 */
export type Framing = 'sniff' | 'lines';

export interface DecodeOptions {
  format: InputFormat;
  framing?: Framing;
  limits?: Partial<DecodeLimits>;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The records a top-level JSON value stands for. */
export function recordsOfValue(value: unknown, format: InputFormat): unknown[] {
  if (format === 'canonical') return Array.isArray(value) ? value : [value];
  return unwrapBatch(value);
}

type Piece = { value: unknown } | { error: { code: DecodeErrorCode; message: string } };

/**
 * The records one line stands for: the line itself for access logs (and for `auto` when it is not JSON-shaped),
 * otherwise its JSON value, opened like a document (a one-line CloudTrail file is a line of NDJSON too).
 */
export function recordsOfLine(text: string, format: InputFormat): Piece[] {
  if (format === 'accesslog') return [{ value: text }];
  const first = firstNonSpace(text);
  if (format === 'auto' && first !== '{' && first !== '[') return [{ value: text }];
  try {
    return recordsOfValue(JSON.parse(text), format).map((value) => ({ value }));
  } catch (err) {
    return [{ error: { code: 'invalid_json', message: `not JSON: ${(err as Error).message}` } }];
  }
}

function firstNonSpace(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n' && c !== '\ufeff') return c;
  }
  return undefined;
}

function tooLarge(what: string, length: number, max: number): { code: 'too_large'; message: string } {
  return { code: 'too_large', message: `${what} of ${length} characters is over the limit of ${max}` };
}

/**
 * Push-style decoder over text chunks: the same state machine serves a 1 GB file (fed chunk by chunk) and a request
 * body (fed once). Records are numbered from 0 in input order; an unreadable line or element takes an index too, so
 * indexes match what the producer sent.
 */
export class RecordDecoder {
  readonly #format: InputFormat;
  readonly #limits: DecodeLimits;
  #mode: 'sniff' | 'lines' | 'first-line' | 'document' | 'array';
  #index = 0;
  #bomChecked = false;
  #sniffed = '';
  readonly #lines: LineSplitter;
  #array: JsonArraySplitter | undefined;
  /** lines held while deciding whether the input is one pretty-printed document */
  #held: { line: number; text: string }[] = [];
  #heldChars = 0;
  #heldLines = 0;

  constructor(opts: DecodeOptions) {
    this.#format = opts.format;
    this.#limits = { ...DEFAULT_DECODE_LIMITS, ...opts.limits };
    this.#mode = opts.framing === 'lines' || opts.format === 'accesslog' ? 'lines' : 'sniff';
    this.#lines = new LineSplitter(this.#limits.maxRecordChars);
  }

  push(text: string): DecodedRecord[] {
    if (!this.#bomChecked && text.length > 0) {
      this.#bomChecked = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.#mode === 'sniff') {
      const first = firstNonSpace(text);
      if (first === undefined) {
        // Keep leading blank lines so line numbers stay right, but never more than a little of them.
        this.#sniffed += text.length > 4096 ? text.replace(/[^\n]/g, '') : text;
        return [];
      }
      this.#mode = first === '[' ? 'array' : first === '{' ? 'first-line' : 'lines';
      text = this.#sniffed + text;
      this.#sniffed = '';
      if (this.#mode === 'array') this.#array = new JsonArraySplitter(this.#limits.maxRecordChars);
    }
    if (this.#mode === 'array') return this.#fromPieces(this.#array!.push(text));
    return this.#fromLines(this.#lines.push(text));
  }

  end(): DecodedRecord[] {
    if (this.#mode === 'sniff') return [];
    if (this.#mode === 'array') return this.#fromPieces(this.#array!.end());
    const out = this.#fromLines(this.#lines.end());
    if (this.#mode === 'document') out.push(...this.#endDocument());
    return out;
  }

  /** Records emitted so far (the next record's index). */
  get count(): number {
    return this.#index;
  }

  /** An error record after the last one, e.g. when the byte stream under the text broke off. */
  error(code: DecodeErrorCode, message: string, line?: number): DecodedRecord {
    return line === undefined ? { index: this.#index++, error: { code, message } } : { index: this.#index++, line, error: { code, message } };
  }

  #emit(out: DecodedRecord[], line: number | undefined, pieces: Piece[]): void {
    for (const p of pieces) {
      const rec = { index: this.#index++, ...(line !== undefined ? { line } : {}), ...p } as DecodedRecord;
      out.push(rec);
    }
  }

  #fromLines(lines: SplitLine[]): DecodedRecord[] {
    const out: DecodedRecord[] = [];
    for (const l of lines) {
      if ('tooLarge' in l) {
        if (this.#mode === 'document') this.#releaseHeld(out);
        if (this.#mode === 'first-line') this.#mode = 'lines';
        this.#emit(out, l.line, [{ error: tooLarge('line', l.length, this.#limits.maxRecordChars) }]);
        continue;
      }
      if (this.#mode === 'document') {
        this.#held.push(l);
        this.#heldChars += l.text.length + 1;
        // Too big to be held whole, or the next two lines are JSON values of their own: it is NDJSON whose first
        // line is bad, so it is read line by line after all.
        if (this.#heldChars > this.#limits.maxDocumentChars || this.#looksLikeNdjson()) this.#releaseHeld(out);
        continue;
      }
      if (l.text.trim() === '') continue;
      if (this.#mode === 'first-line') {
        // The first line decides: valid JSON on its own means NDJSON; otherwise it may be the `{` of a
        // pretty-printed document, which is only known once the whole input has been seen.
        if (!isJson(l.text)) {
          this.#mode = 'document';
          this.#held = [l];
          this.#heldChars = l.text.length + 1;
          this.#heldLines = 1;
          continue;
        }
        this.#mode = 'lines';
      }
      this.#emit(out, l.line, recordsOfLine(l.text, this.#format));
    }
    return out;
  }

  /** Decided on the second and third non-blank lines only, so holding a large document stays linear. */
  #looksLikeNdjson(): boolean {
    const last = this.#held[this.#held.length - 1]!;
    if (last.text.trim() === '') return false;
    this.#heldLines++;
    if (this.#heldLines !== 3) return false;
    const rest = this.#held.slice(1).filter((h) => h.text.trim() !== '');
    return rest.every((h) => h.text.trimStart().startsWith('{') && isJson(h.text));
  }

  #releaseHeld(out: DecodedRecord[]): void {
    const held = this.#held;
    this.#held = [];
    this.#heldChars = 0;
    this.#mode = 'lines';
    for (const h of held) if (h.text.trim() !== '') this.#emit(out, h.line, recordsOfLine(h.text, this.#format));
  }

  #endDocument(): DecodedRecord[] {
    const out: DecodedRecord[] = [];
    const text = this.#held.map((h) => h.text).join('\n');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Not one document either: each line is judged on its own (a truncated record is one bad line).
      this.#releaseHeld(out);
      return out;
    }
    const line = this.#held[0]?.line;
    this.#held = [];
    this.#heldChars = 0;
    this.#emit(out, line, recordsOfValue(value, this.#format).map((v) => ({ value: v })));
    return out;
  }

  #fromPieces(pieces: ArrayPiece[]): DecodedRecord[] {
    const out: DecodedRecord[] = [];
    for (const p of pieces) {
      if ('text' in p) {
        let piece: Piece;
        try {
          piece = { value: JSON.parse(p.text) };
        } catch (err) {
          piece = { error: { code: 'invalid_json', message: `array element is not JSON: ${(err as Error).message}` } };
        }
        this.#emit(out, p.line, [piece]);
      } else if ('tooLarge' in p) {
        this.#emit(out, p.line, [{ error: tooLarge('array element', p.length, this.#limits.maxRecordChars) }]);
      } else {
        this.#emit(out, p.line, [{ error: { code: 'invalid_json', message: p.error } }]);
      }
    }
    return out;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The raw bytes of a stream, inflated when they start with the gzip magic; anything else passes through. */
async function* inflatedChunks(input: AsyncIterable<Buffer | string>, onGzip?: () => void): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let done = false;
  while (headLength < 2) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    head.push(b);
    headLength += b.length;
  }
  const first = Buffer.concat(head);
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  if (!isGzip(first)) {
    yield* all();
    return;
  }
  onGzip?.();
  const source = Readable.from(all(), { objectMode: false });
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Errors zlib raises on corrupt or truncated gzip data (as opposed to the file system failing underneath). */
function isZlibError(err: unknown): err is Error {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

export interface StreamDecodeOptions extends DecodeOptions {
  /** called once when the input turns out to be gzip */
  onGzip?: () => void;
}

/**
 * Records of a byte stream, in order, with memory bounded by the largest record (or the document limit). Read errors
 * of the underlying stream (a missing file) are thrown; corrupt gzip becomes an `invalid_gzip` record after the
 * records decoded before the damage.
 */
export async function* decodeStream(input: AsyncIterable<Buffer | string>, opts: StreamDecodeOptions): AsyncGenerator<DecodedRecord> {
  const decoder = new RecordDecoder(opts);
  const text = new StringDecoder('utf8');
  let broken: Error | undefined;
  try {
    for await (const chunk of inflatedChunks(input, opts.onGzip)) {
      const s = text.write(chunk);
      if (s.length > 0) yield* decoder.push(s);
    }
  } catch (err) {
    if (!isZlibError(err)) throw err;
    broken = err;
  }
  const rest = text.end();
  if (rest.length > 0) yield* decoder.push(rest);
  yield* decoder.end();
  if (broken) yield decoder.error('invalid_gzip', `gzip data is corrupt or truncated: ${broken.message}; the records before the damage were read`);
}

/** Decodes text that is wholly in memory (a request body) with the same rules as a stream. */
export function decodeText(text: string, opts: DecodeOptions): DecodedRecord[] {
  const decoder = new RecordDecoder(opts);
  return [...decoder.push(text), ...decoder.end()];
}

export class InflateError extends Error {
  constructor(readonly code: 'too_large' | 'invalid_gzip', message: string) {
    super(message);
  }
}

const gunzipAsync = (buf: InputType, opts: ZlibOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => gunzipCb(buf, opts, (err, out) => (err ? reject(err) : resolve(out))));

/**
 * Inflates a gzip buffer with a hard bound on the output, so a few kilobytes of gzip bomb cannot take the process's
 * memory: past `maxBytes` zlib stops and this throws `too_large`.
 */
export async function gunzipBounded(bytes: Buffer, maxBytes: number): Promise<Buffer> {
  if (!isGzip(bytes)) throw new InflateError('invalid_gzip', 'the body is not gzip data (no 1f 8b magic bytes)');
  try {
    return await gunzipAsync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new InflateError('too_large', `the inflated body is larger than ${maxBytes} bytes`);
    }
    throw new InflateError('invalid_gzip', `gzip data is corrupt or truncated: ${(err as Error).message}`);
  }
}
