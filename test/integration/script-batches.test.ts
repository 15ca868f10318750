// runScripts sends many calls of a script as a few batch calls (scripts.ts, batchLua): the replies and the data
// must be exactly those of the calls made one by one, in order, across batch boundaries, on a real Redis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callScript, defineScripts, runScripts } from '../../src/state/redis/scripts.js';
import { deleteByPrefix, startRedisServer, testPrefix } from '../helpers/redis-server.js';

let redis: Redis;
const prefix = testPrefix('script-batches');
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  defineScripts(redis);
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

const NOW = 1_800_000_000_000;
/** rate-limit-1.lua: KEYS[1], ARGV now, window ms, max, id. Three keys, interleaved, more calls than one batch holds. */
function calls(run: string, count: number, max: number): (string | number)[][] {
  return Array.from({ length: count }, (_, i) => [`${prefix}:${run}:k${i % 3}`, NOW + i, 60_000, max, `a${i}`]);
}

describe('runScripts on a single Redis (batch calls)', () => {
  it('gives the replies and data of one call at a time, in order, across batch boundaries', async () => {
    const list = calls('batched', 301, 45);
    const batched = await runScripts(redis, 'rate-limit', list);
    const oneByOne: unknown[] = [];
    for (const args of calls('single', 301, 45)) oneByOne.push(await callScript(redis, 'rate-limit', args));
    expect(batched).toEqual(oneByOne);
    // Per key, the first 45 calls (in the order given) are admitted and no later one.
    expect(batched.filter((r) => r === 1)).toHaveLength(3 * 45);
    expect(batched.slice(0, 135).every((r) => r === 1)).toBe(true);
    expect(batched.slice(135).every((r) => r === 0)).toBe(true);
    for (let k = 0; k < 3; k++) {
      const a = await redis.zrange(`${prefix}:batched:k${k}`, 0, -1, 'WITHSCORES');
      const b = await redis.zrange(`${prefix}:single:k${k}`, 0, -1, 'WITHSCORES');
      expect(a).toEqual(b);
      expect(a).toHaveLength(90);
    }
  });

  it('sends arguments byte for byte: multi-byte UTF-8, long and empty strings, numbers', async () => {
    const ids = ['é', 'ключ', '🔑 session', 'x'.repeat(70_000), '', '12', 'a\r\nb'];
    const key = `${prefix}:bytes`;
    const replies = await runScripts(redis, 'rate-limit', ids.map((id, i) => [key, NOW + i, 60_000, 100, id]));
    expect(replies).toEqual(ids.map(() => 1));
    const stored = await redis.zrange(key, 0, -1); // by score: the order given
    expect(stored.map((x) => Buffer.byteLength(x))).toEqual(ids.map((x) => Buffer.byteLength(x)));
    expect(stored.every((x, i) => x === ids[i])).toBe(true);
  });

  it('runs the plain commands given first before any call', async () => {
    const key = `${prefix}:before:k0`;
    // The zset is made ahead of the calls: with max 2 and two members already inside the window, nothing is admitted.
    const before = [['zadd', key, NOW, 'x'], ['zadd', key, NOW, 'y']];
    const replies = await runScripts(redis, 'rate-limit', Array.from({ length: 70 }, (_, i) => [key, NOW + i, 60_000, 2, `a${i}`]), before);
    expect(replies).toEqual(new Array(70).fill(0));
  });

  it('rejects when a call fails, the calls before it applied (a re-delivered batch is absorbed by event ids)', async () => {
    const bad = `${prefix}:wrongtype`;
    await redis.set(bad, 'a string, not a zset');
    const list = calls('failing', 10, 100);
    list.splice(5, 0, [bad, NOW, 60_000, 100, 'z']);
    await expect(runScripts(redis, 'rate-limit', list)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.zcard(`${prefix}:failing:k0`)).toBe(2); // calls 0 and 3 ran; 6 and 9 did not
  });

  it('loads the batch script again after Redis lost its scripts (a private server: the flush would reach every test)', async () => {
    const server = await startRedisServer();
    const own = new Redis(server.url);
    try {
      defineScripts(own);
      expect(await runScripts(own, 'rate-limit', calls('flushed', 6, 2))).toEqual([1, 1, 1, 1, 1, 1]);
      await own.script('FLUSH');
      expect(await runScripts(own, 'rate-limit', calls('flushed', 6, 2))).toEqual([0, 0, 0, 0, 0, 0]); // each key is full
      expect(await runScripts(own, 'rate-limit', calls('flushed-2', 70, 100))).toEqual(new Array(70).fill(1));
    } finally {
      own.disconnect();
      await server.stop();
    }
  });
});
