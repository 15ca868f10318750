// One contract, two incident stores (Redis via record-incident-4.lua, and memory).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MemoryIncidentStore } from '../../src/incidents/memory-store.js';
import type { Detection } from '../../src/incidents/model.js';
import { RedisIncidentStore } from '../../src/incidents/redis-store.js';
import type { IncidentStore } from '../../src/incidents/store.js';
import { KeySpace } from '../../src/state/redis/keys.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';

const T0 = Date.UTC(2026, 10, 23, 12);
const SESSION = 'a'.repeat(32);

function detection(over: Partial<Detection> = {}): Detection {
  return {
    rule: { id: 'r1', title: 'Rule one', version: 1 }, severity: 'medium', mitre: ['T1539'], session: SESSION, user: 'alice@example.com',
    tenant: 'acme', time: T0, event_id: 'e1', evidence: { reason: 'r', fields: {}, ips: ['203.0.113.7'], user_agents: [] },
    action: 'alert', monitor: false, cooldown_ms: 0, ...over,
  };
}

let redis: Redis;
const prefix = testPrefix('incidents');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

const clock = (d: Detection) => d.time;
const stores: [string, () => IncidentStore][] = [
  ['memory', () => new MemoryIncidentStore(clock)],
  ['redis', () => new RedisIncidentStore(redis, new KeySpace(`${prefix}:${Math.random().toString(36).slice(2)}`), 3600, clock)],
];

describe.each(stores)('IncidentStore contract (%s)', (_name, make) => {
  it('creates one incident per rule and session and folds later hits into it', async () => {
    const store = make();
    const a = await store.record(detection());
    expect(a.outcome).toBe('created');
    expect(a.incident.id).toMatch(/^inc_[a-f0-9]{24}$/);
    const b = await store.record(detection({ event_id: 'e2', time: T0 + 60_000, severity: 'high', evidence: { reason: 'newer', fields: {}, ips: [], user_agents: [] } }));
    expect(b.outcome).toBe('updated');
    expect(b.incident.id).toBe(a.incident.id);
    expect(b.incident.count).toBe(2);
    expect(b.incident.severity).toBe('high');
    expect(b.incident.evidence.reason).toBe('newer');
    expect(b.incident.first_seen).toBe(new Date(T0).toISOString());
    expect(b.incident.last_seen).toBe(new Date(T0 + 60_000).toISOString());
    expect(b.incident.event_ids).toEqual(['e1', 'e2']);
    // An older, lower-severity hit neither lowers severity nor replaces newer evidence.
    const c = await store.record(detection({ event_id: 'e0', time: T0 - 60_000, severity: 'low', evidence: { reason: 'older', fields: {}, ips: [], user_agents: [] } }));
    expect(c.incident.severity).toBe('high');
    expect(c.incident.evidence.reason).toBe('newer');
    expect(c.incident.first_seen).toBe(new Date(T0 - 60_000).toISOString());
  });

  it('counts hits inside the cooldown as suppressed; higher severity and leaving monitor mode break through', async () => {
    const store = make();
    const cd = { cooldown_ms: 600_000 };
    expect((await store.record(detection({ ...cd, monitor: true }))).outcome).toBe('created');
    const s1 = await store.record(detection({ ...cd, monitor: true, event_id: 'e2', time: T0 + 60_000 }));
    expect(s1.outcome).toBe('suppressed');
    expect(s1.incident).toMatchObject({ count: 2, suppressed: 1, monitor: true });
    const out = await store.record(detection({ ...cd, event_id: 'e3', time: T0 + 120_000 }));
    expect(out.outcome).toBe('updated'); // the user's baseline is now established
    expect(out.incident.monitor).toBe(false);
    expect((await store.record(detection({ ...cd, event_id: 'e4', time: T0 + 180_000 }))).outcome).toBe('suppressed');
    const up = await store.record(detection({ ...cd, event_id: 'e5', time: T0 + 200_000, severity: 'critical' }));
    expect(up.outcome).toBe('updated');
    expect(up.incident).toMatchObject({ severity: 'critical', count: 5, suppressed: 2 });
    expect((await store.record(detection({ ...cd, event_id: 'e6', time: T0 + 900_000 }))).outcome).toBe('updated'); // cooldown over
  });

  it('changes status with history; resolving closes the incident so a new hit opens a new one', async () => {
    const store = make();
    const first = await store.record(detection());
    const acked = await store.setStatus(first.incident.id, { status: 'acknowledged', by: 'alice', at: '2026-11-23T12:05:00.000Z' });
    expect(acked).toMatchObject({ status: 'acknowledged', history: [{ status: 'acknowledged', by: 'alice' }] });
    expect((await store.record(detection({ event_id: 'e2', time: T0 + 1000 }))).incident.id).toBe(first.incident.id); // still open
    await store.setStatus(first.incident.id, { status: 'false_positive', note: 'VPN', by: 'alice', at: '2026-11-23T12:06:00.000Z' });
    const fresh = await store.record(detection({ event_id: 'e3', time: T0 + 2000 }));
    expect(fresh.outcome).toBe('created');
    expect(fresh.incident.id).not.toBe(first.incident.id);
    const closed = await store.get(first.incident.id);
    expect(closed?.history?.map((h) => h.status)).toEqual(['acknowledged', 'false_positive']);
    expect(closed?.history?.[1]?.note).toBe('VPN');
    expect(await store.setStatus('inc_000000000000000000000000', { status: 'resolved', by: 'x', at: 'y' })).toBeUndefined();
    await store.setResponse(fresh.incident.id, { decision: 'shadow', why: 'would revoke', at: '2026-11-23T12:07:00.000Z' });
    expect((await store.get(fresh.incident.id))?.response).toEqual({ decision: 'shadow', why: 'would revoke', at: '2026-11-23T12:07:00.000Z' });
  });

  it('is idempotent by triggering event id', async () => {
    const store = make();
    await store.record(detection());
    const again = await store.record(detection());
    expect(again.outcome).toBe('unchanged');
    expect(again.incident.count).toBe(1);
  });

  it('gives the same id for the same first event (deterministic replays)', async () => {
    const x = await make().record(detection());
    const y = await make().record(detection());
    expect(x.incident.id).toBe(y.incident.id);
    const other = await make().record(detection({ rule: { id: 'r2', title: 'Rule two', version: 1 } }));
    expect(other.incident.id).not.toBe(x.incident.id);
  });

  it('gets by id and lists with filters and cursor pagination', async () => {
    const store = make();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const s = String(i).repeat(32).slice(0, 32);
      const r = await store.record(detection({ session: s, event_id: `x${i}`, time: T0 + i * 1000, severity: i % 2 ? 'high' : 'low', user: i < 3 ? 'bob' : 'carol' }));
      ids.push(r.incident.id);
    }
    expect((await store.get(ids[3]!))?.session).toBe('3'.repeat(32));
    expect(await store.get('inc_000000000000000000000000')).toBeUndefined();

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse()); // newest first, each once

    expect((await store.list({ severity: 'high' })).items).toHaveLength(3);
    expect((await store.list({ min_severity: 'low' })).items).toHaveLength(7);
    expect((await store.list({ user: 'bob' })).items.map((i) => i.user)).toEqual(['bob', 'bob', 'bob']);
    expect((await store.list({ session: '4'.repeat(32) })).items).toHaveLength(1);
    expect((await store.list({ since: T0 + 5000 })).items).toHaveLength(2);
    expect((await store.list({ until: T0 + 1000 })).items).toHaveLength(2);
    expect((await store.list({ rule: 'nope' })).items).toHaveLength(0);
  });
});

describe('RedisIncidentStore after its TTL', () => {
  it('opens a new incident once the open one expired, instead of retrying forever', async () => {
    const keys = new KeySpace(`${prefix}:ttl-${Math.random().toString(36).slice(2)}`);
    const store = new RedisIncidentStore(redis, keys, 1, clock);
    const first = await store.record(detection());
    expect(first.outcome).toBe('created');
    // Let the incident's keys expire for real; the dedup entry in the open hash has no TTL of its own.
    for (let i = 0; i < 50 && (await redis.exists(keys.incident(first.incident.id))) === 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await redis.exists(keys.incident(first.incident.id))).toBe(0);
    const again = await store.record(detection({ event_id: 'e9', time: T0 + 3_600_000 }));
    expect(again.outcome).toBe('created');
    expect(again.incident.id).not.toBe(first.incident.id);
    expect(await redis.zscore(keys.incidentIndex(), first.incident.id)).toBeNull();
  });
});

describe('RedisIncidentStore.recordMany', () => {
  const SESSION_B = 'b'.repeat(32);
  /** Two incidents interleaved, a repeat, a cooldown, a severity rise, another rule: more calls than one batch call. */
  function batch(): Detection[] {
    const out: Detection[] = [];
    for (let i = 0; i < 80; i++) {
      out.push(detection({ event_id: `e${i}`, time: T0 + i * 1000, cooldown_ms: i < 40 ? 0 : 600_000, severity: i === 60 ? 'high' : 'medium' }));
      if (i % 3 === 0) out.push(detection({ session: SESSION_B, event_id: `b${i}`, time: T0 + i * 1000 }));
      if (i % 10 === 0) out.push(detection({ event_id: `e${i}`, time: T0 + i * 1000 })); // a repeat: unchanged
    }
    out.push(detection({ rule: { id: 'r2', title: 'Rule two', version: 1 }, event_id: 'e5' }));
    return out;
  }
  const fresh = () => new RedisIncidentStore(redis, new KeySpace(`${prefix}:many-${Math.random().toString(36).slice(2)}`), 3600, clock);

  it('answers as record() one after another would, in order, and stores the same incidents', async () => {
    const one = fresh();
    const many = fresh();
    const expected = [];
    for (const d of batch()) expected.push(await one.record(d));
    const got = await many.recordMany(batch());
    expect(got.map((r) => r.outcome)).toEqual(expected.map((r) => r.outcome));
    expect(got.map((r) => r.incident)).toEqual(expected.map((r) => r.incident));
    expect(new Set(got.map((r) => r.outcome))).toEqual(new Set(['created', 'updated', 'suppressed', 'unchanged']));
    const [a, b] = await Promise.all([one.list({}), many.list({})]);
    expect(b.items).toEqual(a.items);
    // A second batch folds into the incidents the first one opened.
    const again = await many.recordMany([detection({ event_id: 'late-1', time: T0 + 10_000_000 }), detection({ session: SESSION_B, event_id: 'late-2', time: T0 + 10_000_000 })]);
    expect(again.map((r) => r.outcome)).toEqual(['updated', 'updated']);
    expect(again[0]!.incident.id).toBe(got[0]!.incident.id);
  });

  it('sends a detection whose incident changed under it through record() again', async () => {
    const keys = new KeySpace(`${prefix}:many-retry-${Math.random().toString(36).slice(2)}`);
    const store = new RedisIncidentStore(redis, keys, 3600, clock);
    const first = await store.record(detection());
    // The open entry names an incident whose keys are gone (expired): the batch call answers 'retry', record()
    // then finds the stale entry removed and opens a new incident.
    await redis.del(keys.incident(first.incident.id), keys.incidentEvents(first.incident.id));
    const [a, b] = await store.recordMany([detection({ event_id: 'e2', time: T0 + 1000 }), detection({ event_id: 'e3', time: T0 + 2000 })]);
    expect(a!.outcome).toBe('created');
    expect(a!.incident.id).not.toBe(first.incident.id);
    expect(b!.outcome).toBe('updated');
    expect(b!.incident.id).toBe(a!.incident.id);
    expect(b!.incident.event_ids).toEqual(['e2', 'e3']);
  });
});
