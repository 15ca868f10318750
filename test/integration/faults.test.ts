// Faults, each against a real Redis the test owns: a worker killed with SIGKILL mid-batch, Redis restarted
// (AOF on) while events flow, and SIGTERM under load. Nothing accepted may be lost or counted twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import { SessionHasher } from '../../src/events/normalize.js';
import { partitionQueueName } from '../../src/queue/ingest.js';
import { freePort, startRedisServer, testPrefix, type RedisServerHandle } from '../helpers/redis-server.js';

const KEY = 'faults-session-key-0123456789abcdef012345';
const TOKEN = 'faults-token-0123456789abcd';
const hasher = new SessionHasher(KEY);
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

function env(redis: RedisServerHandle, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '', REDIS_URL: redis.url, RG_SESSION_KEY: KEY, RG_API_TOKENS: TOKEN, PORT: '0', RG_KEY_PREFIX: prefix,
    RG_RULES_DIR: 'test/fixtures/e2e-rules', RG_LOG_LEVEL: 'error', RG_INGEST_PARTITIONS: '2', RG_BATCH_SIZE: '25', RG_STALLED_INTERVAL_MS: '1000', ...extra,
  };
}

/** Sessions of 4 events each; odd sessions are hijacked (2nd network + 2nd browser), so incidents are expected. */
function events(sessions: number, tag: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let s = 0; s < sessions; s++) {
    for (let i = 0; i < 4; i++) {
      const hijack = s % 2 === 1 && i >= 2;
      out.push({
        id: `${tag}-${s}-${i}`, time: new Date(Date.UTC(2026, 10, 23, 9, i * 5)).toISOString(), type: i === 0 ? 'login' : 'request',
        session_id: `${tag}-sess-${s}`, user_id: `u${s}@example.com`, tenant: 'acme',
        ip: hijack ? '159.89.1.1' : '73.22.1.5', user_agent: hijack ? FIREFOX : CHROME,
      });
    }
  }
  return out;
}

async function post(url: string, batch: unknown[]): Promise<Response> {
  return fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
}

async function drained(redisUrl: string, prefix: string, partitions: number): Promise<void> {
  const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = Array.from({ length: partitions }, (_, p) => new Queue(partitionQueueName(p), { connection: conn, prefix: `${prefix}:q` }));
  try {
    for (let i = 0; i < 600; i++) {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')));
      if (counts.every((c) => Object.values(c).every((n) => n === 0))) return;
      await sleep(100);
    }
    throw new Error('queues did not drain');
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    conn.disconnect();
  }
}

/** The number of events each session's window recorded (its `n`), by raw session id. */
async function recorded(redisUrl: string, prefix: string, rawSessions: string[]): Promise<Map<string, number>> {
  const r = new Redis(redisUrl);
  try {
    const p = r.pipeline();
    for (const s of rawSessions) p.hget(`${prefix}:{s:${hasher.hash('acme', s)}}:w`, 'n');
    const res = (await p.exec()) ?? [];
    return new Map(rawSessions.map((s, i) => [s, Number(res[i]?.[1] ?? 0)]));
  } finally {
    r.disconnect();
  }
}

async function incidentKeys(service: RunningService): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await service.runtime.incidents.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    keys.push(...page.items.map((i) => `${i.rule.id}|${i.session}`));
    cursor = page.next_cursor;
  } while (cursor);
  return keys;
}

function spawnWorker(e: Record<string, string>): ChildProcess {
  const child = spawn('node', ['bin/replayguard.js', 'worker'], { env: e, stdio: ['ignore', 'ignore', 'ignore'] });
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('faults', () => {
  it('a worker killed with SIGKILL mid-batch: its jobs go to another worker, nothing lost, nothing counted twice', async () => {
    const redis = await startRedisServer();
    cleanup.push(() => redis.stop());
    const prefix = testPrefix('kill');
    const api = await startService({ api: true, worker: false, env: env(redis, prefix) }, pino({ level: 'silent' }));
    cleanup.push(() => api.close());
    const victim = spawnWorker(env(redis, prefix, { RG_WORKER_CONCURRENCY: '2' }));
    const all = events(300, 'k');
    for (let i = 0; i < all.length; i += 200) expect((await post(api.url!, all.slice(i, i + 200))).status).toBe(202);
    // Let the victim take jobs, then kill it without warning while it holds some.
    const r = new Redis(redis.url);
    cleanup.push(async () => r.disconnect());
    let heldJobs = false;
    for (let i = 0; i < 200 && !heldJobs; i++) {
      const active = await Promise.all([0, 1].map((p) => r.llen(`${prefix}:q:${partitionQueueName(p)}:active`)));
      heldJobs = active.some((n) => n > 0);
      if (!heldJobs) await sleep(20);
    }
    victim.kill('SIGKILL');
    expect(heldJobs).toBe(true); // it died holding jobs
    spawnWorker(env(redis, prefix));
    await drained(redis.url, prefix, 2);

    const sessions = [...new Set(all.map((e) => String(e.session_id)))];
    const counts = await recorded(redis.url, prefix, sessions);
    expect([...counts.values()].every((n) => n === 4)).toBe(true);
    const keys = await incidentKeys(api);
    expect(new Set(keys).size).toBe(keys.length); // no incident twice
    expect(keys.filter((k) => k.startsWith('session-multi-network-multi-device|'))).toHaveLength(150);
  }, 90_000);

  it('Redis restarted (AOF on) while events flow: 503 with Retry-After while away, never a 202 for what was not kept', async () => {
    const redis = await startRedisServer({ appendonly: true });
    cleanup.push(() => redis.stop());
    const prefix = testPrefix('restart');
    const service = await startService({ api: true, worker: true, env: env(redis, prefix) }, pino({ level: 'silent' }));
    cleanup.push(() => service.close());
    const accepted: string[] = [];
    let unavailable = 0;
    let batchNo = 0;
    const sendLoop = (async () => {
      for (; batchNo < 60; batchNo++) {
        const batch = events(5, `r${batchNo}`);
        const res = await post(service.url!, batch).catch(() => undefined);
        if (res?.status === 202) accepted.push(...batch.map((e) => String(e.session_id)));
        else if (res?.status === 503) {
          unavailable++;
          expect(res.headers.get('retry-after')).toBeTruthy();
        }
        await sleep(25);
      }
    })();
    await sleep(400);
    await redis.kill(); // SIGTERM: Redis writes its AOF and exits
    await sleep(500);
    await redis.restart();
    await sendLoop;
    expect(unavailable).toBeGreaterThan(0);
    await drained(redis.url, prefix, 2);
    const sessions = [...new Set(accepted)];
    const counts = await recorded(redis.url, prefix, sessions);
    const lost = sessions.filter((s) => counts.get(s) !== 4);
    expect(lost).toEqual([]);
  }, 90_000);

  it('SIGTERM under load: stops accepting, finishes what it holds, loses nothing accepted', async () => {
    const redis = await startRedisServer();
    cleanup.push(() => redis.stop());
    const prefix = testPrefix('term');
    const port = await freePort();
    const child = spawn('node', ['bin/replayguard.js', 'serve'], { env: env(redis, prefix, { PORT: String(port) }), stdio: ['ignore', 'ignore', 'ignore'] });
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200) break;
      await sleep(100);
    }
    const accepted: string[] = [];
    let n = 0;
    const load = (async () => {
      for (;; n++) {
        const batch = events(10, `t${n}`);
        const res = await post(url, batch).catch(() => undefined);
        if (!res) return; // connection refused: the API has stopped
        if (res.status === 202) accepted.push(...batch.map((e) => String(e.session_id)));
        if (n > 400) return;
      }
    })();
    await sleep(800);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await load;
    expect(accepted.length).toBeGreaterThan(0);
    // Whatever the stopped process had not taken yet is still queued: a fresh worker finishes it.
    const worker = await startService({ api: false, worker: true, env: env(redis, prefix) }, pino({ level: 'silent' }));
    cleanup.push(() => worker.close());
    await drained(redis.url, prefix, 2);
    const sessions = [...new Set(accepted)];
    const counts = await recorded(redis.url, prefix, sessions);
    expect(sessions.filter((s) => counts.get(s) !== 4)).toEqual([]);
  }, 90_000);

  it('four workers on interleaved events of the same sessions never lose an update', async () => {
    const redis = await startRedisServer();
    cleanup.push(() => redis.stop());
    const prefix = testPrefix('four');
    const e = env(redis, prefix, { RG_INGEST_PARTITIONS: '1', RG_BATCH_SIZE: '3', RG_WORKER_CONCURRENCY: '2' });
    const api = await startService({ api: true, worker: true, env: e }, pino({ level: 'silent' }));
    cleanup.push(() => api.close());
    const other = await startService({ api: false, worker: true, env: e }, pino({ level: 'silent' }));
    cleanup.push(() => other.close());
    const sessions = Array.from({ length: 10 }, (_, s) => `four-${s}`);
    const all: Record<string, unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      for (const s of sessions) {
        all.push({ id: `${s}-${i}`, time: new Date(Date.UTC(2026, 10, 23, 9, 0, i)).toISOString(), type: 'request', session_id: s, tenant: 'acme', ip: `73.22.1.${i % 8}`, user_agent: CHROME });
      }
    }
    for (let i = 0; i < all.length; i += 30) expect((await post(api.url!, all.slice(i, i + 30))).status).toBe(202);
    await drained(redis.url, prefix, 1);
    const counts = await recorded(redis.url, prefix, sessions);
    expect([...counts.values()]).toEqual(sessions.map(() => 30));
    for (const s of sessions) {
      const w = await api.runtime.windows.peek(hasher.hash('acme', s));
      expect(w?.fields.network).toHaveLength(8);
      expect(w?.fields.network?.reduce((sum, v) => Math.max(sum, v.last), 0)).toBe(Date.UTC(2026, 10, 23, 9, 0, 29));
    }
  }, 90_000);
});

