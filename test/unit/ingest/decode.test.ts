import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeStream, decodeText, gunzipBounded, InflateError, isGzip, type DecodedRecord, type DecodeOptions } from '../../../src/ingest/decode.js';
import { JsonArraySplitter } from '../../../src/ingest/json-array.js';
import { LineSplitter } from '../../../src/ingest/lines.js';

/** Feeds bytes in pieces of `size`, so every boundary (inside strings, escapes, UTF-8 sequences) gets crossed. */
function pieces(bytes: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
  );
}

async function collect(input: Readable, opts: DecodeOptions): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  for await (const r of decodeStream(input, opts)) out.push(r);
  return out;
}

const values = (rs: DecodedRecord[]) => rs.map((r) => ('value' in r ? r.value : { error: r.error.code }));

describe('framing recognised from content', () => {
  it('a JSON array, element by element, strings with brackets and escapes included', () => {
    const text = '[{"a":1}, {"b":"x]}\\"y{"} , 3, "s,]", true, [1,[2]], null]';
    expect(values(decodeText(text, { format: 'auto' }))).toEqual([{ a: 1 }, { b: 'x]}"y{' }, 3, 's,]', true, [1, [2]], null]);
  });

  it('NDJSON, with line numbers and blank lines skipped', () => {
    const rs = decodeText('{"a":1}\n\n{"b":2}\r\n', { format: 'okta' });
    expect(rs).toEqual([
      { index: 0, line: 1, value: { a: 1 } },
      { index: 1, line: 3, value: { b: 2 } },
    ]);
  });

  it('a pretty-printed vendor document is held whole and its envelope opened', () => {
    const doc = JSON.stringify({ Records: [{ eventID: 'a' }, { eventID: 'b' }] }, null, 2);
    expect(values(decodeText(doc, { format: 'cloudtrail' }))).toEqual([{ eventID: 'a' }, { eventID: 'b' }]);
    // A one-line CloudTrail file is a line of NDJSON, opened the same way.
    expect(values(decodeText(JSON.stringify({ Records: [{ eventID: 'c' }] }) + '\n', { format: 'auto' }))).toEqual([{ eventID: 'c' }]);
  });

  it('the canonical format takes objects and arrays as they are (no vendor envelopes)', () => {
    expect(values(decodeText('{"records":[1]}', { format: 'canonical' }))).toEqual([{ records: [1] }]);
  });

  it('a truncated NDJSON line is one bad record; the records around it count', () => {
    const rs = decodeText('{"a":1}\n{"b":\n{"c":2}\n', { format: 'okta' });
    expect(values(rs)).toEqual([{ a: 1 }, { error: 'invalid_json' }, { c: 2 }]);
    expect(rs[1]).toMatchObject({ index: 1, line: 2 });
  });

  it('even when the bad line comes first (NDJSON recognised from the lines after it)', () => {
    expect(values(decodeText('{"b":\n{"a":1}\n{"c":2}\n{"d":3}\n', { format: 'okta' }))).toEqual([{ error: 'invalid_json' }, { a: 1 }, { c: 2 }, { d: 3 }]);
    // and when there are too few lines to tell, each line is judged alone once the input ends
    expect(values(decodeText('{"b":\n{"a":1}\n', { format: 'okta' }))).toEqual([{ error: 'invalid_json' }, { a: 1 }]);
  });

  it('a truncated array: the elements before the cut count, the cut is one error', () => {
    expect(values(decodeText('[{"a":1}, {"b":', { format: 'okta' }))).toEqual([{ a: 1 }, { error: 'invalid_json' }]);
    expect(values(decodeText('[{"a":1}', { format: 'okta' }))).toEqual([{ a: 1 }, { error: 'invalid_json' }]);
    expect(values(decodeText('[{"a":1}, {"b" 2}, {"c":3}]', { format: 'okta' }))).toEqual([{ a: 1 }, { error: 'invalid_json' }, { c: 3 }]);
  });

  it('concatenated arrays read as one stream; other data after the array is one error', () => {
    expect(values(decodeText('[1,2]\n[3]', { format: 'auto' }))).toEqual([1, 2, 3]);
    expect(values(decodeText('[1] xyz', { format: 'auto' }))).toEqual([1, { error: 'invalid_json' }]);
  });

  it('text lines for access logs, and for auto when a line is not JSON-shaped', () => {
    const log = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1\n{"a":1}\n';
    expect(values(decodeText(log, { format: 'accesslog' }))).toEqual(['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1', '{"a":1}']);
    expect(values(decodeText(log, { format: 'auto' }))).toEqual(['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1', { a: 1 }]);
    expect(values(decodeText('hello\n', { format: 'okta' }))).toEqual([{ error: 'invalid_json' }]);
  });

  it('lines framing reads a leading [ line as one record (request bodies, tail)', () => {
    expect(values(decodeText('[1,2]\n{"a":1}\n', { format: 'auto', framing: 'lines' }))).toEqual([1, 2, { a: 1 }]);
  });

  it('a byte-order mark is ignored', () => {
    expect(values(decodeText('\ufeff[{"a":1}]', { format: 'auto' }))).toEqual([{ a: 1 }]);
  });

  it('records over the size limit are too_large, and reading goes on', () => {
    const big = JSON.stringify({ x: 'y'.repeat(100) });
    const limits = { maxRecordChars: 50 };
    expect(values(decodeText(`{"a":1}\n${big}\n{"b":2}\n`, { format: 'okta', limits }))).toEqual([{ a: 1 }, { error: 'too_large' }, { b: 2 }]);
    expect(values(decodeText(`[{"a":1},${big},{"b":2}]`, { format: 'okta', limits }))).toEqual([{ a: 1 }, { error: 'too_large' }, { b: 2 }]);
  });

  it('a document too large to hold whole is read as NDJSON instead', () => {
    // Lines 2 and 3 are not JSON on their own, so only the size limit can tell this is not one document.
    const text = '{"b":\n"c",\n' + Array.from({ length: 20 }, (_, i) => `{"i":${i}}`).join('\n');
    const rs = values(decodeText(text, { format: 'okta', limits: { maxDocumentChars: 30 } }));
    expect(rs.slice(0, 2)).toEqual([{ error: 'invalid_json' }, { error: 'invalid_json' }]);
    expect(rs.slice(2)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    // Without the limit it is held, fails as a document, and is then judged line by line all the same.
    expect(values(decodeText(text, { format: 'okta' }))).toEqual(rs);
  });
});

describe('streams', () => {
  const ndjson = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, s: `é✓${'"'.repeat(i % 3)}\\` })).join('\n');

  it('gives the same records whatever the chunk boundaries, plain or gzip', async () => {
    const expected = decodeText(ndjson, { format: 'auto' });
    const array = '[' + ndjson.split('\n').join(',\n') + ']';
    const expectedArray = values(decodeText(array, { format: 'auto' }));
    expect(expectedArray).toEqual(values(expected));
    for (const size of [1, 2, 3, 7, 64, 4096]) {
      expect(await collect(pieces(Buffer.from(ndjson), size), { format: 'auto' })).toEqual(expected);
      expect(await collect(pieces(gzipSync(ndjson), size), { format: 'auto' })).toEqual(expected);
      expect(values(await collect(pieces(gzipSync(array), size), { format: 'auto' }))).toEqual(expectedArray);
    }
  });

  it('reports gzip to the caller, and reads concatenated gzip members as one stream', async () => {
    let gz = 0;
    const both = Buffer.concat([gzipSync('{"a":1}\n'), gzipSync('{"b":2}\n')]);
    expect(values(await collect(pieces(both, 5), { format: 'auto', onGzip: () => gz++ } as DecodeOptions))).toEqual([{ a: 1 }, { b: 2 }]);
    expect(gz).toBe(1);
  });

  it('truncated gzip: the records before the damage, then one invalid_gzip record', async () => {
    const gz = gzipSync(Array.from({ length: 200 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 17) })).join('\n') + '\n');
    const rs = await collect(pieces(gz.subarray(0, gz.length - 10), 100), { format: 'auto' });
    const last = rs[rs.length - 1]!;
    expect(last).toMatchObject({ error: { code: 'invalid_gzip' } });
    expect(rs.filter((r) => 'value' in r).length).toBeGreaterThan(150);
  });

  it('an empty input has no records', async () => {
    expect(await collect(pieces(Buffer.alloc(0), 1), { format: 'auto' })).toEqual([]);
    expect(await collect(pieces(Buffer.from('\n\n  \n'), 1), { format: 'auto' })).toEqual([]);
  });

  it('array splitting agrees with JSON.parse on arbitrary JSON, at arbitrary chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (items, size) => {
        const text = JSON.stringify(items, null, size % 2 === 0 ? 1 : undefined);
        const splitter = new JsonArraySplitter(1 << 20);
        const out = [];
        for (let i = 0; i < text.length; i += size) out.push(...splitter.push(text.slice(i, i + size)));
        out.push(...splitter.end());
        const parsed = out.map((p) => ('text' in p ? JSON.parse(p.text) : p));
        // JSON.stringify turns -0 into 0; compare through JSON so both sides agree.
        expect(JSON.stringify(parsed)).toEqual(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('line splitter', () => {
  it('numbers lines, strips CR, keeps a partial line until the end', () => {
    const s = new LineSplitter(100);
    expect(s.push('a\r\nb')).toEqual([{ line: 1, text: 'a' }]);
    expect(s.pending).toBe(true);
    expect(s.push('c\n')).toEqual([{ line: 2, text: 'bc' }]);
    expect(s.push('d')).toEqual([]);
    expect(s.end()).toEqual([{ line: 3, text: 'd' }]);
  });

  it('drops the text of an overlong line but reports it, with its length', () => {
    const s = new LineSplitter(4);
    expect(s.push('abc')).toEqual([]);
    expect(s.push('defg\nok\n')).toEqual([{ line: 1, tooLarge: true, length: 7 }, { line: 2, text: 'ok' }]);
  });
});

describe('bounded gunzip (request bodies)', () => {
  it('inflates within the limit', async () => {
    expect((await gunzipBounded(gzipSync('hello'), 100)).toString()).toBe('hello');
  });

  it('refuses a gzip bomb past the limit without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(gunzipBounded(bomb, 1024 * 1024)).rejects.toMatchObject({ code: 'too_large' });
  });

  it('tells corrupt data and non-gzip apart', async () => {
    expect(isGzip(Buffer.from([0x1f, 0x8b]))).toBe(true);
    await expect(gunzipBounded(Buffer.from('plain'), 100)).rejects.toBeInstanceOf(InflateError);
    const gz = gzipSync('hello world');
    await expect(gunzipBounded(gz.subarray(0, gz.length - 4), 100)).rejects.toMatchObject({ code: 'invalid_gzip' });
  });
});
