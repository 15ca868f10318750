import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormatterOptionsError } from '../../../src/outputs/formatters/options.js';
import {
  formatSyslog,
  formatSyslog5424,
  octetFrame,
  sdEscape,
  syslogPri,
} from '../../../src/outputs/formatters/syslog.js';
import {
  HOSTILE,
  PRODUCER,
  SENTENCE,
  SESSION,
  T0,
  T0_MS,
  TEN_KB,
  arbIncident,
  canonicalIncident,
  hostileIncident,
  lineSafe,
  parse5424,
  parseOctetFrame,
  publishedSha256,
  sdParams,
  sha256,
  vectorBytes,
  vectorJsonl,
} from './helpers.js';

const VECTOR_PARAMS: Array<[string, string]> = [
  ['ruleId', 'R-1001'],
  ['rule', 'session-multi-country'],
  ['severity', 'high'],
  ['session', SESSION],
  ['user', 'alice@example.com'],
  ['src', '203.0.113.7,198.51.100.23'],
  ['cc', 'US,RU'],
  ['technique', 'T1539'],
];

const vectorMessage = () =>
  formatSyslog5424({
    facility: 16,
    severity: 3,
    timeMs: T0_MS,
    hostname: 'detector01.example.com',
    appName: 'sessionguard',
    msgId: 'R-1001',
    structuredData: [{ id: 'sessionguard@32473', params: VECTOR_PARAMS }],
    msg: SENTENCE,
  });

describe('syslog reference vectors', () => {
  it('SYSLOG-1: the message layer reproduces syslog5424.bin byte for byte (BOM at 0x110)', () => {
    const bytes = Buffer.from(vectorMessage(), 'utf8');
    expect(bytes.equals(vectorBytes('syslog5424.bin'))).toBe(true);
    expect(sha256(bytes)).toBe(publishedSha256('syslog5424.bin'));
    expect(bytes.subarray(0x110, 0x113)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('SYSLOG-OCT: octetFrame reproduces syslog5424.octet.bin, counting bytes (BOM included)', () => {
    const frame = Buffer.from(octetFrame(vectorMessage()), 'utf8');
    expect(frame.equals(vectorBytes('syslog5424.octet.bin'))).toBe(true);
    expect(frame.subarray(0, 4).toString()).toBe('371 ');
  });

  it('PRI vectors: facility * 8 + severity, no leading zeros', () => {
    const vectors = vectorJsonl<{ facility: number; severity: number; pri: number; prefix: string }>('pri_vectors.jsonl');
    expect(vectors.length).toBe(7);
    for (const v of vectors) {
      expect(syslogPri(v.facility, v.severity)).toBe(v.pri);
      expect(formatSyslog5424({ facility: v.facility, severity: v.severity }).startsWith(v.prefix)).toBe(true);
    }
  });

  it('SD-ESC vectors: exactly ", \\ and ] are escaped', () => {
    const vectors = vectorJsonl<{ input: string; param_value: string }>('sd_escape_vectors.jsonl');
    expect(vectors.length).toBe(10);
    for (const v of vectors) expect(sdEscape(v.input), JSON.stringify(v.input)).toBe(v.param_value);
  });

  it('the canonical incident matches SYSLOG-1 except for the documented choices', () => {
    const ours = parse5424(formatSyslog(canonicalIncident(), PRODUCER));
    const ref = parse5424(vectorBytes('syslog5424.bin').toString('utf8'));
    const { sd: ourSd, ...ourHeader } = ours;
    const { sd: refSd, ...refHeader } = ref;
    expect(ourHeader).toEqual(refHeader);
    // SD-ID: ours is fixed (`replayguard@<PEN>`) so receiver parsing rules survive a change of APP-NAME; the
    // reference derives it from its product name.
    expect(ourSd?.map((e) => e.id)).toEqual(['replayguard@32473']);
    expect(refSd?.map((e) => e.id)).toEqual(['sessionguard@32473']);
    const mine = sdParams(ours);
    const theirs = sdParams(ref);
    expect([...theirs].filter(([k, v]) => mine.get(k) !== v)).toEqual([]);
    expect([...mine.keys()].filter((k) => !theirs.has(k))).toEqual(['incident', 'tenant', 'count', 'status']);
    expect(ours.timestamp).toBe(T0);
  });
});

describe('RFC 5424 header rules', () => {
  it('uses NILVALUE for every empty header field and for empty structured data', () => {
    const msg = formatSyslog5424({ facility: 1, severity: 5 });
    expect(msg).toBe('<13>1 - - - - - -');
    const p = parse5424(msg);
    expect([p.timestamp, p.hostname, p.appName, p.procId, p.msgId, p.sd, p.msg]).toEqual(['-', '-', '-', '-', '-', null, undefined]);
  });

  it('truncates APP-NAME 49 -> 48 and MSGID 33 -> 32, and keeps header fields PRINTUSASCII', () => {
    const inc = canonicalIncident({ rule: { id: 'r'.repeat(33), title: 't', version: 1 } });
    const p = parse5424(formatSyslog(inc, { ...PRODUCER, appName: 'a'.repeat(49), hostname: 'höst name' }));
    expect(p.appName).toBe('a'.repeat(48));
    expect(p.msgId).toBe('r'.repeat(32));
    expect(p.hostname).toBe('h_st_name');
    expect(p.procId).toBe('-');
  });

  it('maps severities with the table and the configured facility', () => {
    const pri = (['info', 'low', 'medium', 'high', 'critical'] as const).map(
      (severity) => parse5424(formatSyslog(canonicalIncident({ severity }), { syslog: { facility: 'authpriv' } })).pri,
    );
    expect(pri).toEqual([86, 85, 84, 83, 82]);
    expect(() => formatSyslog(canonicalIncident(), { syslog: { facility: 24 } })).toThrow(FormatterOptionsError);
    expect(() => formatSyslog(canonicalIncident(), { syslog: { facility: 'nope' as 'kern' } })).toThrow(FormatterOptionsError);
  });

  it('counts octets, not UTF-16 units, for a non-ASCII message', () => {
    const inc = canonicalIncident({ user: 'jürgen@exämple.com', evidence: { ...canonicalIncident().evidence, reason: 'Sitzung 😀 übernommen' } });
    const msg = formatSyslog(inc, PRODUCER);
    const frame = octetFrame(msg);
    expect(Buffer.byteLength(msg)).not.toBe(msg.length);
    expect(frame.startsWith(`${Buffer.byteLength(msg)} `)).toBe(true);
    const back = parse5424(parseOctetFrame(Buffer.from(frame, 'utf8')));
    expect(back.msg).toBe('Sitzung 😀 übernommen');
    expect(sdParams(back).get('user')).toBe('jürgen@exämple.com');
  });
});

describe('syslog size limit (maxBytes, e.g. UDP)', () => {
  it('cuts the MSG first, at a character boundary', () => {
    const reason = '€'.repeat(3000);
    const inc = canonicalIncident({ evidence: { ...canonicalIncident().evidence, reason } });
    const msg = formatSyslog(inc, { ...PRODUCER, syslog: { maxBytes: 2048 } });
    const bytes = Buffer.from(msg, 'utf8');
    expect(bytes.length).toBeLessThanOrEqual(2048);
    expect(bytes.toString('utf8')).toBe(msg);
    const p = parse5424(msg);
    expect(p.bom).toBe(true);
    expect(reason.startsWith(p.msg ?? 'x')).toBe(true);
    expect(sdParams(p).get('session')).toBe(SESSION);
  });

  it('then cuts the longest SD value without splitting an escape, keeping the record parseable', () => {
    const user = '\\"]'.repeat(2000) + '😀'.repeat(500);
    const inc = canonicalIncident({ user });
    const msg = formatSyslog(inc, { ...PRODUCER, syslog: { maxBytes: 480 } });
    expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(480);
    const p = parse5424(msg);
    expect(p.msg).toBeUndefined();
    const got = sdParams(p).get('user') ?? '';
    expect(got.length).toBeGreaterThan(0);
    expect(user.startsWith(got)).toBe(true);
    expect(sdParams(p).get('ruleId')).toBe('R-1001');
  });

  it('refuses a cap below the 480 octets every receiver must accept', () => {
    expect(() => formatSyslog(canonicalIncident(), { syslog: { maxBytes: 100 } })).toThrow(FormatterOptionsError);
  });
});

describe('syslog hostile values survive an independent RFC 5424 parser', () => {
  for (const value of [...HOSTILE, TEN_KB]) {
    it(`round-trips ${JSON.stringify(value.slice(0, 40))}`, () => {
      const msg = formatSyslog(hostileIncident(value), PRODUCER);
      expect(msg).not.toMatch(/[\r\n\0]/);
      const p = parse5424(msg);
      const params = sdParams(p);
      const expected = lineSafe(value);
      for (const k of ['rule', 'session', 'user', 'incident', 'tenant', 'status']) {
        expect(params.get(k) ?? '', k).toBe(expected);
      }
      expect(p.msg ?? '').toBe(expected === '' ? '' : expected);
      expect(p.msgId).toBe(value.replace(/[^\x21-\x7E]/g, '_').slice(0, 32) || '-');
    });
  }

  it('property: any incident gives a valid RFC 5424 message whose SD values read back line-safe', () => {
    fc.assert(
      fc.property(arbIncident, fc.boolean(), (incident, capped) => {
        const opts = capped ? { ...PRODUCER, syslog: { maxBytes: 480 } } : PRODUCER;
        const msg = formatSyslog(incident, opts);
        expect(msg).not.toMatch(/[\r\n\0]/);
        expect(Buffer.from(msg, 'utf8').toString('utf8')).toBe(msg);
        if (capped) expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(480);
        const p = parse5424(parseOctetFrame(Buffer.from(octetFrame(msg), 'utf8')));
        const table: Record<string, number> = { info: 6, low: 5, medium: 4, high: 3, critical: 2 };
        // An out-of-contract severity is formatted as medium (severity.ts).
        expect(p.pri).toBe(16 * 8 + (Object.hasOwn(table, incident.severity) ? table[incident.severity]! : 4));
        if (!capped) {
          const params = sdParams(p);
          expect(params.get('session') ?? '').toBe(lineSafe(incident.session));
          expect(params.get('user') ?? '').toBe(lineSafe(incident.user ?? ''));
        }
      }),
      { numRuns: 300 },
    );
  });
});
