// Input limits, load shedding and Redis outages, on a private Redis this test stops and restarts.
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import { startRedisServer, testPrefix, type RedisServerHandle } from '../helpers/redis-server.js';

const TOKEN = 'fault-test-token-0123456789';
let redisServer: RedisServerHandle;
let service: RunningService;

const event = (i: number) => ({ id: `f-${i}`, time: Date.UTC(2026, 10, 23, 12, 0, i), type: 'request', session_id: `s-${i}`, ip: '203.0.113.7' });

async function post(body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(`${service.url}/v1/events`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType } });
}

beforeAll(async () => {
  redisServer = await startRedisServer();
  service = await startService(
    {
      api: true, worker: false,
      env: {
        REDIS_URL: redisServer.url, RG_SESSION_KEY: 'fault-session-key-0123456789abcdef0123', RG_API_TOKENS: TOKEN, PORT: '0',
        RG_KEY_PREFIX: testPrefix('fault'), RG_MAX_QUEUE_DEPTH: '2', RG_BATCH_SIZE: '1', RG_MAX_BODY_BYTES: '4096', RG_MAX_EVENTS_PER_REQUEST: '20',
      },
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await service?.close();
  await redisServer?.stop();
});

describe('API limits and faults', () => {
  it('refuses bodies over the byte limit with 413 and a stable code', async () => {
    const res = await post(JSON.stringify(Array.from({ length: 200 }, (_, i) => event(i))));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  });

  it('refuses more events than the per-request limit with 413', async () => {
    const res = await post(Array.from({ length: 21 }, () => '{}').join('\n'), 'application/x-ndjson');
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'TOO_MANY_EVENTS' } });
  });

  it('refuses unknown media types with 415 and bad JSON with 400', async () => {
    expect((await post('a=b', 'application/x-www-form-urlencoded')).status).toBe(415);
    const bad = await post('[{"oops"');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_JSON' } });
  });

  it('sheds load with 429 and Retry-After once the queue is full (no worker consumes here)', async () => {
    const ok = await post(JSON.stringify([event(1), event(2)]));
    expect(ok.status).toBe(202);
    const shed = await post(JSON.stringify([event(3)]));
    expect(shed.status).toBe(429);
    expect(shed.headers.get('retry-after')).toBe('5');
    expect(await shed.json()).toMatchObject({ error: { code: 'QUEUE_FULL', details: { depth: 2 } } });
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/rg_ingest_shed_total\{reason="queue_full"\} 1/);
    expect(metrics).toMatch(/rg_queue_depth\{queue="ingest"\} 2/);
  });

  it('answers 503 with Retry-After while Redis is away, never 202, and recovers', async () => {
    await redisServer.kill();
    const res = await post(JSON.stringify([event(10)]));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);

    await redisServer.restart(); // no AOF on this server: the queue comes back empty
    let status = 0;
    for (let i = 0; i < 100 && status !== 202; i++) {
      await sleep(100);
      status = (await post(JSON.stringify([event(11)]))).status;
    }
    expect(status).toBe(202);
  });
});

describe('per-token rate limit', () => {
  it('answers 429 with Retry-After to a token past its rate, and not to the other tokens', async () => {
    const r2 = await startRedisServer();
    const svc = await startService(
      { api: true, worker: false, env: { REDIS_URL: r2.url, RG_SESSION_KEY: 'fault-session-key-0123456789abcdef0123', RG_API_TOKENS: `a:read:${TOKEN},b:read:other-token-0123456789ab`, PORT: '0', RG_KEY_PREFIX: testPrefix('rl'), RG_API_RATE_LIMIT: '5', RG_API_RATE_BURST: '5' } },
      pino({ level: 'silent' }),
    );
    try {
      const get = (t: string) => fetch(`${svc.url}/v1/incidents`, { headers: { authorization: `Bearer ${t}` } });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await get(TOKEN)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toContain(429);
      const limited = await get(TOKEN);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      expect((await get('other-token-0123456789ab')).status).toBe(200);
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200); // health is never limited
      const metrics = await (await fetch(`${svc.url}/metrics`, { headers: { authorization: 'Bearer other-token-0123456789ab' } })).text();
      expect(metrics).toMatch(/rg_ingest_shed_total\{reason="token_rate_limit"\} [1-9]/);
      expect(metrics).not.toContain(TOKEN);
      await sleep(Number(limited.headers.get('retry-after')) * 1000 + 100);
      expect((await get(TOKEN)).status).toBe(200); // served again once the bucket refills
    } finally {
      await svc.close();
      await r2.stop();
    }
  });
});
