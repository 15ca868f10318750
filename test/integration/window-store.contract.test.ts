// One contract, two stores: the Redis (Lua) store and the in-memory store must give identical windows.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KeySpace } from '../../src/state/redis/keys.js';
import { RedisWindowStore } from '../../src/state/redis/window-store.js';
import { MemoryWindowStore } from '../../src/state/memory/window-store.js';
import type { Observation, WindowLimits, WindowStore } from '../../src/state/window.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';

const limits: WindowLimits = { ttlSeconds: 3600, valuesPerField: 3, eventIds: 5, transitions: 4 };
const T0 = Date.UTC(2026, 10, 23, 12);

function obs(session: string, id: string, dt: number, network: string, extra: Partial<Observation> = {}): Observation {
  return {
    session, event_id: id, time: T0 + dt * 1000, transition: `${network}|chrome`,
    values: [{ field: 'network', value: network, meta: `m-${network}` }, { field: 'browser', value: 'Chrome', meta: '' }],
    ...extra,
  };
}

let redis: Redis;
const prefix = testPrefix('window');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

const stores: [string, () => WindowStore][] = [
  ['memory', () => new MemoryWindowStore({ limits })],
  ['redis', () => new RedisWindowStore(redis, new KeySpace(`${prefix}:${Math.random().toString(36).slice(2)}`), limits)],
];

describe.each(stores)('WindowStore contract (%s)', (_name, make) => {
  it('counts distinct values with first and last sight', async () => {
    const store = make();
    const snaps = await store.observe([obs('s1', 'e1', 0, '1.1.1.1'), obs('s1', 'e2', 10, '2.2.2.2'), obs('s1', 'e3', 20, '1.1.1.1')]);
    const last = snaps[2]!;
    expect(last.events).toBe(3);
    expect(last.first_seen).toBe(T0);
    expect(last.last_seen).toBe(T0 + 20_000);
    expect(last.fields.network).toEqual([
      { value: '1.1.1.1', first: T0, last: T0 + 20_000, meta: 'm-1.1.1.1' },
      { value: '2.2.2.2', first: T0 + 10_000, last: T0 + 10_000, meta: 'm-2.2.2.2' },
    ]);
    expect(last.fields.browser).toHaveLength(1);
    expect(snaps[0]!.fields.network).toHaveLength(1);
    expect(last.transitions.map((t) => t.key)).toEqual(['1.1.1.1|chrome', '2.2.2.2|chrome', '1.1.1.1|chrome']);
  });

  it('is idempotent by event id: a re-delivered event changes nothing', async () => {
    const store = make();
    await store.observe([obs('s2', 'e1', 0, '1.1.1.1'), obs('s2', 'e2', 5, '2.2.2.2')]);
    const [again] = await store.observe([obs('s2', 'e2', 5, '2.2.2.2')]);
    expect(again!.duplicate).toBe(true);
    expect(again!.events).toBe(2);
    expect(again!.fields.network).toHaveLength(2);
  });

  it('caps distinct values per field, evicting the least recently seen and counting it', async () => {
    const store = make();
    const snaps = await store.observe([
      obs('s3', 'a', 0, '10.0.0.1'), obs('s3', 'b', 1, '10.0.0.2'), obs('s3', 'c', 2, '10.0.0.3'),
      obs('s3', 'd', 3, '10.0.0.1'), obs('s3', 'e', 4, '10.0.0.4'),
    ]);
    const last = snaps[4]!;
    expect(last.fields.network!.map((v) => v.value).sort()).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    expect(last.evicted).toBe(1);
  });

  it('remembers only the newest event ids up to the cap', async () => {
    const store = make();
    const many = Array.from({ length: 8 }, (_, i) => obs('s4', `id${i}`, i, '1.1.1.1'));
    await store.observe(many);
    const [oldRedelivered] = await store.observe([obs('s4', 'id0', 0, '1.1.1.1')]);
    expect(oldRedelivered!.duplicate).toBe(false); // forgotten: beyond the cap
    const [recent] = await store.observe([obs('s4', 'id7', 7, '1.1.1.1')]);
    expect(recent!.duplicate).toBe(true);
  });

  it('marks the earliest ending and links rotations', async () => {
    const store = make();
    const snaps = await store.observe([
      obs('s5', 'a', 0, '1.1.1.1'),
      obs('s5', 'b', 10, '1.1.1.1', { end: { type: 'rotate', new_session: 's6' } }),
      obs('s5', 'c', 20, '2.2.2.2', { end: { type: 'logout' } }),
      obs('s5', 'd', 5, '1.1.1.1', { end: { type: 'logout' } }),
    ]);
    expect(snaps[0]!.ended).toBeUndefined();
    expect(snaps[1]!.ended).toEqual({ type: 'rotate', time: T0 + 10_000, new_session: 's6' });
    expect(snaps[2]!.ended).toEqual({ type: 'rotate', time: T0 + 10_000, new_session: 's6' });
    expect(snaps[3]!.ended).toEqual({ type: 'logout', time: T0 + 5_000 });
    await store.linkRotation('s6', { session: 's5', time: T0 + 10_000, snapshot: snaps[3]! });
    await store.linkRotation('s6', { session: 'other', time: T0 + 11_000, snapshot: snaps[0]! });
    const [next] = await store.observe([obs('s6', 'x', 11, '3.3.3.3')]);
    expect(next!.rotated_from).toEqual({ session: 's5', time: T0 + 10_000 });
    expect(next!.root).toBe('s5');
    // The chain is one session: the predecessor's networks carry over.
    expect(next!.fields.network!.map((v) => v.value).sort()).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    expect(next!.first_seen).toBe(T0 + 10_000);
    await store.linkRotation('s9', { session: 's6', time: T0 + 12_000, snapshot: next! });
    const [third] = await store.observe([obs('s9', 'y', 13, '3.3.3.3')]);
    expect(third!.root).toBe('s5');
  });

  it('keeps sessions apart and bounds the transition list', async () => {
    const store = make();
    const seq = ['1.1.1.1', '2.2.2.2', '1.1.1.1', '2.2.2.2', '1.1.1.1', '2.2.2.2'];
    const snaps = await store.observe(seq.map((n, i) => obs('s7', `t${i}`, i, n)));
    expect(snaps[5]!.transitions).toHaveLength(4);
    expect(snaps[5]!.transitions[0]).toEqual({ time: T0 + 5000, key: '2.2.2.2|chrome' });
    const [other] = await store.observe([obs('s8', 't0', 0, '9.9.9.9')]);
    expect(other!.events).toBe(1);
  });
});
