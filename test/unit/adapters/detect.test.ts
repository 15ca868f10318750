import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ADAPTER_NAMES,
  adapters,
  convertRecord,
  detectFormat,
  getAdapter,
  unwrapBatch,
  type AdapterName,
} from '../../../src/events/adapters/index.js';
import { CORPUS, converted, pantherRows, readJsonLines, skipped } from './corpus.js';

/** Panther's own p_* fields removed, so detection has only the vendor's shape to go on. */
function withoutPanther(log: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(log).filter(([k]) => !k.startsWith('p_')));
}

const pantherSets: [string, AdapterName][] = [
  ['Okta.SystemLog', 'okta'],
  ['Auth0.Events', 'auth0'],
  ['Azure.Audit', 'entra'],
  ['AWS.CloudTrail', 'cloudtrail'],
];

describe('detectFormat over the corpus', () => {
  for (const [logType, name] of pantherSets) {
    it(`every ${logType} record is detected as ${name}`, () => {
      for (const row of pantherRows(logType)) expect(detectFormat(row.log), row.test_name).toBe(name);
    });
  }

  it('vendor shape alone suffices, except for records that hold no vendor fields at all', () => {
    const undetected: string[] = [];
    for (const [logType, name] of pantherSets) {
      for (const row of pantherRows(logType)) {
        const found = detectFormat(withoutPanther(row.log));
        if (found === undefined) undetected.push(`${logType}: ${row.test_name}`);
        else expect(found, `${logType}: ${row.test_name}`).toBe(name);
      }
    }
    // Two Okta rows are bare enrichment payloads; one is {"eventType": "logout"} and nothing else.
    expect(undetected).toEqual([
      'Okta.SystemLog: Benign IP - No Alert',
      'Okta.SystemLog: Okta Not sign-in',
      'Okta.SystemLog: Threat IP - No Adversary',
    ]);
  });

  it('Logstash-shipped CloudTrail (with @timestamp) is CloudTrail, not ECS', () => {
    const records = readJsonLines('otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json');
    expect(new Set(records.map(detectFormat))).toEqual(new Set(['cloudtrail']));
  });

  it('access-log lines are accesslog, the one mangled line is nothing', () => {
    const lines = readFileSync(join(CORPUS, 'elastic-examples/apache_logs'), 'utf8').split('\n').filter(Boolean);
    const counts: Record<string, number> = {};
    for (const l of lines) {
      const f = String(detectFormat(l));
      counts[f] = (counts[f] ?? 0) + 1;
    }
    expect(counts).toEqual({ accesslog: 9_999, undefined: 1 });
  });

  it('canonical events and ECS documents are told apart', () => {
    const canonical = { time: '2026-11-23T12:00:00.000Z', type: 'request', session_id: 'raw', ip: '203.0.113.7' };
    expect(detectFormat(canonical)).toBe('canonical');
    expect(detectFormat({ '@timestamp': '2024-01-01T00:00:00Z', source: { ip: '192.0.2.1' }, session: { id: 's' } })).toBe('ecs');
    expect(detectFormat({ hello: 'world' })).toBeUndefined();
    expect(detectFormat(null)).toBeUndefined();
  });
});

describe('registry', () => {
  it('names every adapter once, canonical included', () => {
    expect(ADAPTER_NAMES).toEqual(['canonical', 'okta', 'auth0', 'entra', 'cloudtrail', 'ecs', 'accesslog']);
    for (const name of ADAPTER_NAMES) expect(adapters[name].name).toBe(name);
    expect(getAdapter('okta')).toBe(adapters.okta);
    expect(getAdapter('toString')).toBeUndefined();
  });

  it('auto converts through the detected adapter; undetectable records are unrecognized_record', () => {
    const okta = pantherRows('Okta.SystemLog').find((r) => r.test_name === 'Successful Login')!.log;
    expect(converted(convertRecord(okta, 'auto')).session_id).toBe('idxvF50v_5sT2-GOA7_K0Amyw');
    expect(skipped(convertRecord({ hello: 'world' }, 'auto'))).toBe('unrecognized_record');
  });

  it('canonical passthrough keeps only canonical fields and reports schema failures', () => {
    const e = converted(adapters.canonical.convert({ time: 1_700_000_000_000, type: 'logout', session_id: 's', ip: '::ffff:192.0.2.1', extra: 1 }));
    expect(e).toEqual({ time: 1_700_000_000_000, type: 'logout', session_id: 's', ip: '::ffff:192.0.2.1' });
    expect(skipped(adapters.canonical.convert({ time: 1_700_000_000_000, type: 'rotate', session_id: 's', ip: '192.0.2.1' }))).toBe('invalid_event');
    expect(skipped(adapters.canonical.convert({ time: 1_700_000_000_000, type: 'request', session_id: 's', ip: '192.0.2.1', id: 7 }))).toBe('invalid_event');
  });

  it('unwrapBatch opens vendor envelopes', () => {
    expect(unwrapBatch({ Records: [1, 2] })).toEqual([1, 2]);
    expect(unwrapBatch({ records: [3] })).toEqual([3]);
    expect(unwrapBatch({ '@odata.context': 'x', value: [4] })).toEqual([4]);
    expect(unwrapBatch({ value: [4] })).toEqual([{ value: [4] }]);
    expect(unwrapBatch([5])).toEqual([5]);
    expect(unwrapBatch('line')).toEqual(['line']);
  });
});
