// Evidence is built once per event and shared between the hits of that event, with formatted times kept in a small
// table: the answer must stay what building it afresh for each hit gave (the straightforward version below, the one
// the engine had before), whatever the window holds, whichever times collide in the table, and a hit's evidence must
// not change when another hit of the same event, or a later event, builds its own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Evidence, EvidenceValue } from '../../src/incidents/model.js';
import type { NetworkMeta, UserAgentMeta } from '../../src/pipeline/observations.js';
import { RuleEngine, buildEvidence } from '../../src/rules/engine.js';
import type { LoadedRule } from '../../src/rules/loader.js';
import type { RuleContext, RuleHit } from '../../src/rules/types.js';
import type { WindowValue } from '../../src/state/window.js';

const MAX = 10;
const meta = <T>(raw: string): Partial<T> => (raw.startsWith('{') ? (JSON.parse(raw) as Partial<T>) : {});

function referenceValue(field: string, v: WindowValue): EvidenceValue {
  const out: EvidenceValue = { value: v.value, first_seen: new Date(v.first).toISOString(), last_seen: new Date(v.last).toISOString() };
  if (field === 'network') {
    const m = meta<NetworkMeta>(v.meta);
    if (m.ip) out.ip = m.ip;
    if (m.cc) out.country = m.cc;
    if (m.city) out.city = m.city;
    if (m.asn !== undefined) out.asn = m.asn;
    if (m.org) out.as_org = m.org;
    if (m.lat !== undefined) out.lat = m.lat;
    if (m.lon !== undefined) out.lon = m.lon;
  } else if (field === 'ua') {
    const m = meta<UserAgentMeta>(v.meta);
    if (m.b) out.browser = m.b;
    if (m.os) out.os = m.os;
    if (m.d) out.device = m.d;
    if (m.s !== undefined) out.is_script = m.s;
  } else if (field === 'asn' && v.meta) {
    out.as_org = v.meta;
  }
  return out;
}

function reference(fields: Record<string, WindowValue[]>, ip: string, hit: RuleHit): Evidence {
  const since = hit.since ?? -Infinity;
  const out: Record<string, EvidenceValue[]> = {};
  for (const f of hit.evidenceFields) {
    const values = (fields[f] ?? []).filter((v) => v.last >= since).slice(-MAX);
    if (values.length > 0) out[f] = values.map((v) => referenceValue(f, v));
  }
  const ips = (fields.network ?? []).filter((v) => v.last >= since).map((v) => meta<NetworkMeta>(v.meta).ip).filter((x): x is string => typeof x === 'string').slice(-MAX);
  const uas = (fields.ua ?? []).filter((v) => v.last >= since).map((v) => meta<UserAgentMeta>(v.meta).raw).filter((x): x is string => typeof x === 'string').slice(-MAX);
  const e: Evidence = { reason: hit.reason, fields: out, ips, user_agents: uas, trigger_ip: ip };
  if (hit.details) e.details = hit.details;
  return e;
}

// Times close together and 4096 ms apart, so they share slots of the time table and overwrite each other.
const T0 = Date.UTC(2026, 10, 1);
const time = fc.oneof(fc.integer({ min: 0, max: 40 }).map((k) => T0 + k * 4096), fc.integer({ min: 0, max: 100_000 }).map((k) => T0 + k));
const networkMeta = fc.record({ ip: fc.ipV4(), cc: fc.constantFrom('DE', 'US', ''), asn: fc.option(fc.nat(70_000), { nil: undefined }), org: fc.constantFrom('AS Org', ''), lat: fc.option(fc.double({ min: -90, max: 90, noNaN: true }), { nil: undefined }) }, { requiredKeys: ['ip'] }).map((m) => JSON.stringify(m));
const uaMeta = fc.record({ raw: fc.string(), b: fc.constantFrom('Chrome', 'curl', ''), os: fc.constantFrom('Linux', ''), d: fc.constantFrom('desktop', 'mobile'), s: fc.boolean() }, { requiredKeys: [] }).map((m) => JSON.stringify(m));
const value = (metaArb: fc.Arbitrary<string>): fc.Arbitrary<WindowValue> =>
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), time, fc.nat(400_000), metaArb).map(([v, first, d, m]) => ({ value: v, first, last: first + d, meta: m }));
const windowFields = fc.record({
  network: fc.array(value(networkMeta), { maxLength: 16 }),
  ua: fc.array(value(uaMeta), { maxLength: 16 }),
  asn: fc.array(value(fc.constantFrom('', 'Telstra Limited')), { maxLength: 4 }),
  country: fc.array(value(fc.constant('')), { maxLength: 4 }),
});
const hit = fc.record(
  {
    reason: fc.string(),
    evidenceFields: fc.subarray(['network', 'ua', 'asn', 'country', 'device_id']),
    since: fc.option(time, { nil: undefined }),
    details: fc.option(fc.dictionary(fc.string(), fc.integer()), { nil: undefined }),
  },
  { requiredKeys: ['reason', 'evidenceFields'] },
);

const ctxOf = (fields: Record<string, WindowValue[]>, ip: string): RuleContext => ({ event: { ip }, window: { fields } } as unknown as RuleContext);

describe('evidence', () => {
  it('is what building it afresh per hit gives, for any window and hits', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(windowFields, fc.array(hit, { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 6 }), (events) => {
        const kept: [Evidence, Evidence][] = [];
        for (const [fields, hits] of events) {
          for (const h of hits) {
            const got = buildEvidence(ctxOf(fields, '192.0.2.1'), h);
            const want = reference(fields, '192.0.2.1', h);
            expect(got).toEqual(want);
            kept.push([got, want]);
          }
        }
        // Later events reuse table slots and share nothing with earlier evidence: what was built stays as built.
        for (const [got, want] of kept) expect(JSON.stringify(got)).toBe(JSON.stringify(want));
      }),
      { numRuns: 300 },
    );
  });

  it('shares one list between the hits of one event and keeps it from being changed', () => {
    const rule = (id: string): LoadedRule => ({
      file: `${id}.yaml`,
      rule: { id, title: id, version: 1, severity: 'high', mitre: [], type: 'match', action: 'alert', suppress: 0, exceptions: [] } as unknown as LoadedRule['rule'],
    });
    const engine = new RuleEngine([rule('a'), rule('b')]);
    const fields = { network: [{ value: '192.0.2.1', first: T0, last: T0 + 5, meta: JSON.stringify({ ip: '192.0.2.1', cc: 'DE' }) }], ua: [] };
    const input = { event: { id: 'e', type: 'login', ip: '192.0.2.1', session: 's', tenant: 't', time: T0 + 5 }, window: { fields } } as unknown as Omit<RuleContext, 'lists'>;
    const { detections } = engine.evaluate(input);
    expect(detections).toHaveLength(2);
    const [a, b] = detections.map((d) => d.evidence.fields.network!);
    expect(a).toBe(b);
    expect(a).toEqual([{ value: '192.0.2.1', first_seen: new Date(T0).toISOString(), last_seen: new Date(T0 + 5).toISOString(), ip: '192.0.2.1', country: 'DE' }]);
    expect(() => (a as EvidenceValue[]).push(a![0]!)).toThrow(TypeError);
    expect(() => {
      (a![0] as { country?: string }).country = 'US';
    }).toThrow(TypeError);
  });
});
