// The whole service on a real Redis: HTTP → BullMQ → worker → Lua windows → rules → incidents → API.
// Then the same events through `replayguard scan` must give the same incidents, and no raw session id
// may appear anywhere: Redis (windows, incidents, queue jobs), logs, API answers, scan output.
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runScan } from '../../src/cli/scan.js';
import { startService, type RunningService } from '../../src/cli/serve.js';
import type { Incident } from '../../src/incidents/model.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';
import { RAW_SESSIONS, replayStory } from '../fixtures/replay-events.js';

const TOKEN = 'test-token-0123456789abcdef';
const E2E_RULES = 'test/fixtures/e2e-rules';
const SESSION_KEY = 'e2e-session-key-0123456789abcdef0123456789';
const prefix = testPrefix('e2e');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

let service: RunningService;
let redis: Redis;
const logs = new Capture();
const apiAnswers: string[] = [];

async function api(path: string, init: RequestInit = {}, token: string | null = TOKEN): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(`${service.url}${path}`, { ...init, headers });
  return res;
}

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  apiAnswers.push(text);
  return JSON.parse(text) as T;
}

async function waitForIncidents(n: number): Promise<Incident[]> {
  for (let i = 0; i < 200; i++) {
    const page = await json<{ items: Incident[] }>(await api('/v1/incidents'));
    if (page.items.length >= n) return page.items;
    await sleep(50);
  }
  throw new Error(`fewer than ${n} incidents after 10 s`);
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  const env = {
    REDIS_URL: inject('redisUrl'), RG_SESSION_KEY: SESSION_KEY, RG_API_TOKENS: `${TOKEN},another-token-abcdefghijkl`, PORT: '0',
    RG_KEY_PREFIX: prefix, RG_RULES_DIR: E2E_RULES, RG_LOG_LEVEL: 'trace',
  };
  service = await startService({ api: true, worker: true, env }, pino({ level: 'trace' }, logs));
});

afterAll(async () => {
  await service?.close();
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('service end to end on Redis', () => {
  let incidents: Incident[];

  it('refuses requests without a valid token but answers health checks', async () => {
    expect((await api('/v1/incidents', {}, null)).status).toBe(401);
    expect((await api('/v1/incidents', {}, 'wrong-token-0123456789abc')).status).toBe(401);
    expect((await api('/v1/events', { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } }, null)).status).toBe(401);
    expect((await api('/metrics', {}, null)).status).toBe(401);
    expect((await api('/healthz', {}, null)).status).toBe(200);
    const ready = await api('/readyz', {}, null);
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({ status: 'ready', checks: { redis: 'ok' } });
  });

  it('accepts NDJSON, rejects bad lines by index, and the rest of the batch proceeds', async () => {
    const story = replayStory();
    const lines = story.map((e) => JSON.stringify(e));
    lines.splice(2, 0, '{not json', JSON.stringify({ time: '2026-11-23T09:00:00Z', type: 'request', session_id: 'x', ip: '999.1.1.1' }));
    const res = await api('/v1/events', { method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    expect(res.status).toBe(202);
    const body = await json<{ accepted: number; rejected: { index: number; code: string; message: string }[] }>(res);
    expect(body.accepted).toBe(story.length);
    expect(body.rejected).toEqual([
      { index: 2, code: 'invalid_json', message: expect.stringContaining('not JSON') },
      { index: 3, code: 'invalid_ip', message: expect.stringContaining('ip') },
    ]);
  });

  it('stores the expected incidents, with evidence, and lists them through the API', async () => {
    incidents = await waitForIncidents(2);
    await sleep(300); // let the worker finish the batch, then make sure nothing else appears
    incidents = (await json<{ items: Incident[] }>(await api('/v1/incidents'))).items;
    const byRule = new Map(incidents.map((i) => [i.rule.id, i]));
    expect([...byRule.keys()].sort()).toEqual(['session-multi-network-multi-device', 'session-use-after-logout']);

    const hijack = byRule.get('session-multi-network-multi-device')!;
    expect(hijack).toMatchObject({ severity: 'high', user: 'alice@example.com', tenant: 'acme', status: 'open', mitre: ['T1539', 'T1550.004'] });
    expect(hijack.session).toMatch(/^[a-f0-9]{32}$/);
    expect(hijack.count).toBe(2); // ev-3 and ev-4 fold into one incident
    expect(hijack.event_ids).toEqual(['ev-3', 'ev-4']);
    const networks = hijack.evidence.fields.network!;
    expect(networks.map((n) => [n.value, n.country])).toEqual([['81.2.69.142', 'GB'], ['185.220.101.1', 'DE']]);
    expect(networks[1]!.asn).toBeGreaterThan(0);
    expect(hijack.evidence.fields.os!.map((o) => o.value).sort()).toEqual(['Linux', 'Windows']);
    expect(hijack.evidence.ips).toEqual(['81.2.69.142', '185.220.101.1']);

    const afterLogout = byRule.get('session-use-after-logout')!;
    expect(afterLogout).toMatchObject({ user: 'bob@example.com', count: 1, event_ids: ['ev-7'] });
    expect(afterLogout.evidence.details).toMatchObject({ ended_by: 'logout', seconds_after_end: 600 });

    const one = await api(`/v1/incidents/${hijack.id}`);
    expect(await json(one)).toEqual(hijack);
    expect((await api('/v1/incidents/inc_000000000000000000000000')).status).toBe(404);
    const filtered = await json<{ items: Incident[] }>(await api('/v1/incidents?user=bob@example.com'));
    expect(filtered.items.map((i) => i.id)).toEqual([afterLogout.id]);
    expect((await api('/v1/incidents?severity=urgent')).status).toBe(400);
  });

  it('treats a re-sent batch as a no-op', async () => {
    const res = await api('/v1/events', { method: 'POST', body: JSON.stringify(replayStory()), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    await sleep(500);
    const again = (await json<{ items: Incident[] }>(await api('/v1/incidents'))).items;
    expect(again.map((i) => [i.id, i.count]).sort()).toEqual(incidents.map((i) => [i.id, i.count]).sort());
  });

  it('counts rejections by reason in /metrics', async () => {
    const text = await (await api('/metrics')).text();
    expect(text).toMatch(/rg_events_rejected_total\{reason="invalid_json"\} 1/);
    expect(text).toMatch(/rg_events_rejected_total\{reason="invalid_ip"\} 1/);
    expect(text).toMatch(/rg_detections_total\{rule="session-use-after-logout"\} [1-9]/);
  });

  it('gives the same incidents when the same events go through replayguard scan', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const { Readable } = await import('node:stream');
    const stdin = Readable.from([replayStory().map((e) => JSON.stringify(e)).join('\n') + '\n']);
    const result = await runScan({
      files: ['-'], store: 'memory', failOnIncident: true, stdin, stdout, stderr,
      env: { RG_SESSION_KEY: SESSION_KEY, RG_LOG_LEVEL: 'silent', RG_RULES_DIR: E2E_RULES },
    });
    expect(result.exitCode).toBe(1);
    const scanned = stdout.text.trim().split('\n').map((l) => JSON.parse(l) as Incident);
    const pick = (i: Incident) => ({ id: i.id, rule: i.rule, session: i.session, user: i.user, count: i.count, event_ids: i.event_ids, evidence: i.evidence, first_seen: i.first_seen, last_seen: i.last_seen });
    expect(scanned.map(pick).sort((a, b) => a.id.localeCompare(b.id))).toEqual(incidents.map(pick).sort((a, b) => a.id.localeCompare(b.id)));
    expect(result.summary).toMatchObject({ events_read: 9, rejected: 0, incidents: 2 });
    expect(stderr.text).toContain('"incidents_by_rule"');
    apiAnswers.push(stdout.text, stderr.text);
  });

  it('never stores, queues, logs or emits a raw session id', async () => {
    const dump: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        dump.push(key);
        const type = await redis.type(key);
        if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'zset') dump.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'list') dump.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'string') dump.push((await redis.get(key)) ?? '');
        else if (type === 'set') dump.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'stream') dump.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
    const everything = [dump.join('\n'), logs.text, apiAnswers.join('\n')];
    expect(dump.some((d) => d.includes(':{rg-'))).toBe(true); // the ingest queues' keys were searched too
    expect(logs.text.length).toBeGreaterThan(0);
    for (const raw of Object.values(RAW_SESSIONS)) {
      for (const text of everything) expect(text.includes(raw)).toBe(false);
      expect(everything.join('').includes(raw.slice(9))).toBe(false);
    }
  });
});
