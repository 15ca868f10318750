// The Redis stores keep a copy of each window and baseline they handle and, when the script says the copy is
// current, apply the event to it instead of reading the state back (src/state/redis/window-store.ts). That copy
// must never drift: random streams (repeated and changing values, late events, endings, re-deliveries, caps
// reached, a second "worker" writing the same sessions) through the memory stores and two Redis stores must give
// identical windows and baselines, event by event.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { UserObservation } from '../../src/state/baseline.js';
import { MemoryBaselineStore } from '../../src/state/memory/baseline-store.js';
import { MemoryWindowStore } from '../../src/state/memory/window-store.js';
import { RedisBaselineStore } from '../../src/state/redis/baseline-store.js';
import { KeySpace } from '../../src/state/redis/keys.js';
import { RedisWindowStore } from '../../src/state/redis/window-store.js';
import type { Observation, WindowSnapshot } from '../../src/state/window.js';
import type { UserSnapshot } from '../../src/state/baseline.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';
import { rng } from '../helpers/rng.js';

const norm = (s: WindowSnapshot): string => JSON.stringify({ ...s, fields: Object.fromEntries(Object.entries(s.fields).sort()) });
const bnorm = (s: UserSnapshot): string => JSON.stringify({ ...s, values: Object.fromEntries(Object.entries(s.values).map(([k, m]) => [k, [...m].sort()])) });

let redis: Redis;
const prefix = testPrefix('copies');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe.each([
  { seed: 1, sticky: 0, alternate: true },
  { seed: 2, sticky: 0.9, alternate: true },
  { seed: 3, sticky: 0.9, alternate: false },
])('Redis stores with their copies match the memory stores (seed $seed, sticky $sticky, two writers $alternate)', ({ seed, sticky, alternate }) => {
  it('event by event', async () => {
    const R = rng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(R() * a.length)]!;
    const limits = { ttlSeconds: 3600, valuesPerField: 3, eventIds: 5, transitions: 4 };
    const blimits = { ttlSeconds: 3600, valuesPerKind: 2 };
    const keys = new KeySpace(`${prefix}:${seed}`);
    const mem = new MemoryWindowStore({ limits });
    const reds = [new RedisWindowStore(redis, keys, limits), new RedisWindowStore(redis, keys, limits)];
    const bmem = new MemoryBaselineStore(blimits);
    const breds = [new RedisBaselineStore(redis, keys, blimits), new RedisBaselineStore(redis, keys, blimits)];
    const T0 = Date.UTC(2026, 10, 1);
    let clock = 0;
    let id = 0;
    const sent: Observation[] = [];
    for (let round = 0; round < 150; round++) {
      const batch: Observation[] = [];
      const bbatch: UserObservation[] = [];
      const size = 1 + Math.floor(R() * 15);
      for (let k = 0; k < size; k++) {
        const session = `s${Math.floor(R() * 6)}`;
        let o: Observation;
        if (sent.length > 0 && R() < 0.05) {
          o = pick(sent); // a re-delivery
        } else {
          clock += Math.floor(R() * 3000);
          const time = T0 + clock - (R() < 0.1 ? Math.floor(R() * 20_000) : 0); // some late
          const net = R() < sticky ? `10.0.0.${session.slice(1)}` : pick(['1.1.1.1', '2.2.2.2', '1.1.1.1', '3.3.3.3', '4.4.4.4']);
          const browser = R() < sticky ? 'Chrome' : pick(['Chrome', 'Chrome', 'Firefox', 'Ünïcode']);
          const values = [{ field: 'network', value: net, meta: `{"ip":"${net}","city":"Zürich|x"}` }, { field: 'browser', value: browser, meta: '' }];
          if (R() < 0.3 * (1 - sticky)) values.push({ field: 'device_id', value: pick(['d1', 'd2', 'dé3', 'd4']), meta: '' });
          o = { session, event_id: `e${id++}`, time, values, transition: R() < 0.05 ? '' : `${net}|${browser}` };
          const e = R();
          if (e < 0.03) o.end = { type: 'logout' };
          else if (e < 0.05) o.end = { type: 'rotate', new_session: 'sX' };
          sent.push(o);
        }
        batch.push(o);
        const bo: UserObservation = { user: `u${session}`, time: o.time, learn: R() < 0.9, values: [{ kind: 'asn', value: o.values[0]!.value }] };
        if (R() < 0.5) bo.values.push({ kind: 'country', value: pick(['US', 'DE', 'FR']) });
        if (R() < 0.7) bo.location = { lat: Math.floor(R() * 100) / 10, lon: 1, acc: 5, network: o.values[0]!.value, session };
        bbatch.push(bo);
      }
      const writer = alternate && R() < 0.5 ? 1 : 0;
      const [a, b, ba, bb] = await Promise.all([mem.observe(batch), reds[writer]!.observe(batch), bmem.observe(bbatch), breds[writer]!.observe(bbatch)]);
      for (let i = 0; i < batch.length; i++) {
        expect(norm(b[i]!), `round ${round} event ${i} (${batch[i]!.event_id})`).toBe(norm(a[i]!));
        expect(bnorm(bb[i]!), `round ${round} baseline ${i}`).toBe(bnorm(ba[i]!));
      }
      const peeked = await reds[0]!.peek(batch[0]!.session);
      expect(norm({ ...peeked!, duplicate: false })).toBe(norm({ ...(await mem.peek(batch[0]!.session))!, duplicate: false }));
    }
    // The copies were used (this is what the test is about), and refused calls were sent again.
    expect(reds[0]!.stats.derived).toBeGreaterThan(100);
    expect(breds[0]!.stats.derived).toBeGreaterThan(100);
    if (alternate) expect(reds[0]!.stats.retried + reds[1]!.stats.retried).toBeGreaterThan(0);
  });
});
