// The decode layer (bytes → records → outcomes) on arbitrary bytes, gzip garbage, truncated gzip and random NDJSON:
// it never throws on content, never hangs, numbers every record it reads, and every record read leaves as exactly
// one of converted, skipped or rejected.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { EVENT_CONTENT_TYPES, readEventsBody } from '../../src/api/body.js';
import { SessionHasher } from '../../src/events/normalize.js';
import { RecordConverter } from '../../src/ingest/convert.js';
import { decodeStream, decodeText, INPUT_FORMATS, type DecodedRecord, type Framing, type InputFormat } from '../../src/ingest/decode.js';
import { hostileString, isPolluted, params } from './arbitraries.js';

const hasher = new SessionHasher('property-test-session-key-0123456789abcdef');

async function* chunks(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, sizes.length > 0 ? sizes[i++ % sizes.length]! : bytes.length);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

const HANG_MS = 5_000;

/** All records of a stream, or a failure if decoding takes longer than HANG_MS. */
async function decodeAll(bytes: Buffer, format: InputFormat, framing: Framing, sizes: number[], maxRecordChars?: number): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  const limits = maxRecordChars !== undefined ? { maxRecordChars, maxDocumentChars: maxRecordChars * 4 } : undefined;
  const work = (async () => {
    for await (const r of decodeStream(chunks(bytes, sizes), { format, framing, ...(limits ? { limits } : {}) })) out.push(r);
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`decoding ${bytes.length} bytes did not finish in ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Indexes are 0..n-1 in order; line numbers, when given, are positive and never go backwards. */
function checkNumbering(records: readonly DecodedRecord[]): void {
  let lastLine = 0;
  records.forEach((r, i) => {
    expect(r.index).toBe(i);
    if (r.line !== undefined) {
      expect(Number.isInteger(r.line) && r.line >= 1).toBe(true);
      expect(r.line).toBeGreaterThanOrEqual(lastLine);
      lastLine = r.line;
    }
    if ('error' in r) {
      expect(['invalid_json', 'too_large', 'invalid_gzip']).toContain(r.error.code);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
  });
}

/** Every record read is converted, skipped or rejected: exactly one, by its own index. */
function account(records: readonly DecodedRecord[], format: InputFormat): { converted: number; skipped: number; rejected: number } {
  const converter = new RecordConverter({ format, hasher, adapterOptions: { sessionCookie: 'SID' } });
  const tally = { converted: 0, skipped: 0, rejected: 0 };
  for (const r of records) {
    const outcome = converter.convert(r);
    expect(outcome.index).toBe(r.index);
    if (outcome.ok) {
      tally.converted++;
      expect(outcome.event.session).toMatch(/^[0-9a-f]{32}$/);
      continue;
    }
    expect(outcome.code.length).toBeGreaterThan(0);
    expect(outcome.message.length).toBeGreaterThan(0);
    if (outcome.stage === 'adapter') tally.skipped++;
    else tally.rejected++;
  }
  expect(tally.converted + tally.skipped + tally.rejected).toBe(records.length);
  return tally;
}

const formats = fc.constantFrom(...INPUT_FORMATS);
const framings = fc.constantFrom<Framing>('sniff', 'lines');
const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 });

// ---------------------------------------------------------------------------------------------------------------
// Random NDJSON with a known record count

const EVENT = { time: '2026-11-23T12:00:00Z', type: 'request', session_id: 'sess-1', ip: '203.0.113.7' };

interface Line {
  text: string;
  /** records this line stands for, per format kind */
  count: (format: InputFormat) => number;
}

const line: fc.Arbitrary<Line> = fc.oneof(
  // a canonical event, possibly with a hostile field
  fc.tuple(fc.constantFrom('id', 'user_id', 'user_agent', 'tenant'), hostileString).map(([k, v]) => ({ text: JSON.stringify({ ...EVENT, [k]: v }), count: () => 1 })),
  // an Okta-like vendor record
  fc.constant({ text: JSON.stringify({ uuid: 'u', published: '2026-11-23T12:00:00Z', eventType: 'user.session.start', client: { ipAddress: '203.0.113.7' }, authenticationContext: { externalSessionId: 'x' } }), count: () => 1 }),
  // a JSON array on one line: its elements (the canonical format and vendor envelopes alike)
  fc.array(fc.constant(EVENT), { maxLength: 4 }).map((a) => ({ text: JSON.stringify(a), count: (f: InputFormat) => (f === 'accesslog' ? 1 : a.length) })),
  // a CloudTrail envelope on one line: opened for vendor formats, one (bad) record for canonical
  fc.array(fc.constant({ eventName: 'GetObject' }), { minLength: 1, maxLength: 3 }).map((a) => ({
    text: JSON.stringify({ Records: a }),
    count: (f: InputFormat) => (f === 'canonical' || f === 'accesslog' ? 1 : a.length),
  })),
  // truncated JSON, garbage, an access-log line: one record each
  fc.constant(EVENT).map((e) => ({ text: JSON.stringify(e).slice(0, -3), count: () => 1 })),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '' && !/[\n]/.test(s)).map((s) => ({ text: s, count: () => 1 })),
  fc.constant({ text: '203.0.113.7 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "SID=abc"', count: () => 1 }),
  // blank lines: nothing
  fc.constantFrom('', ' ', '\t', '\r').map((s) => ({ text: s, count: () => 0 })),
  // a line over the record limit (set to 300 characters below): one too_large record
  fc.integer({ min: 301, max: 600 }).map((n) => ({ text: 'x'.repeat(n), count: () => 1 })),
);

const MAX_RECORD = 300;

function expectedCount(lines: readonly Line[], format: InputFormat): number {
  return lines.reduce((n, l) => {
    if (l.text.replace(/\r$/, '').length > MAX_RECORD) return n + 1;
    return n + l.count(format);
  }, 0);
}

afterAll(() => {
  expect(isPolluted()).toBe(false);
});

describe('decode: arbitrary bytes', () => {
  it('never throws or hangs; records are numbered; each is converted, skipped or rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_048 }), formats, framings, chunkSizes, async (bytes, format, framing, sizes) => {
        const records = await decodeAll(Buffer.from(bytes), format, framing, sizes);
        checkNumbering(records);
        account(records, format);
      }),
      params(150),
    );
  });

  it('text built from JSON fragments, brackets and quotes (the array and document state machines)', async () => {
    const fragment = fc.oneof(
      fc.constantFrom('[', ']', '{', '}', ',', ':', '"', '\\', '\\"', '\n', '\r\n', ' ', 'null', 'true', '1', '-', '1e5', '"a"', '\u2028', '\uFEFF', '\u0000'),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { maxLength: 60 }), formats, framings, chunkSizes, async (parts, format, framing, sizes) => {
        const records = await decodeAll(Buffer.from(parts.join(''), 'utf8'), format, framing, sizes);
        checkNumbering(records);
        account(records, format);
        // The same text in one piece gives the same records (chunk boundaries never change the answer).
        expect(decodeText(parts.join(''), { format, framing })).toEqual(records);
      }),
      params(200),
    );
  });
});

describe('decode: gzip', () => {
  it('gzip magic followed by garbage: the records before the damage, then one invalid_gzip record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), formats, chunkSizes, async (tail, format, sizes) => {
        const records = await decodeAll(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(tail)]), format, 'sniff', sizes);
        checkNumbering(records);
        account(records, format);
        const last = records[records.length - 1];
        expect(last && 'error' in last && last.error.code).toBe('invalid_gzip');
      }),
      params(100),
    );
  });

  it('gzip of NDJSON decodes exactly as the plain text, whatever the chunking and member split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), formats, chunkSizes, fc.nat(), async (lines, format, sizes, cut) => {
        const text = lines.map((l) => l.text).join('\n');
        const plain = await decodeAll(Buffer.from(text, 'utf8'), format, 'lines', [1 << 20], MAX_RECORD);
        // Concatenated gzip members are one stream; split the text anywhere, even inside a character.
        const bytes = Buffer.from(text, 'utf8');
        const at = bytes.length === 0 ? 0 : cut % bytes.length;
        const gz = Buffer.concat([gzipSync(bytes.subarray(0, at)), gzipSync(bytes.subarray(at))]);
        const inflated = await decodeAll(gz, format, 'lines', sizes, MAX_RECORD);
        expect(inflated).toEqual(plain);
      }),
      params(100),
    );
  });

  it('truncated gzip: a prefix of the records, then invalid_gzip; every record accounted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 12 }), formats, chunkSizes, fc.double({ min: 0, max: 1, noNaN: true }), async (lines, format, sizes, where) => {
        const text = lines.map((l) => l.text).join('\n');
        const full = gzipSync(Buffer.from(text, 'utf8'));
        const cut = 2 + Math.floor(where * (full.length - 3)); // keep the magic, lose at least one byte
        const whole = await decodeAll(full, format, 'lines', sizes, MAX_RECORD);
        const records = await decodeAll(full.subarray(0, cut), format, 'lines', sizes, MAX_RECORD);
        checkNumbering(records);
        account(records, format);
        const last = records[records.length - 1]!;
        expect('error' in last && last.error.code).toBe('invalid_gzip');
        // Everything but the line the damage cut through is what the whole file gives.
        const before = records.slice(0, -2);
        expect(before).toEqual(whole.slice(0, before.length));
        expect(records.length).toBeLessThanOrEqual(whole.length + 1);
      }),
      params(100),
    );
  });
});

describe('decode: random NDJSON, record by record', () => {
  it('lines framing: records read = the lines that hold records, each accounted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), formats, chunkSizes, fc.boolean(), fc.boolean(), async (lines, format, sizes, bom, crlf) => {
        const text = (bom ? '\uFEFF' : '') + lines.map((l) => l.text).join(crlf ? '\r\n' : '\n');
        const records = await decodeAll(Buffer.from(text, 'utf8'), format, 'lines', sizes, MAX_RECORD);
        checkNumbering(records);
        expect(records.length).toBe(expectedCount(lines, format));
        const t = account(records, format);
        expect(t.converted + t.skipped + t.rejected).toBe(expectedCount(lines, format));
      }),
      params(200),
    );
  });

  it('sniff framing: the same NDJSON is read the same way when its first line is a JSON object', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 20 }), fc.constantFrom<InputFormat>('canonical', 'okta', 'auto'), chunkSizes, async (lines, format, sizes) => {
        const text = [JSON.stringify(EVENT), ...lines.map((l) => l.text)].join('\n');
        const sniffed = await decodeAll(Buffer.from(text, 'utf8'), format, 'sniff', sizes, MAX_RECORD);
        const framed = await decodeAll(Buffer.from(text, 'utf8'), format, 'lines', sizes, MAX_RECORD);
        expect(sniffed).toEqual(framed);
      }),
      params(100),
    );
  });
});

describe('request bodies (the API path)', () => {
  const encodings = fc.constantFrom(undefined, '', 'identity', 'gzip', 'GZIP', 'x-gzip', 'br', 'deflate, gzip');
  const contentTypes = fc.oneof(fc.constantFrom(...EVENT_CONTENT_TYPES), fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/X-NDJSON', 'text/html', '', ';', 'multipart/form-data'));

  it('arbitrary bytes: records numbered 0..n-1, or a 400/413/415 ApiError; nothing else is thrown', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 1_024 }), fc.array(line, { maxLength: 10 }).map((ls) => new TextEncoder().encode(ls.map((l) => l.text).join('\n')))),
        fc.boolean(),
        contentTypes,
        encodings,
        formats,
        fc.integer({ min: 1, max: 20 }),
        async (raw, gzip, contentType, encoding, format, maxEvents) => {
          const body = gzip ? gzipSync(raw) : Buffer.from(raw);
          try {
            const records = await readEventsBody(body, { contentType, contentEncoding: encoding, format }, { maxEvents, maxInflatedBytes: 64 * 1024 });
            checkNumbering(records);
            expect(records.length).toBeLessThanOrEqual(maxEvents);
            account(records, format);
          } catch (err) {
            expect(err).toBeInstanceOf(ApiError);
            expect([400, 413, 415]).toContain((err as ApiError).statusCode);
            expect((err as ApiError).message).not.toMatch(/\n\s+at /);
          }
        },
      ),
      params(200),
    );
  });
});
