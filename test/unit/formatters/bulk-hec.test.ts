import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulkBody, formatBulk, formatBulkRecord } from '../../../src/outputs/formatters/bulk.js';
import { formatEcs } from '../../../src/outputs/formatters/ecs.js';
import { formatHec, formatHecEnvelope, hecBatch, type HecEnvelope } from '../../../src/outputs/formatters/hec.js';
import {
  HOSTILE,
  PRODUCER,
  TEN_KB,
  arbIncident,
  canonicalIncident,
  hostileIncident,
  jsonDiff,
  publishedSha256,
  sha256,
  vectorBytes,
  vectorText,
  wellFormed,
} from './helpers.js';

describe('Elasticsearch _bulk', () => {
  it('BULK-1: the record layer reproduces bulk.ndjson byte for byte, final LF included', () => {
    const [action, doc] = vectorText('bulk.ndjson').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    const body = bulkBody([formatBulkRecord(action as Record<string, unknown>, doc)]);
    expect(Buffer.from(body, 'utf8').equals(vectorBytes('bulk.ndjson'))).toBe(true);
    expect(sha256(body)).toBe(publishedSha256('bulk.ndjson'));
    expect(body.endsWith('\n')).toBe(true);
  });

  it('the canonical incident: the ECS document as source, a revision _id (documented deviation)', () => {
    const [actionLine, docLine, ...rest] = formatBulk(canonicalIncident(), PRODUCER).split('\n');
    expect(rest).toEqual([]);
    // The reference uses the bare incident id with `create`; then every later revision of the incident would be
    // refused with 409 and lost, so our create-mode _id is <incident id>:<count>:<status>.
    expect(JSON.parse(actionLine!)).toEqual({
      create: { _index: 'logs-replayguard.alerts-default', _id: 'INC-20261123-0001:1:open' },
    });
    expect(docLine).toBe(formatEcs(canonicalIncident(), PRODUCER));
    const withIndex = formatBulk(canonicalIncident(), { ...PRODUCER, bulk: { index: 'logs-sessionguard.alerts-default' } });
    expect(JSON.parse(withIndex.split('\n')[0]!).create._index).toBe('logs-sessionguard.alerts-default');
  });

  it('gives a retry the same _id and a new revision a new one; `index` mode uses the bare incident id', () => {
    const id = (inc = canonicalIncident(), opts = PRODUCER) => JSON.parse(formatBulk(inc, opts).split('\n')[0]!);
    expect(id()).toEqual(id());
    expect(id(canonicalIncident({ count: 2 })).create._id).toBe('INC-20261123-0001:2:open');
    expect(id(canonicalIncident({ status: 'resolved' })).create._id).toBe('INC-20261123-0001:1:resolved');
    expect(id(canonicalIncident(), { ...PRODUCER, bulk: { action: 'index' } })).toEqual({
      index: { _index: 'logs-replayguard.alerts-default', _id: 'INC-20261123-0001' },
    });
  });

  it('keeps _id within the 512-byte limit with a stable hash', () => {
    const long = canonicalIncident({ id: 'é'.repeat(300) });
    const a = JSON.parse(formatBulk(long, PRODUCER).split('\n')[0]!).create._id as string;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(formatBulk(long, PRODUCER).split('\n')[0]!).create._id).toBe(a);
  });

  it('property: every record is exactly two parseable lines, and a body is LF-terminated', () => {
    fc.assert(
      fc.property(fc.array(arbIncident, { minLength: 1, maxLength: 3 }), (incidents) => {
        const records = incidents.map((i) => formatBulk(i, PRODUCER));
        for (const r of records) {
          const lines = r.split('\n');
          expect(lines.length).toBe(2);
          expect(r).not.toContain('\r');
          const action = JSON.parse(lines[0]!) as { create: { _id: string } };
          expect(Buffer.byteLength(action.create._id)).toBeLessThanOrEqual(512);
          expect(typeof (JSON.parse(lines[1]!) as Record<string, unknown>)['@timestamp']).toBe('string');
        }
        const body = bulkBody(records);
        expect(body.endsWith('\n')).toBe(true);
        expect(body.split('\n').length).toBe(records.length * 2 + 1);
      }),
      { numRuns: 150 },
    );
  });
});

describe('Splunk HEC', () => {
  it('HEC-1 and HEC-BATCH: the envelope layer reproduces hec_event.json and hec_batch.txt byte for byte', () => {
    const first = JSON.parse(vectorText('hec_event.json')) as HecEnvelope;
    expect(formatHecEnvelope(first)).toBe(vectorText('hec_event.json'));
    expect(sha256(formatHecEnvelope(first))).toBe(publishedSha256('hec_event.json'));
    const second: HecEnvelope = { ...first, event: { ...first.event, incident_id: 'INC-20261123-0002' } };
    const batch = hecBatch([formatHecEnvelope(first), formatHecEnvelope(second)]);
    expect(batch).toBe(vectorText('hec_batch.txt'));
    expect(sha256(batch)).toBe(publishedSha256('hec_batch.txt'));
  });

  it('the canonical incident matches HEC-1 except for the documented choices', () => {
    const ours = JSON.parse(formatHec(canonicalIncident(), PRODUCER)) as Record<string, unknown>;
    const ref = JSON.parse(vectorText('hec_event.json')) as Record<string, unknown>;
    expect(Object.keys(ours)).toEqual(Object.keys(ref));
    const d = jsonDiff(ours, ref);
    expect(d.changed).toEqual([]);
    // mitre_technique is always an array (one Splunk type whether a rule cites one technique or several); the
    // rest are fields our incident has and the reference's lacks.
    expect(d.onlyReference).toEqual(['event.mitre_technique', 'fields.mitre_technique']);
    expect(d.onlyOurs).toEqual([
      'event.count', 'event.event_ids[0]', 'event.first_seen', 'event.last_seen', 'event.mitre_tactic[0]',
      'event.mitre_technique[0]', 'event.reason', 'event.rule_version', 'event.src_ip', 'event.status',
      'event.tenant', 'fields.mitre_technique[0]', 'fields.tenant',
    ]);
    expect(ours.time).toBe(1795435200);
  });

  it('time is epoch seconds with the milliseconds as a fraction', () => {
    const inc = canonicalIncident({ last_seen: '2026-11-23T12:00:00.123Z' });
    expect(formatHec(inc, PRODUCER).startsWith('{"time":1795435200.123,')).toBe(true);
  });

  it('omits host and index when not configured, and defaults sourcetype/source', () => {
    const env = JSON.parse(formatHec(canonicalIncident(), {})) as Record<string, unknown>;
    expect(Object.keys(env)).toEqual(['time', 'source', 'sourcetype', 'event', 'fields']);
    expect(env.sourcetype).toBe('replayguard:incident');
    expect(env.source).toBe('replayguard');
  });

  for (const value of [...HOSTILE, TEN_KB]) {
    it(`hostile ${JSON.stringify(value.slice(0, 30))} survives JSON.parse`, () => {
      const env = JSON.parse(formatHec(hostileIncident(value), PRODUCER)) as { event: Record<string, unknown> };
      expect(env.event.user).toBe(wellFormed(value));
      expect(env.event.rule_name).toBe(wellFormed(value));
      expect(env.event.user_agent).toBe(wellFormed(value));
    });
  }

  it('property: any incident gives one envelope with a non-empty event and string-only fields', () => {
    fc.assert(
      fc.property(arbIncident, (incident) => {
        const line = formatHec(incident, PRODUCER);
        expect(line).not.toContain('\n');
        const env = JSON.parse(line) as { time: unknown; event: Record<string, unknown>; fields?: Record<string, unknown> };
        expect(typeof env.time).toBe('number');
        expect(Number.isFinite(env.time)).toBe(true);
        expect(Object.keys(env.event).length).toBeGreaterThan(0);
        for (const v of Object.values(env.fields ?? {})) {
          if (Array.isArray(v)) for (const x of v) expect(typeof x).toBe('string');
          else expect(typeof v).toBe('string');
        }
      }),
      { numRuns: 200 },
    );
  });
});
