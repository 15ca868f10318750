// Adapters read whatever a file or an HTTP body contains. Whatever that is, the answer is a converted, schema-valid
// event or a counted skip: never an exception, never a polluted prototype, never a regex that runs for minutes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADAPTER_NAMES, adapters, convertRecord, detectFormat, SKIP_REASONS, type AdapterResult } from '../../../src/events/adapters/index.js';
import { canonicalEventSchema } from '../../../src/events/schema.js';
import { pantherRows, readJsonLines } from './corpus.js';

function wellFormed(result: AdapterResult): boolean {
  if (result.ok) return canonicalEventSchema.safeParse(result.event).success;
  return (SKIP_REASONS as readonly string[]).includes(result.skip) && typeof result.message === 'string';
}

function allAdapters(record: unknown): void {
  for (const name of ADAPTER_NAMES) {
    const r = adapters[name].convert(record);
    expect(wellFormed(r), `${name}: ${JSON.stringify(r)}`).toBe(true);
    expect(typeof adapters[name].detect(record)).toBe('boolean');
  }
  expect(wellFormed(convertRecord(record, 'auto'))).toBe(true);
  detectFormat(record);
}

// FC_RUNS=5000 for a longer hunt; the default keeps the suite fast.
const RUNS = Number(process.env['FC_RUNS'] ?? 300);

describe('hostile input never throws', () => {
  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => allAdapters(v)), { numRuns: RUNS });
  });

  it('arbitrary JS values (null prototypes, boxed values, sparse arrays, dates, maps)', () => {
    const anything = fc.anything({
      withNullPrototype: true,
      withBoxedValues: true,
      withSparseArray: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withBigInt: true,
      withTypedArray: true,
      withObjectString: true,
    });
    fc.assert(fc.property(anything, (v) => allAdapters(v)), { numRuns: RUNS });
  });

  // Real records with one or more fields, at any depth, replaced by arbitrary JSON: the closest thing to a
  // truncated or retyped export.
  const corpus: unknown[] = [
    ...['Okta.SystemLog', 'Auth0.Events', 'Azure.Audit', 'AWS.CloudTrail'].flatMap((t) => pantherRows(t).map((r) => r.log)),
    ...readJsonLines('otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json').slice(0, 20),
  ];

  function paths(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        out.push([...prefix, k]);
        if (prefix.length < 6) paths(child, [...prefix, k], out);
      }
    }
    return out;
  }

  function setPath(root: unknown, path: string[], value: unknown): unknown {
    const copy = structuredClone(root) as Record<string, unknown>;
    let cur: Record<string, unknown> = copy;
    for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
    Object.defineProperty(cur, path[path.length - 1]!, { value, enumerable: true, configurable: true, writable: true });
    return copy;
  }

  it('corpus records with fields replaced by arbitrary JSON', () => {
    const mutated = fc
      .constantFrom(...corpus)
      .chain((record) =>
        fc
          .array(fc.tuple(fc.constantFrom(...paths(record)), fc.jsonValue({ maxDepth: 3 })), { minLength: 1, maxLength: 4 })
          .map((muts) => muts.reduce<unknown>((acc, [p, v]) => {
            try {
              return setPath(acc, p, v);
            } catch {
              return acc; // an earlier mutation removed the parent: keep what we have
            }
          }, record)),
      );
    fc.assert(fc.property(mutated, (v) => allAdapters(v)), { numRuns: RUNS * 2 });
  });

  it('arbitrary strings, including ones that look like log lines', () => {
    const lineish = fc
      .tuple(fc.string(), fc.string(), fc.string())
      .map(([a, b, c]) => `192.0.2.1 - ${a} [01/Jan/2024:00:00:00 +0000] "${b}" 200 1 "-" "${c}" "SID=x"`);
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), lineish), (s) => {
      allAdapters(s);
      expect(wellFormed(adapters.accesslog.convert(s, { sessionCookie: 'SID', sessionHeader: 'h' }))).toBe(true);
    }), { numRuns: RUNS });
  });
});

describe('specific hostile shapes', () => {
  it('__proto__ keys are data, not prototypes', () => {
    const records = [
      JSON.parse('{"__proto__": {"eventType": "user.session.start", "published": "2024-01-01T00:00:00Z"}}'),
      JSON.parse('{"eventType": "user.session.start", "published": "2024-01-01T00:00:00Z", "client": {"__proto__": {"ipAddress": "1.2.3.4"}}}'),
      JSON.parse('{"data": {"__proto__": {"type": "s"}}, "__proto__": {"type": "s", "date": "2024-01-01T00:00:00Z"}}'),
      JSON.parse('{"eventName": "GetObject", "eventSource": "s3.amazonaws.com", "userIdentity": {"__proto__": {"accessKeyId": "ASIAX"}}}'),
      JSON.parse('{"constructor": {"prototype": {"polluted": true}}, "type": "constructor", "date": "2024-01-01T00:00:00Z"}'),
    ];
    for (const r of records) allAdapters(r);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['eventType']).toBeUndefined();
  });

  it('a getter that throws becomes internal_error (convert) and false (detect)', () => {
    const trap = { eventType: 'user.session.start' };
    Object.defineProperty(trap, 'published', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(adapters.okta.convert(trap)).toMatchObject({ ok: false, skip: 'internal_error' });
    const proxy = new Proxy({}, { ownKeys: () => { throw new Error('no keys'); }, getOwnPropertyDescriptor: () => { throw new Error('no'); } });
    for (const name of ADAPTER_NAMES) {
      expect(adapters[name].detect(proxy)).toBe(false);
      expect(wellFormed(adapters[name].convert(proxy))).toBe(true);
    }
    expect(detectFormat(proxy)).toBeUndefined();
    expect(convertRecord(proxy, 'auto')).toMatchObject({ ok: false, skip: 'unrecognized_record' });
    expect(convertRecord(proxy, 'okta')).toMatchObject({ ok: false, skip: 'internal_error' });
  });

  it('huge strings: the user agent is cut, an oversized session id is refused, nothing hangs', () => {
    const big = 'A'.repeat(5_000_000);
    const base = {
      uuid: 'u', published: '2024-01-01T00:00:00Z', eventType: 'user.session.start', outcome: { result: 'SUCCESS' },
      actor: { type: 'User', alternateId: big }, client: { ipAddress: '192.0.2.1', userAgent: { rawUserAgent: big } },
      authenticationContext: { externalSessionId: 's' },
    };
    const started = performance.now();
    const ok = adapters.okta.convert(base);
    expect(ok.ok && ok.event.user_agent?.length).toBe(2048);
    expect(ok.ok && ok.event.user_id).toBeUndefined(); // 5 MB is not a user name
    expect(adapters.okta.convert({ ...base, authenticationContext: { externalSessionId: big } })).toMatchObject({ ok: false, skip: 'invalid_event' });
    expect(adapters.okta.convert({ ...base, published: big })).toMatchObject({ ok: false, skip: 'invalid_time' });
    expect(adapters.okta.convert({ ...base, client: { ipAddress: big } })).toMatchObject({ ok: false, skip: 'invalid_ip' });
    expect(detectFormat(big)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('deeply nested input', () => {
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = { data: deep, detail: { data: deep } };
    allAdapters(deep);
  });
});
