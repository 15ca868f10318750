// Shared generators for the property suites: adversarial strings, IPs of every shape, timestamps far from now,
// prototype-pollution keys, and helpers to put those into otherwise valid records.
import fc from 'fast-check';

/** numRuns for one property: FC_RUNS raises it for a longer hunt; the default keeps the folder under 30 s. */
export function runs(n: number): number {
  const scale = Number(process.env['FC_RUNS_SCALE'] ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** fast-check parameters: modest run counts, and a seed from FC_SEED to replay a failure. */
export function params(n: number): fc.Parameters<unknown> {
  const seed = process.env['FC_SEED'];
  return seed !== undefined ? { numRuns: runs(n), seed: Number(seed) } : { numRuns: runs(n) };
}

export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Strings

const SPECIAL_CHARS = ['\u0000', '\uD800', '\uDC00', '\uDBFF\uDFFF', '\uFFFD', '\uFEFF', '\u202E', '\r', '\n', '\t', '"', '\\', '%', ':', '|', '=', ' ', '😀', 'é'];

/** Text built from bytes that are mostly not UTF-8, decoded the way a body or a file is. */
export const garbageDecoded: fc.Arbitrary<string> = fc
  .tuple(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<BufferEncoding>('utf8', 'latin1', 'utf16le'))
  .map(([bytes, enc]) => Buffer.from(bytes).toString(enc));

/** A string from units a parser trips on: NUL, lone surrogates, BOM, bidi override, quotes and separators. */
export const specialString: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(fc.constantFrom(...SPECIAL_CHARS), fc.constantFrom('a', 'Z', '0', '.', '-')),
  maxLength: 24,
});

/** Strings past every limit the schema sets (4096 session id, 2048 UA, ...) without costing much to build. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(257, 513, 2049, 4097, 70_000, 1_000_000), fc.constantFrom('a', '\u0000', '😀', '\uD800', ' '))
  .map(([n, ch]) => ch.repeat(Math.ceil(n / ch.length)));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 3, arbitrary: specialString },
  { weight: 2, arbitrary: garbageDecoded },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '-', 'null', 'unknown', 'undefined', 'N/A', 'redacted', ...POLLUTION_KEYS) },
);

// ---------------------------------------------------------------------------------------------------------------
// IP addresses of every shape

const hex4 = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
const v4parts = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));

export const ipShapes: fc.Arbitrary<string> = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  // octal / hex / short forms (0x7f.1, 0177.0.0.1, 127.1)
  fc.ipV4Extended(),
  v4parts.map(([a, b, c, d]) => `::ffff:${a}.${b}.${c}.${d}`),
  v4parts.map(([a, b, c, d]) => `::FFFF:${a}.${b}.${c}.${d}`),
  v4parts.map(([a, b, c, d]) => `0:0:0:0:0:ffff:${a}.${b}.${c}.${d}`),
  fc.tuple(hex4, hex4).map(([a, b]) => `::ffff:${a}:${b}`),
  // zone ids, including on addresses that cannot have one
  fc.tuple(fc.oneof(fc.ipV6(), fc.constant('fe80::1'), fc.ipV4()), fc.oneof(fc.constantFrom('eth0', '1', '', '%', 'a b'), specialString)).map(([ip, z]) => `${ip}%${z}`),
  // leading zeros
  v4parts.map(([a, b, c, d]) => `${String(a).padStart(3, '0')}.${b}.${c}.${String(d).padStart(2, '0')}`),
  // v6 compressions and spellings of one address
  fc.constantFrom('::', '::1', '::0', '0::0', '1::', '2001:db8::1', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1', '2001:db8::0:1', ':::1', '1:::2', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::ffff:1.2.3', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', 'fe80::1%eth0', '[::1]', '[2001:db8::1]:443', '1.2.3.4:80', '1.2.3.4/24', '256.1.1.1', '1.2.3.4.5', '1.2.3', ' 1.2.3.4', '1.2.3.4 ', '\t::1\n', '1.2.3.4\u0000', '٣.٣.٣.٣', '１.２.３.４', 'localhost', 'AWS Internal', 'ec2.amazonaws.com', '-', ''),
  hostileString,
);

// ---------------------------------------------------------------------------------------------------------------
// Timestamps far in the past and future, in every spelling

const MAX_DATE_MS = 8.64e15;

export const timeShapes: fc.Arbitrary<unknown> = fc.oneof(
  fc.date({ min: new Date(-MAX_DATE_MS), max: new Date(MAX_DATE_MS), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('1999-06-01T00:00:00Z'), max: new Date('2100-06-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('1999-06-01T00:00:00Z'), max: new Date('2100-06-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.getTime()),
  // numbers as strings, seconds for milliseconds, fractions
  fc.integer({ min: 0, max: 5_000_000_000_000 }).map(String),
  fc.integer({ min: 0, max: 5_000_000_000 }),
  fc.double({ noNaN: false, noDefaultInfinity: false }),
  fc.constantFrom(-0, -1, 0, 1e12 + 0.5, 946_684_800_000, 946_684_799_999, 4_102_444_800_000, 4_102_444_800_001, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity),
  // RFC 3339 from components, in and out of range
  fc
    .record({
      y: fc.oneof(fc.integer({ min: 1999, max: 2101 }), fc.integer({ min: 0, max: 9999 })),
      mo: fc.integer({ min: 0, max: 13 }),
      d: fc.integer({ min: 0, max: 32 }),
      h: fc.integer({ min: 0, max: 25 }),
      mi: fc.integer({ min: 0, max: 60 }),
      s: fc.integer({ min: 0, max: 61 }),
      frac: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,15}$/), fc.constant(',5')),
      zone: fc.oneof(fc.constantFrom('Z', 'z', '', '+00:00', '-00:00', '+23:59', '+24:00', '-99:99', '+0530', ' UTC', 'GMT'), fc.tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 0, max: 99 })).map(([h, m]) => `${h < 0 ? '-' : '+'}${String(Math.abs(h)).padStart(2, '0')}:${String(m).padStart(2, '0')}`)),
      sep: fc.constantFrom('T', 't', ' ', '_'),
    })
    .map(({ y, mo, d, h, mi, s, frac, zone, sep }) => {
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      return `${p(y, 4)}-${p(mo)}-${p(d)}${sep}${p(h)}:${p(mi)}:${p(s)}${frac}${zone}`;
    }),
  fc.constantFrom('2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2024-02-30T00:00:00Z', '2024-04-31T12:00:00Z', '2024-01-01T24:00:00Z', '2016-12-31T23:59:60Z', '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00Z', '10/Oct/2000:13:55:36 -0700', 'Tue, 01 Jan 2030 00:00:00 GMT', 'now', 'yesterday'),
  hostileString,
);

// ---------------------------------------------------------------------------------------------------------------
// Generic values

/** Any JSON value, shallow or deep. */
export const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 3_000 }).map((depth) => deepValue(depth)) },
);

/** `{"a": {"a": ... }}` or `[[[...]]]`: deep enough to hurt a recursive reader, cheap to build. */
export function deepValue(depth: number, kind: 'object' | 'array' = depth % 2 === 0 ? 'object' : 'array'): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = kind === 'object' ? { a: v } : [v];
  return v;
}

/** A value of the wrong type for whatever field it lands in. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, [], {}, [null], { '': '' }),
  fc.double(),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.integer({ min: 10, max: 2_000 }).map((d) => deepValue(d)),
);

/** A `__proto__` / `constructor` / `prototype` payload that would pollute Object.prototype if merged naively. */
export const pollutionPayload: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({ polluted: 'yes' }),
  fc.constant({ prototype: { polluted: 'yes' } }),
  fc.constant({ __proto__polluted: 'yes' }),
  fc.constant('polluted'),
);

/**
 * Re-creates `obj` through JSON text with `extra` own keys (which may be `__proto__`), exactly as JSON.parse hands a
 * request body or a log line to the code under test.
 */
export function viaJson(obj: Record<string, unknown>, extra: ReadonlyArray<readonly [string, unknown]> = []): Record<string, unknown> {
  const parts = Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`);
  for (const [k, v] of extra) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`);
  return JSON.parse(`{${parts.join(',')}}`) as Record<string, unknown>;
}

/** Extra keys to add to a record: pollution keys with payloads, plus unknown keys. */
export const extraKeys: fc.Arbitrary<Array<[string, unknown]>> = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 8 })), fc.oneof(pollutionPayload, fc.jsonValue({ maxDepth: 2 }))),
  { maxLength: 3 },
);

/**
 * Mutates a valid record: each field kept, replaced by a value of the same kind, replaced by one of the wrong type,
 * or dropped. `same` gives the adversarial same-kind value per field.
 */
export function mutateRecord(
  base: Record<string, unknown>,
  same: Readonly<Record<string, fc.Arbitrary<unknown>>>,
): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(base);
  const DROP = Symbol('drop');
  const perField = keys.map((k) =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constant(base[k]) },
      { weight: 3, arbitrary: same[k] ?? hostileString },
      { weight: 1, arbitrary: wrongType },
      { weight: 1, arbitrary: fc.constant<unknown>(DROP) },
    ),
  );
  return fc.tuple(...perField).map((values) => {
    const out: Record<string, unknown> = {};
    values.forEach((v, i) => {
      if (v !== DROP) out[keys[i]!] = v;
    });
    return out;
  });
}

/** Distinctive raw session ids: a test can then search any output for them without false hits. */
export const rawSessionId: fc.Arbitrary<string> = fc
  .tuple(fc.uuid(), fc.oneof(fc.constant(''), specialString))
  .map(([u, tail]) => `RAWSID-${u}${tail}`);

export function isPolluted(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe['polluted'] !== undefined || Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted') || probe['__proto__polluted'] !== undefined;
}
