import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../src/incidents/model.js';
import {
  FormatterOptionsError,
  OUTPUT_FORMATS,
  SEVERITY_TABLE,
  formatIncident,
  frameRecords,
  isOutputFormat,
  validateFormatterOptions,
  type OutputFormat,
} from '../../../src/outputs/formatters/index.js';
import { formatJsonl } from '../../../src/outputs/formatters/jsonl.js';
import { PRODUCER, T0_MS, arbIncident, canonicalIncident, parse5424, parseCef, parseLeef } from './helpers.js';

/** Parse a record with the parser its format calls for; throws if it is not a valid record. */
function parseRecord(format: OutputFormat, record: string): unknown {
  switch (format) {
    case 'cef':
      return parseCef(record);
    case 'leef':
    case 'leef2':
      return parseLeef(record);
    case 'syslog':
      return parse5424(record);
    case 'bulk':
      return record.split('\n').map((l) => JSON.parse(l) as unknown);
    default:
      return JSON.parse(record) as unknown;
  }
}

describe('formatter registry', () => {
  it('knows exactly the documented formats', () => {
    expect(OUTPUT_FORMATS).toEqual(['jsonl', 'ecs', 'ocsf', 'cef', 'leef', 'leef2', 'hec', 'syslog', 'bulk']);
    expect(isOutputFormat('cef')).toBe(true);
    expect(isOutputFormat('xml')).toBe(false);
  });

  it('the severity table is the reference §0 table', () => {
    expect(SEVERITY_TABLE).toEqual({
      info: { cef: 1, cefLabel: 'Low', leef: 1, ocsfId: 1, ocsfCaption: 'Informational', ecs: 21, syslog: 6, udm: 'INFORMATIONAL' },
      low: { cef: 3, cefLabel: 'Low', leef: 3, ocsfId: 2, ocsfCaption: 'Low', ecs: 21, syslog: 5, udm: 'LOW' },
      medium: { cef: 5, cefLabel: 'Medium', leef: 5, ocsfId: 3, ocsfCaption: 'Medium', ecs: 47, syslog: 4, udm: 'MEDIUM' },
      high: { cef: 8, cefLabel: 'High', leef: 8, ocsfId: 4, ocsfCaption: 'High', ecs: 73, syslog: 3, udm: 'HIGH' },
      critical: { cef: 10, cefLabel: 'Very-High', leef: 10, ocsfId: 5, ocsfCaption: 'Critical', ecs: 99, syslog: 2, udm: 'CRITICAL' },
    });
  });

  it('renders the same instant the same way in every format (cross-format time vector)', () => {
    const inc = canonicalIncident();
    expect(formatIncident('cef', inc, PRODUCER)).toContain('rt=1795435200000');
    expect(formatIncident('leef', inc, PRODUCER)).toContain('devTime=1795435200000');
    expect(formatIncident('syslog', inc, PRODUCER)).toContain(' 2026-11-23T12:00:00.000Z ');
    expect(JSON.parse(formatIncident('ecs', inc, PRODUCER))['@timestamp']).toBe('2026-11-23T12:00:00.000Z');
    expect(JSON.parse(formatIncident('ocsf', inc, PRODUCER)).time).toBe(1795435200000);
    expect(JSON.parse(formatIncident('hec', inc, PRODUCER)).time).toBe(1795435200);
  });

  it('records carry no trailing newline and no raw LF, except bulk which is exactly two lines', () => {
    for (const format of OUTPUT_FORMATS) {
      const record = formatIncident(format, canonicalIncident(), PRODUCER);
      expect(record.endsWith('\n'), format).toBe(false);
      expect(record.split('\n').length, format).toBe(format === 'bulk' ? 2 : 1);
    }
  });

  it('frames records: LF after each (files, jsonl, _bulk), concatenation for HEC', () => {
    expect(frameRecords('jsonl', ['a', 'b'])).toBe('a\nb\n');
    expect(frameRecords('bulk', ['a\nb'])).toBe('a\nb\n');
    expect(frameRecords('hec', ['{}', '{}'])).toBe('{}{}');
  });

  it('property: no incident value makes any formatter throw, and every record parses', () => {
    fc.assert(
      fc.property(arbIncident, fc.constantFrom(...OUTPUT_FORMATS), (incident, format) => {
        const record = formatIncident(format, incident, PRODUCER);
        expect(Buffer.from(record, 'utf8').toString('utf8')).toBe(record);
        expect(() => parseRecord(format, record)).not.toThrow();
        // Deterministic: the same incident is the same bytes (at-least-once delivery relies on it).
        expect(formatIncident(format, incident, PRODUCER)).toBe(record);
      }),
      { numRuns: 500 },
    );
  });

  it('out-of-contract runtime shapes degrade instead of throwing', () => {
    const garbage: unknown[] = [
      {},
      { rule: null, evidence: null, mitre: 'T1539', user: 42, count: '7', event_ids: [null, 3] },
      { evidence: { ips: [null, 5, {}], fields: { ip: [null, 'x', { value: 7 }] }, user_agents: 'ua', details: [] } },
      { id: 1n, rule: { id: Symbol.iterator, title: {}, version: '2' } },
    ];
    for (const g of garbage) {
      for (const format of OUTPUT_FORMATS) {
        const record = formatIncident(format, g as Incident, { clock: () => T0_MS });
        expect(() => parseRecord(format, record), format).not.toThrow();
      }
    }
  });

  it('jsonl is the incident itself, with lone surrogates replaced and __proto__ kept as data', () => {
    const inc = canonicalIncident();
    expect(JSON.parse(formatJsonl(inc))).toEqual(inc);
    const hostile = JSON.parse(
      '{"id":"a\\ud800b","evidence":{"details":{"__proto__":{"polluted":true}},"reason":"r","fields":{},"ips":[],"user_agents":[]}}',
    ) as Incident;
    const back = JSON.parse(formatJsonl(hostile)) as Record<string, any>;
    expect(back.id).toBe('a\uFFFDb');
    expect(Object.hasOwn(back.evidence.details, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const cyclic = { ...inc } as Record<string, unknown>;
    cyclic.self = cyclic;
    expect(() => JSON.parse(formatJsonl(cyclic as unknown as Incident))).not.toThrow();
  });

  it('invalid options throw FormatterOptionsError naming the option; valid ones pass', () => {
    const cases: Array<[Parameters<typeof validateFormatterOptions>[0], string]> = [
      [{ syslog: { facility: 99 } }, 'syslog.facility'],
      [{ syslog: { enterpriseId: 0 } }, 'syslog.enterpriseId'],
      [{ syslog: { maxBytes: 10 } }, 'syslog.maxBytes'],
      [{ leef: { delimiter: '=' } }, 'leef.delimiter'],
      [{ bulk: { action: 'update' as 'index' } }, 'bulk.action'],
    ];
    for (const [opts, path] of cases) {
      try {
        validateFormatterOptions(opts);
        expect.unreachable(path);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatterOptionsError);
        expect((e as FormatterOptionsError).path).toBe(path);
      }
    }
    expect(() => validateFormatterOptions(PRODUCER)).not.toThrow();
    expect(() => validateFormatterOptions({})).not.toThrow();
  });
});
