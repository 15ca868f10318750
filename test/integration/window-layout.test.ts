// The Redis window's stored layout (src/state/redis/scripts/observe-3.lua): short entries so Redis keeps a
// session's hash as a listpack, long facts kept once in shared keys with a TTL, and a window written by an older
// layout started afresh rather than misread.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KeySpace } from '../../src/state/redis/keys.js';
import { RedisWindowStore } from '../../src/state/redis/window-store.js';
import { MemoryWindowStore } from '../../src/state/memory/window-store.js';
import type { Observation, WindowLimits } from '../../src/state/window.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';

const limits: WindowLimits = { ttlSeconds: 3600, valuesPerField: 16, eventIds: 128, transitions: 16 };
const T0 = Date.UTC(2026, 10, 23, 12);
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15';
const NET = { ip: '2a02:8109:1234:5678:9abc:def0:1234:5678', cc: 'DE', city: 'Frankfurt am Main', lat: 50.1188, lon: 8.6843, acc: 20, asn: 3209, org: 'Vodafone GmbH' };

function event(session: string, i: number, network = '2a02:8109:1234:5678::/64'): Observation {
  return {
    session, event_id: `e${i}`, time: T0 + i * 1000, transition: `${network}|3209|Safari/Mac OS/desktop`,
    values: [
      { field: 'network', value: network, meta: JSON.stringify({ ...NET, ip: network === NET.ip ? NET.ip : `${network.slice(0, -4)}1` }) },
      { field: 'asn', value: '3209', meta: 'Vodafone GmbH' },
      { field: 'country', value: 'DE', meta: '' },
      { field: 'client', value: 'Safari/Mac OS/desktop', meta: '' },
      { field: 'ua', value: '009fa94b5fbe', meta: JSON.stringify({ raw: UA, b: 'Safari', os: 'Mac OS', d: 'desktop', s: false }) },
      { field: 'device_id', value: 'dev-ü-1', meta: '' },
    ],
  };
}

let redis: Redis;
const prefix = testPrefix('layout');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('Redis window layout', () => {
  it('keeps a session with long facts as a listpack; another process reads the facts back', async () => {
    const keys = new KeySpace(`${prefix}:a`);
    const store = new RedisWindowStore(redis, keys, limits);
    const mem = new MemoryWindowStore({ limits });
    const batch = [event('s1', 1), event('s1', 2), event('s1', 3, '2a02:8109:aaaa:bbbb::/64'), event('s1', 4)];
    const [got, want] = await Promise.all([store.observe(batch), mem.observe(batch)]);
    expect(got).toEqual(want);
    expect(await redis.object('ENCODING', keys.sessionWindow('s1'))).toBe('listpack');
    for (const [k, v] of Object.entries(await redis.hgetall(keys.sessionWindow('s1')))) {
      expect(Buffer.byteLength(k), k).toBeLessThanOrEqual(64);
      expect(Buffer.byteLength(v), k).toBeLessThanOrEqual(64);
    }
    // The facts live in shared keys, with a TTL no shorter than the window's.
    const factKeys = await redis.keys(`${prefix}:a:{m}:*`);
    expect(factKeys.length).toBe(3); // two networks and the user agent; the AS org is short enough to stay inline
    for (const k of factKeys) expect(await redis.ttl(k)).toBeGreaterThanOrEqual(limits.ttlSeconds);
    // A process that never saw these facts reads them back: the same window.
    const other = new RedisWindowStore(redis, keys, limits);
    expect(await other.peek('s1')).toEqual(await mem.peek('s1'));
    const [next] = await other.observe([event('s1', 5)]);
    const [nextMem] = await mem.observe([event('s1', 5)]);
    expect(next).toEqual(nextMem);
    expect(other.stats.factsRead).toBeGreaterThan(0);
    expect(other.stats.factsMissing).toBe(0);
  });

  it('starts a window written by an older layout afresh instead of misreading it', async () => {
    const keys = new KeySpace(`${prefix}:b`);
    await redis.hset(keys.sessionWindow('s2'), 'n', '7', 'f', String(T0), 'l', String(T0), 'v:network:1.1.1.1', `${T0}|${T0}|{"ip":"1.1.1.1"}`, 'c:network', '1');
    await redis.zadd(keys.sessionEventIds('s2'), T0, 'old-1');
    await redis.lpush(keys.sessionTransitions('s2'), `${T0}|1.1.1.1|x`);
    const store = new RedisWindowStore(redis, keys, limits);
    const [snap] = await store.observe([event('s2', 1)]);
    expect(snap!.events).toBe(1);
    expect(snap!.fields.network).toHaveLength(1);
    expect(snap!.fields.network![0]!.value).toBe('2a02:8109:1234:5678::/64');
    expect(snap!.transitions).toHaveLength(1);
    expect(await redis.zcard(keys.sessionEventIds('s2'))).toBe(1);
  });
});
