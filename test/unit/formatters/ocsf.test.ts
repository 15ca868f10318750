import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatOcsf } from '../../../src/outputs/formatters/ocsf.js';
import {
  HOSTILE,
  PRODUCER,
  TEN_KB,
  T0_MS,
  arbIncident,
  canonicalIncident,
  hostileIncident,
  jsonDiff,
  vectorText,
  wellFormed,
} from './helpers.js';

// Parsed JSON under test: loosely typed on purpose, the validator below is the schema.
type Doc = Record<string, any>;

const SEVERITY_CAPTIONS: Record<number, string> = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };
const STATUS_CAPTIONS_13: Record<number, string> = { 0: 'Unknown', 1: 'New', 2: 'In Progress', 3: 'Suppressed', 4: 'Resolved', 99: 'Other' };
const ACTIVITY_CAPTIONS: Record<number, string> = { 0: 'Unknown', 1: 'Create', 2: 'Update', 3: 'Close', 99: 'Other' };
const EVIDENCE_KEYS = ['actor', 'api', 'connection_info', 'data', 'database', 'databucket', 'device', 'dst_endpoint', 'email', 'file', 'process', 'query', 'src_endpoint', 'url', 'user', 'job', 'container'];
const OBSERVABLE_TYPES: Record<number, string> = { 2: 'IP Address', 4: 'User Name', 5: 'Email Address', 14: 'Country' };

/** Values at a dotted path, descending through arrays (how observables[].name addresses array members). */
function valuesAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    current = current.flatMap((c) => {
      const v = (c as Doc | undefined)?.[part];
      return Array.isArray(v) ? v : v === undefined ? [] : [v];
    });
  }
  return current;
}

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
const isMs = (v: unknown) => isInt(v) && (v as number) >= 0 && (v as number) < 253_402_300_800_000;

/** OCSF 1.3.0 Detection Finding requirements (siem-formats.md §4.2, §4.5); returns the violations. */
function ocsf13Violations(f: Doc): string[] {
  const v: string[] = [];
  for (const k of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id']) if (!isInt(f[k])) v.push(`${k} missing`);
  if (f.category_uid !== 2 || f.class_uid !== 2004) v.push('class');
  if (f.class_uid !== f.category_uid * 1000 + 4) v.push('class_uid arithmetic');
  if (f.type_uid !== f.class_uid * 100 + f.activity_id) v.push('type_uid arithmetic');
  if (!(f.activity_id in ACTIVITY_CAPTIONS) || f.activity_name !== ACTIVITY_CAPTIONS[f.activity_id]) v.push('activity');
  if (f.type_name !== `Detection Finding: ${f.activity_name}`) v.push('type_name');
  if (!isMs(f.time)) v.push('time');
  if (SEVERITY_CAPTIONS[f.severity_id] !== f.severity) v.push('severity');
  if (f.status_id !== undefined && STATUS_CAPTIONS_13[f.status_id] !== f.status) v.push('status (1.3 enum)');
  if (f.metadata?.version !== '1.3.0') v.push('metadata.version');
  const product = f.metadata?.product;
  if (typeof product?.vendor_name !== 'string' || (typeof product?.name !== 'string' && typeof product?.uid !== 'string')) v.push('metadata.product');
  const info = f.finding_info;
  if (typeof info?.uid !== 'string' || info.uid === '') v.push('finding_info.uid');
  if (typeof info?.title !== 'string' || info.title === '') v.push('finding_info.title');
  if (info?.analytic !== undefined && !isInt(info.analytic.type_id)) v.push('analytic.type_id');
  for (const k of ['created_time', 'modified_time', 'first_seen_time', 'last_seen_time']) if (info?.[k] !== undefined && !isMs(info[k])) v.push(k);
  for (const a of info?.attacks ?? []) {
    if ('tactics' in a) v.push('deprecated attack.tactics');
    if (!a.tactic && !a.technique && !a.sub_technique) v.push('attack without tactic/technique');
  }
  for (const e of f.evidences ?? []) {
    if (!Object.keys(e).some((k) => EVIDENCE_KEYS.includes(k))) v.push('evidence without a 1.3 attribute');
    for (const k of Object.keys(e)) if (!EVIDENCE_KEYS.includes(k)) v.push(`evidence.${k} not in 1.3`);
    const ep = e.src_endpoint;
    if (ep) {
      if (typeof ep.ip !== 'string' || ep.ip.length > 40 || isIP(ep.ip) === 0) v.push('src_endpoint.ip');
      const loc = ep.location;
      if (loc && (!loc.country && !loc.city)) v.push('location constraint');
      if (loc?.country !== undefined && !/^[A-Z]{2}$/.test(loc.country)) v.push('country');
    }
    if (e.user) {
      if (!e.user.name && !e.user.uid && !e.user.account) v.push('user constraint');
      if (e.user.email_addr !== undefined && !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(e.user.email_addr)) v.push('email_t');
    }
  }
  for (const o of f.observables ?? []) {
    if (typeof o.name !== 'string' || !isInt(o.type_id)) v.push('observable required');
    if (OBSERVABLE_TYPES[o.type_id] !== o.type) v.push(`observable caption ${o.type_id}`);
    if (!valuesAt(f, o.name).includes(o.value)) v.push(`observable ${o.name} does not point at ${o.value}`);
  }
  for (const k of ['start_time', 'end_time']) if (f[k] !== undefined && !isMs(f[k])) v.push(k);
  return v;
}

describe('OCSF 1.3.0 Detection Finding', () => {
  it('the validator accepts the reference vector and catches a broken type_uid', () => {
    const ref = JSON.parse(vectorText('ocsf_2004_v1.3.0.json')) as Doc;
    expect(ocsf13Violations(ref)).toEqual([]);
    expect(ocsf13Violations({ ...ref, type_uid: 2004 })).toContain('type_uid arithmetic');
    expect(ocsf13Violations({ ...ref, time: 1795435200 })).toEqual([]); // seconds look like a valid (1970) ms value...
    expect(ocsf13Violations({ ...ref, time: '1795435200000' })).toContain('time'); // ...but a string never passes
  });

  it('the canonical incident matches OCSF-2004 except for the documented choices', () => {
    const ours = JSON.parse(formatOcsf(canonicalIncident(), PRODUCER)) as Doc;
    const ref = JSON.parse(vectorText('ocsf_2004_v1.3.0.json')) as Doc;
    expect(ocsf13Violations(ours)).toEqual([]);
    const d = jsonDiff(ours, ref);
    // title: our rule.title (the canonical mapping puts the reference's rule *name* there; the vector shows a
    // separate human title we do not have). types: our stable rule id.
    expect(d.changed).toEqual([
      'finding_info.title', 'finding_info.types[0]', 'observables[3].value',
    ]);
    // Extras: occurrence (count/start/end), modified time, the second country observable (we list every source
    // country; the reference only the last), tenant/event ids/dedup key in unmapped.
    expect(d.onlyOurs).toEqual([
      'count', 'end_time', 'finding_info.modified_time', 'observables[4].name', 'observables[4].type',
      'observables[4].type_id', 'observables[4].value', 'start_time', 'unmapped.dedup_key',
      'unmapped.event_ids[0]', 'unmapped.tenant',
    ]);
    // confidence is only recommended, and our incidents carry no confidence to report.
    expect(d.onlyReference).toEqual(['confidence', 'confidence_id']);
    expect(ours.observables.filter((o: Doc) => o.type_id === 14).map((o: Doc) => o.value)).toEqual(['US', 'RU']);
  });

  it('derives activity and status from the incident lifecycle', () => {
    const f = (o: Parameters<typeof canonicalIncident>[0]) => JSON.parse(formatOcsf(canonicalIncident(o), PRODUCER)) as Doc;
    expect(f({}).type_uid).toBe(200401);
    expect(f({ count: 3 })).toMatchObject({ activity_id: 2, type_uid: 200402, type_name: 'Detection Finding: Update' });
    expect(f({ status: 'acknowledged', updated_at: '2026-11-23T12:05:00Z' })).toMatchObject({ activity_id: 2, status_id: 2, status: 'In Progress' });
    expect(f({ status: 'resolved' })).toMatchObject({ activity_id: 3, type_uid: 200403, status_id: 4, status: 'Resolved' });
    expect(f({ status: 'false_positive' })).toMatchObject({ activity_id: 3, status_id: 4, status_detail: 'false_positive' });
    for (const o of [{ count: 3 }, { status: 'resolved' as const }, { status: 'false_positive' as const }]) expect(ocsf13Violations(f(o))).toEqual([]);
  });

  it('keeps non-ip_t addresses and non-email_t users out of typed attributes', () => {
    const inc = canonicalIncident({ user: 'jürgen@exämple.com' });
    inc.evidence = { ...inc.evidence, fields: {}, ips: ['0000:0000:0000:0000:0000:ffff:203.0.113.250', 'garbage'] };
    const f = JSON.parse(formatOcsf(inc, PRODUCER)) as Doc;
    expect(ocsf13Violations(f)).toEqual([]);
    expect(f.evidences.map((e: Doc) => e.data.source_address)).toEqual(['0000:0000:0000:0000:0000:ffff:203.0.113.250', 'garbage']);
    expect(f.evidences[0].user).toEqual({ name: 'jürgen@exämple.com' });
    expect(f.observables).toEqual([{ name: 'evidences.user.name', type_id: 4, type: 'User Name', value: 'jürgen@exämple.com' }]);
  });

  it('one attack per tactic, sub-techniques under their parent, tactic-only ids kept', () => {
    const f = JSON.parse(formatOcsf(canonicalIncident({ mitre: ['T1550.004', 'TA0001'] }), PRODUCER)) as Doc;
    expect(f.finding_info.attacks.map((a: Doc) => [a.tactic?.uid, a.technique?.uid, a.sub_technique?.uid])).toEqual([
      ['TA0005', 'T1550', 'T1550.004'],
      ['TA0008', 'T1550', 'T1550.004'],
      ['TA0001', undefined, undefined],
    ]);
  });

  it('falls back to the clock only when the incident has no parseable time', () => {
    const inc = canonicalIncident({ first_seen: 'x', last_seen: 'yesterday', created_at: '', updated_at: '1' });
    const f = JSON.parse(formatOcsf(inc, { ...PRODUCER, clock: () => T0_MS + 5 })) as Doc;
    expect(f.time).toBe(T0_MS + 5);
    expect(f.start_time).toBeUndefined();
    expect(ocsf13Violations(f)).toEqual([]);
  });

  for (const value of [...HOSTILE, TEN_KB]) {
    it(`hostile ${JSON.stringify(value.slice(0, 30))} survives JSON.parse and stays valid`, () => {
      const f = JSON.parse(formatOcsf(hostileIncident(value), PRODUCER)) as Doc;
      expect(ocsf13Violations(f)).toEqual([]);
      expect(f.finding_info.uid).toBe(wellFormed(value));
      expect(f.finding_info.title).toBe(wellFormed(value));
      expect(f.unmapped.session_hash).toBe(wellFormed(value));
      expect(f.evidences[0].data.user_agent).toBe(wellFormed(value));
    });
  }

  it('property: any incident yields a finding that passes the 1.3.0 requirements', () => {
    fc.assert(
      fc.property(arbIncident, (incident) => {
        const line = formatOcsf(incident, PRODUCER);
        expect(line).not.toContain('\n');
        expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
        expect(ocsf13Violations(JSON.parse(line) as Doc)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
