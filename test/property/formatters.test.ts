// SIEM formatters, adding to test/unit/formatters (which holds every format to its spec on arbitrary incidents with
// one fixed set of options): here the options vary over everything the sinks file accepts, incident strings are
// huge, incidents are arbitrary JSON shapes (out of contract, as they may come back from Redis), and framing
// (files, HEC batches, octet counting, syslog wrappers) is checked on many records. Always: no exception, output a
// strict parser reads back, and nothing polluted.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/model.js';
import {
  FormatterOptionsError,
  OUTPUT_FORMATS,
  SYSLOG_FACILITIES,
  formatIncident,
  frameRecords,
  octetFrame,
  validateFormatterOptions,
  wrapRfc3164,
  wrapSyslog5424,
  type FormatterOptions,
  type OutputFormat,
} from '../../src/outputs/formatters/index.js';
import { T0_MS, arbIncident, canonicalIncident, parse5424, parseCef, parseLeef, parseOctetFrame } from '../unit/formatters/helpers.js';
import { deepValue, hostileString, isPolluted, params, specialString } from './arbitraries.js';

/** Reads a record back with a parser written from the format's spec; throws if it is not a valid record. */
function parseRecord(format: OutputFormat, record: string): void {
  expect(Buffer.from(record, 'utf8').toString('utf8'), `${format}: not well-formed UTF-16`).toBe(record);
  switch (format) {
    case 'cef':
      parseCef(record);
      return;
    case 'leef':
    case 'leef2':
      parseLeef(record);
      return;
    case 'syslog':
      parse5424(record);
      return;
    case 'bulk': {
      const lines = record.split('\n');
      expect(lines).toHaveLength(2);
      for (const l of lines) JSON.parse(l);
      return;
    }
    default:
      expect(record).not.toContain('\n');
      JSON.parse(record);
  }
}

/** Printable ASCII names as an operator would configure (syslog header fields stay within RFC 5424 limits). */
const shortName = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/);

/** Every option the sinks file can express (src/outputs/config.ts formatOptionsSchema), with hostile text values. */
const options: fc.Arbitrary<FormatterOptions> = fc.record(
  {
    producer: fc.record({ vendor: hostileString.filter((s) => s.length >= 1 && s.length <= 63), product: hostileString.filter((s) => s.length >= 1 && s.length <= 63), version: fc.oneof(shortName, specialString.filter((s) => s.length >= 1 && s.length <= 31)) }, { requiredKeys: [] }),
    hostname: fc.oneof(shortName, fc.constant(''), hostileString.filter((s) => s.length <= 255)),
    appName: fc.oneof(shortName, specialString.filter((s) => s.length >= 1 && s.length <= 48)),
    syslog: fc.record(
      {
        facility: fc.oneof(fc.constantFrom(...(Object.keys(SYSLOG_FACILITIES) as (keyof typeof SYSLOG_FACILITIES)[])), fc.integer({ min: 0, max: 23 })),
        enterpriseId: fc.integer({ min: 1, max: 2 ** 31 }),
        procId: fc.oneof(shortName, specialString.filter((s) => s.length >= 1)),
        maxBytes: fc.integer({ min: 480, max: 9_000 }),
      },
      { requiredKeys: [] },
    ),
    hec: fc.record({ sourcetype: hostileString.filter((s) => s.length >= 1), index: hostileString.filter((s) => s.length >= 1), source: hostileString.filter((s) => s.length >= 1) }, { requiredKeys: [] }),
    leef: fc.record({
      delimiter: fc.oneof(
        fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
        fc.integer({ min: 1, max: 0xffff }).map((n) => `x${n.toString(16)}`),
        fc.integer({ min: 1, max: 0xffff }).map((n) => `0X${n.toString(16).toUpperCase()}`),
        fc.constantFrom('^', '|', '=', ' ', 'a', '\\', '\t', 'x', '0x', 'x00', 'xD800'),
      ),
    }, { requiredKeys: [] }),
    bulk: fc.record({ index: hostileString.filter((s) => s.length >= 1 && s.length <= 255), action: fc.constantFrom('create' as const, 'index' as const) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
)
  // U+FFFD as the LEEF 2.0 delimiter is a known defect (see the end of this file), kept out of the general property.
  .filter((o) => !/^(0x|x)0*fffd$/i.test(o.leef?.delimiter ?? '') && o.leef?.delimiter !== '\uFFFD')
  .map((o) => ({ ...o, clock: () => T0_MS }));

/** Options are valid (validateFormatterOptions passes) or refused there, with a FormatterOptionsError. */
function validOrRefused(opts: FormatterOptions): boolean {
  try {
    validateFormatterOptions(opts);
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(FormatterOptionsError);
    expect((err as FormatterOptionsError).path).toMatch(/^(syslog|leef|bulk)\./);
    return false;
  }
}

afterAll(() => {
  expect(isPolluted()).toBe(false);
});

describe('any options the sinks file accepts', () => {
  it('either refused at validation or every format gives parseable, deterministic records', () => {
    fc.assert(
      fc.property(arbIncident, options, (incident, opts) => {
        if (!validOrRefused(opts)) return;
        for (const format of OUTPUT_FORMATS) {
          const record = formatIncident(format, incident, opts);
          parseRecord(format, record);
          expect(formatIncident(format, incident, opts)).toBe(record);
        }
      }),
      params(250),
    );
  });

  it('syslog max_bytes holds for any incident when the configured names are short', () => {
    fc.assert(
      fc.property(arbIncident, fc.integer({ min: 480, max: 2_048 }), shortName, shortName, (incident, maxBytes, hostname, appName) => {
        const record = formatIncident('syslog', incident, { hostname, appName, syslog: { maxBytes }, clock: () => T0_MS });
        parse5424(record);
        expect(Buffer.byteLength(record, 'utf8')).toBeLessThanOrEqual(maxBytes);
      }),
      params(200),
    );
  });
});

describe('huge values', () => {
  const huge = fc.tuple(fc.constantFrom(10_000, 100_000, 250_000), fc.constantFrom('x', '|=\\"]', '\r\n\t\u0000', '😀', '\uD800', ' ')).map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));

  it('10-250 KB strings in every text slot: parseable in every format, within syslog caps', () => {
    fc.assert(
      fc.property(huge, fc.constantFrom(...OUTPUT_FORMATS), fc.boolean(), (big, format, capped) => {
        const incident = canonicalIncident({
          id: big, session: big, user: big, tenant: big, rule: { id: big, title: big, version: 1 }, mitre: [big, 'T1539'], event_ids: [big],
          evidence: { reason: big, fields: { ip: [{ value: big, first_seen: big, last_seen: big, country: big }] }, ips: [big, '203.0.113.7'], user_agents: [big], details: { [big.slice(0, 100)]: big } },
        });
        const opts: FormatterOptions = capped ? { syslog: { maxBytes: 1_180 }, clock: () => T0_MS } : { clock: () => T0_MS };
        const started = performance.now();
        const record = formatIncident(format, incident, opts);
        expect(performance.now() - started).toBeLessThan(10_000);
        parseRecord(format, record);
        if (format === 'syslog' && capped) expect(Buffer.byteLength(record)).toBeLessThanOrEqual(1_180);
      }),
      params(20),
    );
  }, 120_000);
});

describe('out-of-contract shapes (incidents as they may come back from a store)', () => {
  const FIELDS = ['id', 'dedup_key', 'rule', 'severity', 'mitre', 'status', 'session', 'user', 'tenant', 'first_seen', 'last_seen', 'count', 'suppressed', 'action', 'monitor', 'event_ids', 'evidence', 'created_at', 'updated_at', 'history', 'response'];
  const EVIDENCE = ['reason', 'fields', 'ips', 'user_agents', 'trigger_ip', 'details'];
  const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, 1e308, -0, '', [], {}, [null], { __proto__: null }), hostileString);

  it('any field, or any evidence field, replaced by any JSON value: no exception, parseable', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 5 }),
        fc.dictionary(fc.constantFrom(...EVIDENCE), value, { maxKeys: 3 }),
        fc.constantFrom(...OUTPUT_FORMATS),
        (top, evidence, format) => {
          // Through JSON, as an incident read back from Redis would be.
          const base = canonicalIncident() as unknown as Record<string, unknown>;
          const incident = JSON.parse(JSON.stringify({ ...base, ...top, evidence: { ...(base['evidence'] as object), ...evidence } })) as Incident;
          parseRecord(format, formatIncident(format, incident, { clock: () => T0_MS }));
        },
      ),
      params(300),
    );
  });

  it('whole incidents that are arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...OUTPUT_FORMATS), (v, format) => {
        parseRecord(format, formatIncident(format, v as unknown as Incident, { clock: () => T0_MS }));
      }),
      params(200),
    );
  });

  it('__proto__ / constructor / prototype keys anywhere in an incident: data in JSON formats, no pollution', () => {
    const keys = fc.constantFrom('__proto__', 'constructor', 'prototype');
    fc.assert(
      fc.property(keys, fc.constantFrom('', 'evidence', 'evidence.details', 'evidence.fields', 'rule'), fc.constantFrom(...OUTPUT_FORMATS), (key, where, format) => {
        const base = JSON.stringify(canonicalIncident());
        const payload = `"${key}":{"polluted":"yes","id":"evil","severity":"critical","toString":"x"}`;
        const target = where === '' ? '{' : where === 'evidence' ? '"evidence":{' : where === 'evidence.details' ? '"evidence":{' : where === 'evidence.fields' ? '"fields":{' : '"rule":{';
        let text = base.replace(target, `${target}${payload},`);
        if (where === 'evidence.details') text = text.replace('"evidence":{', '"evidence":{"details":{' + payload + '},');
        const incident = JSON.parse(text) as Incident;
        parseRecord(format, formatIncident(format, incident, { clock: () => T0_MS }));
        expect(isPolluted()).toBe(false);
      }),
      params(100),
    );
  });
});

describe('framing many records', () => {
  it('files and _bulk bodies split back into their records; HEC batches into their envelopes', () => {
    fc.assert(
      fc.property(fc.array(arbIncident, { minLength: 1, maxLength: 5 }), fc.constantFrom(...OUTPUT_FORMATS), (incidents, format) => {
        const records = incidents.map((i) => formatIncident(format, i, { clock: () => T0_MS }));
        const body = frameRecords(format, records);
        if (format === 'hec') {
          // Concatenated JSON objects: split at the boundaries we know and parse each.
          let at = 0;
          for (const r of records) {
            expect(body.slice(at, at + r.length)).toBe(r);
            JSON.parse(body.slice(at, at + r.length));
            at += r.length;
          }
          expect(at).toBe(body.length);
          return;
        }
        expect(body.endsWith('\n')).toBe(true);
        const lines = body.slice(0, -1).split('\n');
        expect(lines.length).toBe(records.length * (format === 'bulk' ? 2 : 1));
        expect(lines.join('\n')).toBe(records.join('\n'));
      }),
      params(150),
    );
  });

  it('syslog over TCP (octet counting) and CEF/LEEF inside RFC 5424 / RFC 3164 wrappers', () => {
    fc.assert(
      fc.property(arbIncident, fc.constantFrom<OutputFormat>('cef', 'leef', 'leef2', 'ecs'), hostileString, fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 7 }), (incident, format, hostname, facility, severity) => {
        const syslog = formatIncident('syslog', incident, { clock: () => T0_MS });
        parse5424(parseOctetFrame(Buffer.from(octetFrame(syslog), 'utf8')));
        const payload = formatIncident(format, incident, { clock: () => T0_MS });
        const wrapped = wrapSyslog5424(payload, { facility, severity, timeMs: T0_MS, hostname, appName: 'replayguard' });
        const p = parse5424(wrapped);
        expect(p.bom).toBe(false);
        const bsd = wrapRfc3164(payload, { facility, severity, timeMs: T0_MS, hostname });
        expect(bsd).toMatch(/^<(\d|[1-9]\d|1[0-8]\d|19[01])>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ /);
        expect(bsd).not.toMatch(/[\r\n]/);
      }),
      params(150),
    );
  });
});

describe('known defects (it.fails until fixed in src/)', () => {
  // BUG (minor): the jsonl formatter's toJsonSafe (src/outputs/formatters/jsonl.ts) recurses once per nesting level,
  // so an incident value nested ~5 000 deep throws "RangeError: Maximum call stack size exceeded", against the
  // registry's contract that incident values never make a formatter throw (every other format degrades). Pipeline
  // evidence is flat, so no event reaches this today; an incident read back from a store or built by a future rule
  // could. Counterexample: formatIncident('jsonl', {...canonicalIncident(), evidence: {..., details: {deep: <5000 x {a: ...}>}}}).
  it.fails('a deeply nested incident value does not make jsonl throw', () => {
    const incident = canonicalIncident();
    (incident.evidence as unknown as Record<string, unknown>)['details'] = { deep: deepValue(5_000, 'object') };
    expect(() => formatIncident('jsonl', incident)).not.toThrow();
  });

  // BUG: LEEF 2.0 attribute injection when the configured delimiter is U+FFFD ("xFFFD", which parseLeefDelimiter
  // accepts). leefValue (src/outputs/formatters/leef.ts) first replaces the delimiter in a value with a space and
  // only then runs lineSafe, which turns control characters and lone surrogates INTO U+FFFD, i.e. into the delimiter.
  // A user name is attacker-chosen (Auth0 user_name of a failed login, Okta alternateId...), so
  // user "bob\u0001sev=1" yields `usrName=bob<U+FFFD>sev=1<U+FFFD>sev=8...`: an injected `sev=1` attribute before the
  // real one (found by the options property with delimiter "xfffd"). Fix: lineSafe first, then replace the
  // delimiter; or refuse U+FFFD as a delimiter.
  it('no incident value can add a LEEF 2.0 attribute, whatever the delimiter', () => {
    const opts: FormatterOptions = { leef: { delimiter: 'xFFFD' } };
    try {
      validateFormatterOptions(opts);
    } catch (err) {
      // Refusing U+FFFD as a delimiter is a fix too.
      expect(err).toBeInstanceOf(FormatterOptionsError);
      return;
    }
    const record = formatIncident('leef2', canonicalIncident({ user: 'bob\u0001sev=1' }), opts);
    const attrs = parseLeef(record).attrs; // today: throws "duplicate key sev"
    expect(attrs.get('sev')).toBe('8');
    expect(attrs.get('usrName')).toBe('bob sev=1');
  });
});
