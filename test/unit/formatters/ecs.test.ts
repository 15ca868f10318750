import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEcs } from '../../../src/outputs/formatters/ecs.js';
import {
  HOSTILE,
  PRODUCER,
  TEN_KB,
  arbIncident,
  canonicalIncident,
  hostileIncident,
  jsonDiff,
  vectorText,
  wellFormed,
} from './helpers.js';

// ECS 9.5 categorisation (siem-formats.md §3.2): the expected category -> type pairs.
const PAIRS: Record<string, string[]> = {
  session: ['start', 'end', 'info'],
  authentication: ['start', 'end', 'info'],
  intrusion_detection: ['allowed', 'denied', 'info'],
  threat: ['indicator'],
  web: ['access', 'error', 'info'],
};
const KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error'];

// Parsed JSON under test: loosely typed on purpose, the assertions are the schema.
type Doc = Record<string, any>;

/** The ECS rules a checker should enforce (§3.5); returns the violations. */
function ecsViolations(doc: Doc): string[] {
  const v: string[] = [];
  if (typeof doc['@timestamp'] !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(doc['@timestamp'])) v.push('@timestamp');
  if (doc.ecs?.version !== '9.5.0') v.push('ecs.version');
  if (!KINDS.includes(doc.event?.kind)) v.push('event.kind');
  const cats: unknown = doc.event?.category;
  const types: unknown = doc.event?.type;
  if (!Array.isArray(cats) || !Array.isArray(types)) v.push('category/type not arrays');
  else {
    for (const t of types) if (!cats.some((c) => PAIRS[c]?.includes(t))) v.push(`type ${t} not expected for ${cats.join(',')}`);
  }
  if (doc.source !== undefined && (typeof doc.source.ip !== 'string' || isIP(doc.source.ip) === 0)) v.push('source.ip');
  for (const ip of doc.related?.ip ?? []) if (isIP(ip) === 0) v.push(`related.ip ${ip}`);
  if (doc.rule?.version !== undefined && typeof doc.rule.version !== 'string') v.push('rule.version');
  if (typeof doc.event?.id !== 'string') v.push('event.id');
  if (doc.user !== undefined && typeof doc.user.name !== 'string') v.push('user.name');
  if ('session' in doc) v.push('session shadows a reserved name');
  return v;
}

describe('ECS', () => {
  it('the checker itself catches the reference negative cases', () => {
    const good = JSON.parse(formatEcs(canonicalIncident(), PRODUCER)) as Doc;
    expect(ecsViolations(good)).toEqual([]);
    expect(ecsViolations({ ...good, event: { ...good.event, kind: 'signal' } })).toContain('event.kind');
    expect(ecsViolations({ ...good, event: { ...good.event, type: ['indicator'] } })).not.toEqual([]);
    expect(ecsViolations({ ...good, source: { ip: ['198.51.100.23'] } })).toContain('source.ip');
  });

  it('the canonical incident matches ECS-1 except for the documented choices', () => {
    const ours = JSON.parse(formatEcs(canonicalIncident(), PRODUCER)) as Doc;
    const ref = JSON.parse(vectorText('ecs.json')) as Doc;
    const { ReplayGuard: custom, ...oursRest } = ours;
    const { SessionGuard: refCustom, ...refRest } = ref;
    const d = jsonDiff(oursRest, refRest);
    // event.action: the stable rule id (an aggregation key), not the title. dataset/module/provider: fixed
    // `replayguard` names so data stream and dashboards do not depend on the deployment's product name.
    expect(d.changed).toEqual(['event.action', 'event.dataset', 'event.module', 'event.provider']);
    expect(ours.event.action).toBe('R-1001');
    expect(ours.event.dataset).toBe('replayguard.alerts');
    // What our incident has beyond the reference's: the window, the detector host, the tenant, and the session
    // hash in related.hash for pivoting.
    expect(d.onlyOurs).toEqual(['event.end', 'event.start', 'observer.hostname', 'organization.id', 'related.hash[0]']);
    // We have no ruleset concept; the reference's is a stand-in.
    expect(d.onlyReference).toEqual(['rule.ruleset']);
    // Custom namespace: fixed `ReplayGuard` (capitalised per ECS custom-field guidance) instead of the product name.
    expect(custom.session).toMatchObject(refCustom.session);
    expect(Object.keys(custom)).toEqual(['session', 'incident', 'evidence']);
    expect(ours.labels.session_hash).toBe(ref.labels.session_hash);
  });

  it('fills source.geo and source.as from the evidence of the chosen source', () => {
    const inc = canonicalIncident();
    inc.evidence = {
      ...inc.evidence,
      ips: ['203.0.113.7', '2001:DB8::9'],
      fields: {
        network: [
          { value: '203.0.113.7', first_seen: '2026-11-23T11:00:00Z', last_seen: '2026-11-23T11:00:00Z', country: 'US' },
          {
            value: '2001:db8::9',
            first_seen: '2026-11-23T11:59:00Z',
            last_seen: '2026-11-23T11:59:00Z',
            country: 'de',
            city: 'Berlin',
            asn: 64500,
            as_org: 'Example Hosting',
            lat: 52.52,
            lon: 13.4,
          },
        ],
      },
    };
    const doc = JSON.parse(formatEcs(inc, PRODUCER)) as Doc;
    expect(doc.source).toEqual({
      ip: '2001:db8::9',
      geo: { country_iso_code: 'DE', city_name: 'Berlin', location: { lat: 52.52, lon: 13.4 } },
      as: { number: 64500, organization: { name: 'Example Hosting' } },
    });
    expect(doc.related.ip).toEqual(['203.0.113.7', '2001:db8::9']);
  });

  it('finds geo for the rule engine evidence shape (network values: IPv4 address, or IPv6 /64 by position)', () => {
    const inc = canonicalIncident();
    inc.evidence = {
      ...inc.evidence,
      ips: ['203.0.113.7', '2001:db8:1:2::7'],
      fields: {
        network: [
          { value: '203.0.113.7', first_seen: '2026-11-23T11:00:00.000Z', last_seen: '2026-11-23T11:00:00.000Z', country: 'US', asn: 64496 },
          { value: '2001:db8:1:2::/64', first_seen: '2026-11-23T11:58:00.000Z', last_seen: '2026-11-23T11:59:00.000Z', country: 'NL', asn: 64511 },
        ],
        country: [
          { value: 'US', first_seen: '2026-11-23T11:00:00.000Z', last_seen: '2026-11-23T11:00:00.000Z' },
          { value: 'NL', first_seen: '2026-11-23T11:58:00.000Z', last_seen: '2026-11-23T11:59:00.000Z' },
        ],
      },
    };
    const doc = JSON.parse(formatEcs(inc, PRODUCER)) as Doc;
    expect(doc.source).toEqual({ ip: '2001:db8:1:2::7', geo: { country_iso_code: 'NL' }, as: { number: 64511 } });
    expect(doc.ReplayGuard.session.countries).toEqual(['US', 'NL']);
    expect(doc.ReplayGuard.session.sources).toEqual([
      { ip: '203.0.113.7', country_iso_code: 'US', as_number: 64496 },
      { ip: '2001:db8:1:2::7', country_iso_code: 'NL', as_number: 64511 },
    ]);
  });

  it('keeps invalid addresses out of ip-typed fields', () => {
    const inc = canonicalIncident();
    inc.evidence = { ...inc.evidence, fields: {}, ips: ['not-an-ip', '203.0.113.7:443'] };
    const doc = JSON.parse(formatEcs(inc, PRODUCER)) as Doc;
    expect(doc.source).toBeUndefined();
    expect(doc.related.ip).toBeUndefined();
    expect(doc.ReplayGuard.session.sources).toEqual([{ address: 'not-an-ip' }, { address: '203.0.113.7:443' }]);
    expect(ecsViolations(doc)).toEqual([]);
  });

  it('expands sub-techniques and tactics from the pinned ATT&CK table', () => {
    const doc = JSON.parse(formatEcs(canonicalIncident({ mitre: ['T1550.004', 't1539'] }), PRODUCER)) as Doc;
    expect(doc.threat.technique.id).toEqual(['T1550', 'T1539']);
    expect(doc.threat.technique.subtechnique.id).toEqual(['T1550.004']);
    expect(doc.threat.technique.subtechnique.reference).toEqual(['https://attack.mitre.org/techniques/T1550/004/']);
    expect(doc.threat.tactic.id).toEqual(['TA0005', 'TA0008', 'TA0006']);
    expect(JSON.parse(formatEcs(canonicalIncident({ mitre: [] }), PRODUCER)).threat).toBeUndefined();
  });

  for (const value of [...HOSTILE, TEN_KB]) {
    it(`hostile ${JSON.stringify(value.slice(0, 30))} survives JSON.parse (lone surrogates -> U+FFFD)`, () => {
      const doc = JSON.parse(formatEcs(hostileIncident(value), PRODUCER)) as Doc;
      const expected = wellFormed(value);
      expect(doc.user.name).toBe(expected);
      expect(doc.rule.name).toBe(expected);
      expect(doc.event.id).toBe(expected);
      expect(doc.user_agent.original).toBe(expected);
      expect(doc.labels.session_hash).toBe(expected);
      expect(doc.message).toBe(expected);
      expect(ecsViolations(doc)).toEqual([]);
    });
  }

  it('property: any incident yields one valid, well-formed ECS document', () => {
    fc.assert(
      fc.property(arbIncident, (incident) => {
        const line = formatEcs(incident, PRODUCER);
        expect(line).not.toContain('\n');
        expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
        const doc = JSON.parse(line) as Doc;
        expect(ecsViolations(doc)).toEqual([]);
        expect(doc.event.id).toBe(wellFormed(incident.id));
      }),
      { numRuns: 300 },
    );
  });
});
