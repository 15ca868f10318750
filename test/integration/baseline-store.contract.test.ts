// One contract, two user-baseline stores (observe-user-1.lua and memory).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BaselineStore, UserObservation } from '../../src/state/baseline.js';
import { MemoryBaselineStore } from '../../src/state/memory/baseline-store.js';
import { RedisBaselineStore } from '../../src/state/redis/baseline-store.js';
import { KeySpace } from '../../src/state/redis/keys.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';

const T0 = Date.UTC(2026, 10, 1);
const limits = { ttlSeconds: 3600, valuesPerKind: 2 };
const loc = (lat: number, network: string) => ({ lat, lon: 0, acc: 10, network, session: 's' });

function obs(user: string, dt: number, asn: string, extra: Partial<UserObservation> = {}): UserObservation {
  return { user, time: T0 + dt * 1000, learn: true, values: [{ kind: 'asn', value: asn }], ...extra };
}

let redis: Redis;
const prefix = testPrefix('baseline');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

const stores: [string, () => BaselineStore][] = [
  ['memory', () => new MemoryBaselineStore(limits)],
  ['redis', () => new RedisBaselineStore(redis, new KeySpace(`${prefix}:${Math.random().toString(36).slice(2)}`), limits)],
];

describe.each(stores)('BaselineStore contract (%s)', (_name, make) => {
  it('learns values with first/last sight and counts, and returns the previous location', async () => {
    const store = make();
    const [a, b, c] = await store.observe([
      obs('u1', 0, '100', { location: loc(10, 'n1') }),
      obs('u1', 60, '100', { location: loc(20, 'n2') }),
      obs('u1', 120, '200'),
    ]);
    expect(a!.previous_location).toBeUndefined();
    expect(b!.previous_location).toMatchObject({ time: T0, lat: 10, network: 'n1' });
    expect(c!.previous_location).toMatchObject({ time: T0 + 60_000, lat: 20 }); // an unlocated event keeps the last place
    expect(c!.events).toBe(3);
    expect(c!.first_seen).toBe(T0);
    expect(c!.values.asn.get('100')).toEqual({ first: T0, last: T0 + 60_000, count: 2 });
    expect(c!.values.asn.get('200')).toEqual({ first: T0 + 120_000, last: T0 + 120_000, count: 1 });
  });

  it('does not learn from events marked not to learn, and caps values per kind', async () => {
    const store = make();
    await store.observe([obs('u2', 0, '1'), obs('u2', 1, '2'), obs('u2', 2, '666', { learn: false })]);
    const [s] = await store.observe([obs('u2', 3, '1')]);
    expect([...s!.values.asn.keys()].sort()).toEqual(['1', '2']);
    const [t] = await store.observe([obs('u2', 4, '3')]); // cap 2: the least recently seen ('2') goes
    expect([...t!.values.asn.keys()].sort()).toEqual(['1', '3']);
  });

  it('a snapshot handed out is not changed by later events', async () => {
    const store = make();
    const [a, b] = await store.observe([obs('u4', 0, '100'), obs('u4', 60, '100')]);
    const [c] = await store.observe([obs('u4', 120, '100'), obs('u4', 180, '300')]);
    expect(a!.values.asn.get('100')).toEqual({ first: T0, last: T0, count: 1 });
    expect(b!.values.asn.get('100')).toEqual({ first: T0, last: T0 + 60_000, count: 2 });
    expect(c!.values.asn.get('100')).toEqual({ first: T0, last: T0 + 120_000, count: 3 });
    expect(c!.values.asn.has('300')).toBe(false);
    expect(a!.events).toBe(1);
  });

  it('a late event does not rewind the last location', async () => {
    const store = make();
    await store.observe([obs('u3', 100, '1', { location: loc(50, 'late-net') })]);
    await store.observe([obs('u3', 10, '1', { location: loc(1, 'early') })]);
    const [s] = await store.observe([obs('u3', 200, '1')]);
    expect(s!.previous_location).toMatchObject({ lat: 50, network: 'late-net' });
  });
});
