import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLeef, formatLeefRecord, type LeefRecord } from '../../../src/outputs/formatters/leef.js';
import { FormatterOptionsError, parseLeefDelimiter } from '../../../src/outputs/formatters/options.js';
import {
  HOSTILE,
  PRODUCER,
  SESSION,
  TEN_KB,
  UA,
  arbIncident,
  canonicalIncident,
  cutBytes,
  hostileIncident,
  lineSafe,
  parseLeef,
  publishedSha256,
  sha256,
  vectorText,
} from './helpers.js';

const VECTOR_ATTRS: Array<[string, string]> = [
  ['devTime', '1795435200000'],
  ['src', '198.51.100.23'],
  ['usrName', 'alice@example.com'],
  ['sev', '8'],
  ['cat', 'session-multi-country'],
  ['identSrc', '198.51.100.23'],
  ['sessionHash', SESSION],
  ['srcCountries', 'US,RU'],
  ['srcIps', '203.0.113.7,198.51.100.23'],
  ['mitreTechnique', 'T1539'],
  ['userAgent', UA],
  ['incidentId', 'INC-20261123-0001'],
];

const record = (version: '1.0' | '2.0', extra: Partial<LeefRecord> = {}): LeefRecord => ({
  version,
  vendor: 'ExampleCorp',
  product: 'SessionGuard',
  productVersion: '1.0.0',
  eventId: 'R-1001',
  attributes: VECTOR_ATTRS,
  ...extra,
});

/** The LEEF value rule of docs/outputs.md, restated: delimiter -> space, then the line-safe rule. */
const leefExpected = (value: string, delimiter: string, limit?: number) => {
  const v = lineSafe(value.split(delimiter).join(' '));
  return limit === undefined ? v : cutBytes(v, limit);
};

describe('LEEF reference vectors', () => {
  it('LEEF-1 and LEEF-2: the record layer reproduces leef1.txt and leef2.txt byte for byte', () => {
    const one = formatLeefRecord(record('1.0'));
    expect(one).toBe(vectorText('leef1.txt'));
    expect(sha256(one)).toBe(publishedSha256('leef1.txt'));
    const two = formatLeefRecord(record('2.0', { delimiter: '^' }));
    expect(two).toBe(vectorText('leef2.txt'));
    expect(sha256(two)).toBe(publishedSha256('leef2.txt'));
  });

  it('LEEF-2x: the hex delimiter form parses to the same attributes', () => {
    const hex = vectorText('leef2.txt').replace('|R-1001|^|', '|R-1001|x5E|');
    expect(parseLeef(hex).attrs).toEqual(parseLeef(vectorText('leef2.txt')).attrs);
    expect(parseLeef(hex).attrs).toEqual(parseLeef(vectorText('leef1.txt')).attrs);
  });

  for (const version of ['1.0', '2.0'] as const) {
    it(`LEEF ${version}: the canonical incident matches the vector except for the documented choices`, () => {
      const ours = parseLeef(formatLeef(canonicalIncident(), PRODUCER, version));
      const ref = parseLeef(vectorText(version === '1.0' ? 'leef1.txt' : 'leef2.txt'));
      expect([ours.vendor, ours.product, ours.productVersion, ours.eventId, ours.delimiter]).toEqual([
        ref.vendor, ref.product, ref.productVersion, ref.eventId, ref.delimiter,
      ]);
      // cat: ours is the stable rule id, because EventID+cat select the QRadar QID and a title may be reworded.
      // identSrc: deliberately absent (it would bind the replaying attacker's IP to the victim's identity).
      const changed = [...ref.attrs].filter(([k, v]) => ours.attrs.has(k) && ours.attrs.get(k) !== v).map(([k]) => k);
      expect(changed).toEqual(['cat']);
      expect(ours.attrs.get('cat')).toBe('R-1001');
      expect([...ref.attrs.keys()].filter((k) => !ours.attrs.has(k))).toEqual(['identSrc']);
      expect([...ours.attrs.keys()].filter((k) => !ref.attrs.has(k))).toEqual([
        'ruleName', 'ruleVersion', 'tenant', 'incidentStatus', 'incidentCount', 'startTime', 'reason',
      ]);
    });
  }
});

describe('LEEF rules (siem-formats.md §2.5)', () => {
  it('header ends with a pipe and there is no trailing delimiter', () => {
    expect(formatLeefRecord(record('1.0', { attributes: [] }))).toBe('LEEF:1.0|ExampleCorp|SessionGuard|1.0.0|R-1001|');
    expect(formatLeefRecord(record('2.0', { attributes: [] }))).toBe('LEEF:2.0|ExampleCorp|SessionGuard|1.0.0|R-1001|^|');
    for (const version of ['1.0', '2.0'] as const) {
      const line = formatLeef(canonicalIncident(), PRODUCER, version);
      expect(line.endsWith('\t') || line.endsWith('^')).toBe(false);
    }
  });

  it('sev is 1..10 and never 0', () => {
    const sev = (['info', 'low', 'medium', 'high', 'critical'] as const).map(
      (severity) => parseLeef(formatLeef(canonicalIncident({ severity }), PRODUCER)).attrs.get('sev'),
    );
    expect(sev).toEqual(['1', '3', '5', '8', '10']);
  });

  it('devTime is 13-digit epoch ms, so no devTimeFormat is needed', () => {
    const p = parseLeef(formatLeef(canonicalIncident(), PRODUCER));
    expect(p.attrs.get('devTime')).toMatch(/^\d{13}$/);
    expect(p.attrs.has('devTimeFormat')).toBe(false);
  });

  it('a value containing TAB (1.0) or the 2.0 delimiter is sanitised to a space', () => {
    const ua = 'Mozilla/5.0\t(evil^ua)';
    const inc = canonicalIncident({ evidence: { ...canonicalIncident().evidence, user_agents: [ua] } });
    expect(parseLeef(formatLeef(inc, PRODUCER, '1.0')).attrs.get('userAgent')).toBe('Mozilla/5.0 (evil^ua)');
    expect(parseLeef(formatLeef(inc, PRODUCER, '2.0')).attrs.get('userAgent')).toBe('Mozilla/5.0 (evil ua)');
  });

  it('accepts hex delimiters case-insensitively and writes non-printable ones in hex', () => {
    expect(parseLeefDelimiter('x5E')).toEqual({ char: '^', field: '^' });
    expect(parseLeefDelimiter('0x5e')).toEqual({ char: '^', field: '^' });
    expect(parseLeefDelimiter('X09')).toEqual({ char: '\t', field: 'x09' });
    expect(parseLeefDelimiter('0x1f')).toEqual({ char: '\x1f', field: 'x1F' });
    expect(parseLeefDelimiter('\\')).toEqual({ char: '\\', field: 'x5C' });
    const line = formatLeef(canonicalIncident(), { ...PRODUCER, leef: { delimiter: 'x1F' } }, '2.0');
    expect(line).toContain('|R-1001|x1F|');
    const p = parseLeef(line);
    expect(p.delimiter).toBe('\x1f');
    expect(p.attrs.get('usrName')).toBe('alice@example.com');
    const backslash = parseLeef(formatLeef(canonicalIncident(), { ...PRODUCER, leef: { delimiter: '\\' } }, '2.0'));
    expect(backslash.attrs.get('srcIps')).toBe('203.0.113.7,198.51.100.23');
  });

  it('refuses delimiters that would make records ambiguous', () => {
    for (const bad of ['=', '|', ' ', 'a', '7', '\n', 'xZZ', '^^', '', '0x']) {
      expect(() => formatLeef(canonicalIncident(), { leef: { delimiter: bad } }, '2.0'), JSON.stringify(bad)).toThrow(
        FormatterOptionsError,
      );
    }
  });

  it('EventID and usrName are capped at 255 bytes without splitting a character', () => {
    const long = 'ü'.repeat(200);
    const p = parseLeef(formatLeef(hostileIncident(long), PRODUCER));
    expect(p.eventId).toBe('ü'.repeat(127));
    expect(p.attrs.get('usrName')).toBe('ü'.repeat(127));
  });
});

describe('LEEF hostile values', () => {
  for (const version of ['1.0', '2.0'] as const) {
    const delimiter = version === '1.0' ? '\t' : '^';
    for (const value of [...HOSTILE, TEN_KB]) {
      it(`${version} round-trips ${JSON.stringify(value.slice(0, 40))} to the documented replacement`, () => {
        const line = formatLeef(hostileIncident(value), PRODUCER, version);
        expect(line).not.toMatch(/[\r\n\0]/);
        const p = parseLeef(line);
        expect(p.eventId).toBe(cutBytes(lineSafe(value), 255));
        const attr = (k: string) => p.attrs.get(k) ?? '';
        expect(attr('usrName')).toBe(leefExpected(value, delimiter, 255));
        expect(attr('userAgent')).toBe(leefExpected(value, delimiter));
        expect(attr('sessionHash')).toBe(leefExpected(value, delimiter));
        expect(attr('reason')).toBe(leefExpected(value, delimiter));
        expect(attr('incidentId')).toBe(leefExpected(value, delimiter));
      });
    }

    it(`${version} property: any incident parses, and no value carries the delimiter`, () => {
      fc.assert(
        fc.property(arbIncident, (incident) => {
          const line = formatLeef(incident, PRODUCER, version);
          expect(line).not.toMatch(/[\r\n\0]/);
          expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
          const p = parseLeef(line);
          expect(p.attrs.get('usrName') ?? '').toBe(leefExpected(incident.user ?? '', delimiter, 255));
          expect(p.attrs.get('reason') ?? '').toBe(leefExpected(incident.evidence.reason, delimiter));
          expect(p.attrs.get('sev')).toMatch(/^([1-9]|10)$/);
        }),
        { numRuns: 200 },
      );
    });
  }
});
