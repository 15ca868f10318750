import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cefExtensionEscape, cefHeaderEscape, formatCef, formatCefRecord } from '../../../src/outputs/formatters/cef.js';
import { wrapRfc3164, wrapSyslog5424 } from '../../../src/outputs/formatters/syslog.js';
import {
  HOSTILE,
  PRODUCER,
  SENTENCE,
  SESSION,
  T0_MS,
  TEN_KB,
  UA,
  arbIncident,
  canonicalIncident,
  cefExpected,
  cutBytes,
  hostileIncident,
  lineSafe,
  parseCef,
  publishedSha256,
  sha256,
  vectorBytes,
  vectorJsonl,
  vectorText,
} from './helpers.js';

const VECTOR_HEADER = {
  vendor: 'ExampleCorp',
  product: 'SessionGuard',
  deviceVersion: '1.0.0',
  classId: 'R-1001',
  name: 'session-multi-country',
  severity: 8,
} as const;

const VECTOR_PAIRS: Array<[string, string]> = [
  ['rt', '1795435200000'],
  ['start', '1795435200000'],
  ['src', '198.51.100.23'],
  ['suser', 'alice@example.com'],
  ['act', 'alert'],
  ['cat', '/Authentication/Session/MultiCountry'],
  ['requestClientApplication', UA],
  ['cs1Label', 'sessionHash'],
  ['cs1', SESSION],
  ['cs2Label', 'sourceCountries'],
  ['cs2', 'US,RU'],
  ['cs3Label', 'sourceAddresses'],
  ['cs3', '203.0.113.7,198.51.100.23'],
  ['cs4Label', 'mitreTechnique'],
  ['cs4', 'T1539'],
  ['externalId', 'INC-20261123-0001'],
  ['msg', 'Session 9f2c8d1e5b7a4f3c used from US and RU'],
];

const vectorLine = () => formatCefRecord({ ...VECTOR_HEADER, extension: VECTOR_PAIRS });

describe('CEF reference vectors', () => {
  it('CEF-1: the record layer reproduces cef.txt byte for byte', () => {
    const line = vectorLine();
    expect(Buffer.from(line, 'utf8').equals(vectorBytes('cef.txt'))).toBe(true);
    expect(sha256(line)).toBe(publishedSha256('cef.txt'));
  });

  it('CEF-SYSLOG: RFC 5424 and RFC 3164 wrappers reproduce cef_in_5424.bin and cef_in_3164.txt', () => {
    const line = vectorLine();
    const in5424 = wrapSyslog5424(line, {
      facility: 16,
      severity: 3,
      timeMs: T0_MS,
      hostname: 'detector01.example.com',
      appName: 'sessionguard',
    });
    expect(Buffer.from(in5424, 'utf8').equals(vectorBytes('cef_in_5424.bin'))).toBe(true);
    const in3164 = wrapRfc3164(line, { facility: 16, severity: 3, timeMs: T0_MS, hostname: 'detector01.example.com' });
    expect(in3164).toBe(vectorText('cef_in_3164.txt'));
    // No BOM before CEF: — receivers find the payload by searching for it.
    expect(in5424).not.toContain('\uFEFF');
  });

  it('CEF-ESC: header and extension escaping match every escape vector', () => {
    const vectors = vectorJsonl<{ input: string; header: string; ext: string }>('cef_escape_vectors.jsonl');
    expect(vectors.length).toBe(10);
    for (const v of vectors) {
      expect(cefHeaderEscape(v.input), JSON.stringify(v.input)).toBe(v.header);
      expect(cefExtensionEscape(v.input), JSON.stringify(v.input)).toBe(v.ext);
    }
  });

  it('the canonical incident matches CEF-1 except for the documented field choices', () => {
    const ours = parseCef(formatCef(canonicalIncident(), PRODUCER));
    const ref = parseCef(vectorText('cef.txt'));
    expect(ours.version).toBe(ref.version);
    expect(ours.header).toEqual(ref.header);
    // Byte equality is impossible by construction: the reference's CEF msg is a shorter sentence than the one its
    // ECS/OCSF/syslog vectors carry, and our Incident has one reason; its `cat` leaf (MultiCountry) is not
    // derivable from a rule, so ours is /Authentication/Session/<rule id>.
    const changed = [...ref.ext].filter(([k, v]) => ours.ext.get(k) !== v).map(([k]) => k);
    expect(changed).toEqual(['cat', 'msg']);
    expect(ours.ext.get('cat')).toBe('/Authentication/Session/R-1001');
    expect(ours.ext.get('msg')).toBe(SENTENCE);
    // What our Incident has and the reference incident lacks: window end, tenant, status, rule version, count,
    // and the detector host.
    expect([...ours.ext.keys()].filter((k) => !ref.ext.has(k))).toEqual([
      'end', 'cs5Label', 'cs5', 'cs6Label', 'cs6', 'cn1Label', 'cn1', 'cnt', 'dvchost',
    ]);
    // The reference's keys appear in the reference's order.
    expect([...ours.ext.keys()].filter((k) => ref.ext.has(k))).toEqual([...ref.ext.keys()]);
  });
});

describe('CEF edge cases (siem-formats.md §1.6)', () => {
  it('an empty extension still ends with a pipe', () => {
    expect(formatCefRecord({ ...VECTOR_HEADER, extension: [] })).toBe(
      'CEF:0|ExampleCorp|SessionGuard|1.0.0|R-1001|session-multi-country|8|',
    );
  });

  it('maps every severity into 0..10 per the table, and clamps out-of-range numbers at the record layer', () => {
    const got = (['info', 'low', 'medium', 'high', 'critical'] as const).map(
      (severity) => parseCef(formatCef(canonicalIncident({ severity }), PRODUCER)).header[5],
    );
    expect(got).toEqual(['1', '3', '5', '8', '10']);
    expect(parseCef(formatCefRecord({ ...VECTOR_HEADER, severity: 42, extension: [] })).header[5]).toBe('10');
    expect(parseCef(formatCefRecord({ ...VECTOR_HEADER, severity: -1, extension: [] })).header[5]).toBe('0');
    expect(parseCef(formatCefRecord({ ...VECTOR_HEADER, severity: Number.NaN, extension: [] })).header[5]).toBe('Unknown');
  });

  it('puts an IPv6 source in c6a2 with its label, never in src', () => {
    const inc = canonicalIncident();
    inc.evidence = { ...inc.evidence, fields: {}, ips: ['203.0.113.7', '2001:DB8::7'] };
    const p = parseCef(formatCef(inc, PRODUCER));
    expect(p.ext.has('src')).toBe(false);
    expect(p.ext.get('c6a2')).toBe('2001:db8::7');
    expect(p.ext.get('c6a2Label')).toBe('Source IPv6 Address');
  });

  it('enforces header and extension limits in UTF-8 bytes without splitting a character or an escape', () => {
    const p = parseCef(
      formatCefRecord({
        ...VECTOR_HEADER,
        vendor: 'v'.repeat(64),
        deviceVersion: 'é'.repeat(20), // 40 bytes: cut to 15 characters (30 bytes), not 31 bytes
        extension: [
          ['externalId', 'a'.repeat(39) + '€'], // € is 3 bytes and does not fit after 39
          ['cs1Label', 'x'],
          ['cs1', 'c'.repeat(4001)],
          ['act', 'b'.repeat(62) + '\\' + 'tail'], // cut lands right after the backslash
        ],
      }),
    );
    expect(p.header[0]).toBe('v'.repeat(63));
    expect(p.header[2]).toBe('é'.repeat(15));
    expect(p.ext.get('externalId')).toBe('a'.repeat(39));
    expect(p.ext.get('cs1')).toBe('c'.repeat(4000));
    expect(p.ext.get('act')).toBe('b'.repeat(62) + '\\');
  });

  it('drops invalid, duplicate and consumer-only keys, and unpaired custom slots', () => {
    const line = formatCefRecord({
      ...VECTOR_HEADER,
      extension: [
        ['bad key', 'x'],
        ['k=v', 'x'],
        ['msg', 'first'],
        ['msg', 'second'],
        ['slat', '1.0'],
        ['eventId', '7'],
        ['cs2', 'value without label'],
        ['cs3Label', 'label without value'],
        ['cs3', '\t'],
      ],
    });
    expect(line).toBe('CEF:0|ExampleCorp|SessionGuard|1.0.0|R-1001|session-multi-country|8|msg=first');
  });

  it('never emits a value with leading or trailing spaces', () => {
    const p = parseCef(formatCefRecord({ ...VECTOR_HEADER, extension: [['msg', '  x  '], ['act', ' y ']] }));
    expect(p.ext.get('msg')).toBe('x');
    expect(p.ext.get('act')).toBe('y');
  });
});

describe('CEF hostile values survive an independent parser', () => {
  for (const value of [...HOSTILE, TEN_KB]) {
    it(`round-trips ${JSON.stringify(value.slice(0, 40))}`, () => {
      const line = formatCef(hostileIncident(value), PRODUCER);
      expect(line).not.toMatch(/[\r\n\0]/);
      const p = parseCef(line);
      expect(p.header[3]).toBe(cutBytes(lineSafe(value), 1023));
      expect(p.header[4]).toBe(cutBytes(lineSafe(value), 512));
      const ext = (k: string) => p.ext.get(k) ?? '';
      expect(ext('suser')).toBe(cefExpected(value));
      expect(ext('requestClientApplication')).toBe(cefExpected(value));
      expect(ext('cs1')).toBe(cefExpected(value, 4000));
      expect(ext('cs5')).toBe(cefExpected(value, 4000));
      expect(ext('externalId')).toBe(cefExpected(value, 40));
      expect(ext('msg')).toBe(cefExpected(value));
    });
  }

  it('property: any incident yields one parseable line whose values read back as documented', () => {
    fc.assert(
      fc.property(arbIncident, (incident) => {
        const line = formatCef(incident, PRODUCER);
        expect(line).not.toMatch(/[\r\n\0]/);
        expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
        const p = parseCef(line);
        expect(p.header[4]).toBe(cutBytes(lineSafe(incident.rule.title), 512));
        expect(p.ext.get('suser') ?? '').toBe(cefExpected(incident.user ?? ''));
        expect(p.ext.get('externalId') ?? '').toBe(cefExpected(incident.id, 40));
        expect(p.ext.get('cs1') ?? '').toBe(cefExpected(incident.session, 4000));
        for (const key of p.ext.keys()) {
          const slot = /^(cs\d|cn\d|c6a\d)(Label)?$/.exec(key);
          if (slot) expect(p.ext.has(slot[2] ? slot[1]! : `${key}Label`), key).toBe(true);
        }
        const src = p.ext.get('src');
        if (src !== undefined) expect(src).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
      }),
      { numRuns: 300 },
    );
  });
});
