// Deliveries as BullMQ jobs on a real Redis: retry with backoff and jitter, idempotent job ids, dead letters
// listed and re-driven by `replayguard deliveries` and the API, nothing lost through an outage. Then the whole
// service (API → ingest → pipeline → emitter → delivery worker → receiver), with Redis and embedded.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import { loadEnv } from '../../src/config/env.js';
import { Metrics } from '../../src/observability/metrics.js';
import { parseSinksText } from '../../src/outputs/config.js';
import { createEmitter, type Emitter } from '../../src/outputs/emitter.js';
import { backoffDelay, deliveryJobId, runDeliveriesCommand } from '../../src/queue/delivery.js';
import { replayStory } from '../fixtures/replay-events.js';
import { deleteByPrefix, freePort, startRedisServer, testPrefix } from '../helpers/redis-server.js';
import { json, makeIncident, startHttpReceiver, waitFor } from './sinks-receivers.js';

const silent = pino({ level: 'silent' });
let redis: Redis;
const prefixes: string[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});
afterAll(async () => {
  for (const p of prefixes) await deleteByPrefix(redis, p);
  await redis.quit();
});

function newPrefix(name: string): string {
  const p = testPrefix(name);
  prefixes.push(p);
  return p;
}

async function queueEmitter(yaml: string, prefix: string): Promise<{ emitter: Emitter; metrics: Metrics; env: NodeJS.ProcessEnv }> {
  const env = { REDIS_URL: inject('redisUrl'), RG_KEY_PREFIX: prefix };
  const config = parseSinksText(yaml, 'sinks.yaml', { env: {}, baseDir: '/', hostname: 'detector01' });
  const metrics = new Metrics();
  const emitter = await createEmitter({ env: loadEnv(env), logger: silent, metrics, worker: true, config });
  cleanups.push(() => emitter.close());
  return { emitter, metrics, env };
}

async function count(metrics: Metrics, sink: string, outcome: string): Promise<number> {
  return (await metrics.deliveries.get()).values.find((v) => v.labels.sink === sink && v.labels.outcome === outcome)?.value ?? 0;
}

const hookSink = (name: string, url: string, retry: string) =>
  `  - { name: ${name}, type: http_json, url: ${url}, format: jsonl, retry: ${retry} }\n`;

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

describe('retry policy', () => {
  it('backs off exponentially with equal jitter, capped, and honours a longer Retry-After', () => {
    const p = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(p, 1, undefined, () => 0)).toBe(50);
    expect(backoffDelay(p, 1, undefined, () => 1)).toBe(100);
    expect(backoffDelay(p, 3, undefined, () => 0)).toBe(200);
    expect(backoffDelay(p, 3, undefined, () => 1)).toBe(400);
    expect(backoffDelay(p, 30, undefined, () => 1)).toBe(1000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(p, 4);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
    expect(backoffDelay(p, 1, 700, () => 0)).toBe(700);
    expect(backoffDelay(p, 1, 60_000, () => 0)).toBe(1000);
  });

  it('names a delivery by sink, incident and revision: the same change is one job, a new revision another', () => {
    const a = makeIncident(1);
    expect(deliveryJobId('splunk', a)).toBe(`splunk.${a.id}.${Date.parse(a.updated_at)}.1`);
    expect(deliveryJobId('splunk', a)).not.toContain(':');
    expect(deliveryJobId('splunk', { ...a, count: 2 })).not.toBe(deliveryJobId('splunk', a));
    expect(deliveryJobId('elastic', a)).not.toBe(deliveryJobId('splunk', a));
  });
});

describe('BullMQ deliveries', () => {
  it('retries a receiver that fails N times with backoff, then delivers once; a repeated change is one job', async () => {
    const prefix = newPrefix('dlv-flaky');
    let calls = 0;
    const rx = await startHttpReceiver((_req, res) => {
      calls++;
      if (calls <= 3) return json(res, 503, { error: 'busy' });
      json(res, 202, { ok: true });
    });
    cleanups.push(() => rx.close());
    const { emitter, metrics } = await queueEmitter(`sinks:\n${hookSink('hook', rx.url, '{ attempts: 6, base_delay_ms: 20, max_delay_ms: 100 }')}`, prefix);
    const change = { incident: makeIncident(1), outcome: 'created' as const };
    emitter.onIncident(change);
    emitter.onIncident(change); // same sink + incident + revision: BullMQ keeps one job
    await emitter.idle();
    await waitFor(async () => (await count(metrics, 'hook', 'delivered')) === 1, 'delivery after three failures');
    expect(calls).toBe(4);
    expect(await count(metrics, 'hook', 'retried')).toBe(3);
    expect(await count(metrics, 'hook', 'dead')).toBe(0);
    const ids = rx.requests.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(new Set(ids)).toEqual(new Set([change.incident.id]));
    expect(await emitter.admin.counts()).toEqual({ waiting: 0, dead: 0 });
  });

  it('dead-letters after the last attempt; `deliveries list` shows it and `deliveries retry` re-drives it once the receiver is back', async () => {
    const prefix = newPrefix('dlv-dead');
    const port = await freePort();
    const { emitter, metrics, env } = await queueEmitter(`sinks:\n${hookSink('hook', `http://127.0.0.1:${port}/in`, '{ attempts: 3, base_delay_ms: 10, max_delay_ms: 20 }')}`, prefix);
    emitter.onIncident({ incident: makeIncident(7), outcome: 'created' });
    await waitFor(async () => (await emitter.admin.counts()).dead === 1, 'a dead letter');
    expect(await count(metrics, 'hook', 'retried')).toBe(2);
    expect(await count(metrics, 'hook', 'dead')).toBe(1);
    expect(await count(metrics, 'hook', 'delivered')).toBe(0);

    const out = capture();
    const err = capture();
    expect(await runDeliveriesCommand({ sub: 'list', env, stdout: out.stream, stderr: err.stream })).toBe(0);
    const listed = out.text().trim().split('\n').map((l) => JSON.parse(l) as { id: string; sink: string; incident_id: string; attempts: number; error: string });
    expect(listed).toEqual([expect.objectContaining({ sink: 'hook', incident_id: makeIncident(7).id, attempts: 3, error: expect.stringContaining('ECONNREFUSED') })]);
    expect(err.text()).toContain('1 in the dead-letter set');
    const other = capture();
    await runDeliveriesCommand({ sub: 'list', sink: 'elsewhere', env, stdout: other.stream, stderr: capture().stream });
    expect(other.text()).toBe('');

    const rx = await startHttpReceiver((_req, res) => json(res, 200, {}), port);
    cleanups.push(() => rx.close());
    expect(await runDeliveriesCommand({ sub: 'retry', id: 'hook.no-such-job', env, stdout: capture().stream, stderr: capture().stream })).toBe(1);
    const retried = capture();
    expect(await runDeliveriesCommand({ sub: 'retry', sink: 'hook', env, stdout: capture().stream, stderr: retried.stream })).toBe(0);
    expect(retried.text()).toContain('1 dead letters re-driven');
    await waitFor(() => rx.requests.length === 1, 'the re-driven delivery');
    expect((JSON.parse(rx.requests[0]!.body) as { id: string }).id).toBe(makeIncident(7).id);
    await waitFor(async () => (await count(metrics, 'hook', 'delivered')) === 1, 'delivered counted');
    expect(await emitter.admin.counts()).toEqual({ waiting: 0, dead: 0 });
    expect(listed[0]!.id).toBe(deliveryJobId('hook', makeIncident(7)));
  });

  it('loses nothing through an outage: every incident arrives, duplicates only of the same stable id', async () => {
    const prefix = newPrefix('dlv-outage');
    const port = await freePort();
    const { emitter, metrics } = await queueEmitter(`sinks:\n${hookSink('hook', `http://127.0.0.1:${port}/in`, '{ attempts: 50, base_delay_ms: 20, max_delay_ms: 100 }')}`, prefix);
    const incidents = [1, 2, 3, 4, 5, 6].map((i) => makeIncident(i));
    for (const incident of incidents) emitter.onIncident({ incident, outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'hook', 'retried')) >= 6, 'every delivery failing while the receiver is down');
    const rx = await startHttpReceiver((_req, res) => json(res, 200, {}), port);
    cleanups.push(() => rx.close());
    await waitFor(async () => (await count(metrics, 'hook', 'delivered')) === 6, 'all six delivered');
    const received = rx.requests.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(new Set(received)).toEqual(new Set(incidents.map((i) => i.id)));
    expect(await emitter.admin.listDead()).toEqual([]);
  });

  it('holds changes it could not enqueue while Redis is away and enqueues them when it is back', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const rx = await startHttpReceiver((_req, res) => json(res, 200, {}));
    cleanups.push(() => rx.close());
    const env = { REDIS_URL: server.url, RG_KEY_PREFIX: newPrefix('dlv-away') };
    const config = parseSinksText(`sinks:\n${hookSink('hook', rx.url, '{ attempts: 5, base_delay_ms: 20 }')}`, 'sinks.yaml', { env: {}, baseDir: '/', hostname: 'h' });
    const metrics = new Metrics();
    const emitter = await createEmitter({ env: loadEnv(env), logger: silent, metrics, worker: true, config });
    cleanups.push(() => emitter.close());

    await server.kill();
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    emitter.onIncident({ incident: makeIncident(2), outcome: 'created' });
    await emitter.idle(); // the producer fails fast; the changes wait in the emitter's buffer
    expect(await count(metrics, 'hook', 'enqueued')).toBe(0);
    await server.restart();
    await waitFor(async () => (await count(metrics, 'hook', 'delivered')) === 2, 'both delivered after Redis came back', 20_000);
    expect(new Set(rx.requests.map((r) => (JSON.parse(r.body) as { id: string }).id))).toEqual(new Set([makeIncident(1).id, makeIncident(2).id]));
  });

  it('dead-letters a job for a sink this process does not have, and a job that breaks the job schema', async () => {
    const prefix = newPrefix('dlv-unknown');
    const rx = await startHttpReceiver((_req, res) => json(res, 200, {}));
    cleanups.push(() => rx.close());
    const { emitter } = await queueEmitter(`sinks:\n${hookSink('hook', rx.url, '{ attempts: 3, base_delay_ms: 10 }')}`, prefix);
    const backend = emitter.admin as unknown as { queue: import('bullmq').Queue };
    await backend.queue.add('deliver', { v: 1, sink: 'gone', outcome: 'created', enqueued_at: Date.now(), incident: makeIncident(1) } as never, { jobId: 'gone.x.1.1', attempts: 3 });
    await backend.queue.add('deliver', { v: 1, sink: 'hook', outcome: 'created', enqueued_at: Date.now(), incident: { ...makeIncident(2), session: 'raw-cookie-value' } } as never, { jobId: 'hook.raw.1.1', attempts: 3 });
    await waitFor(async () => (await emitter.admin.counts()).dead === 2, 'two dead letters');
    const dead = await emitter.admin.listDead();
    expect(dead).toHaveLength(2);
    expect(dead.map((d) => d.error)).toEqual(expect.arrayContaining([
      expect.stringContaining('session must be the 32-hex-digit HMAC'),
      expect.stringContaining('sink "gone" is not configured'),
    ]));
    expect(rx.requests).toEqual([]);
  });
});

describe('the service forwards incidents', () => {
  const TOKEN = 'sinks-test-token-0123456789';
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  async function api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${service!.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });
  }

  function sinksFile(text: string): string {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-sinks-svc-')), 'sinks.yaml');
    writeFileSync(file, text);
    return file;
  }

  async function run(withRedis: boolean): Promise<void> {
    const rx = await startHttpReceiver((_req, res) => json(res, 200, {}));
    cleanups.push(() => rx.close());
    const brokenPort = await freePort();
    const file = sinksFile(`sinks:\n${hookSink('hook', rx.url, '{ attempts: 5, base_delay_ms: 20 }')}${hookSink('broken', `http://127.0.0.1:${brokenPort}/`, '{ attempts: 1 }')}`);
    const env: NodeJS.ProcessEnv = {
      RG_SESSION_KEY: 'sinks-session-key-0123456789abcdef0123', RG_API_TOKENS: TOKEN, PORT: '0', RG_SINKS_FILE: file, RG_LOG_LEVEL: 'silent',
      ...(withRedis ? { REDIS_URL: inject('redisUrl'), RG_KEY_PREFIX: newPrefix('dlv-svc') } : {}),
    };
    service = await startService({ api: true, worker: true, env }, silent);
    const events = replayStory();
    const res = await api('/v1/events', { method: 'POST', body: JSON.stringify(events), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);

    // Every event through the pipeline, then every change delivered to `hook` and dead at `broken` (one attempt).
    await waitFor(async () => metric(await metricsText(), 'rg_events_processed_total') >= events.length, 'events processed');
    await waitFor(async () => {
      const m = await metricsText();
      const n = deliveries(m, 'hook', 'enqueued');
      return n > 0 && deliveries(m, 'hook', 'delivered') === n && deliveries(m, 'broken', 'dead') === deliveries(m, 'broken', 'enqueued');
    }, 'deliveries settled');
    const changes = deliveries(await metricsText(), 'hook', 'enqueued');
    const incidents = (await (await api('/v1/incidents')).json()) as { items: Array<{ id: string }> };
    expect(incidents.items.length).toBeGreaterThan(0);
    expect(new Set(rx.requests.map((r) => (JSON.parse(r.body) as { id: string }).id))).toEqual(new Set(incidents.items.map((i) => i.id)));
    expect(rx.requests).toHaveLength(changes);

    // The broken sink's deliveries are dead letters, listed and re-driven over the API once it is back.
    const dead = (await (await api('/v1/deliveries/dead?sink=broken')).json()) as { items: Array<{ id: string; sink: string }>; total: number };
    expect(dead.total).toBe(changes);
    expect(dead.items).toHaveLength(changes);
    expect(dead.items.every((d) => d.sink === 'broken')).toBe(true);
    const rx2 = await startHttpReceiver((_req, res) => json(res, 200, {}), brokenPort);
    cleanups.push(() => rx2.close());
    const one = await api(`/v1/deliveries/${encodeURIComponent(dead.items[0]!.id)}/retry`, { method: 'POST' });
    expect(one.status).toBe(202);
    expect(await one.json()).toEqual({ retried: 1 });
    expect((await api('/v1/deliveries/hook.nope.1.1/retry', { method: 'POST' })).status).toBe(404);
    expect((await api('/v1/deliveries/dead?limit=0')).status).toBe(400);
    const rest = await api('/v1/deliveries/dead/retry?sink=broken', { method: 'POST' });
    expect(rest.status).toBe(202);
    expect(await rest.json()).toEqual({ retried: changes - 1 });
    await waitFor(async () => deliveries(await metricsText(), 'broken', 'delivered') === changes, 'the re-driven deliveries');
    expect(rx2.requests).toHaveLength(changes);
    expect((await (await api('/v1/deliveries/dead')).json()) as { items: unknown[] }).toEqual({ items: [], total: 0 });

    const m = await metricsText();
    expect(deliveries(m, 'broken', 'redriven')).toBe(changes);
    await waitFor(async () => /rg_queue_depth\{queue="delivery"\} 0/.test(await metricsText()), 'the delivery queue depth gauge');
  }

  async function metricsText(): Promise<string> {
    return (await api('/metrics')).text();
  }
  function metric(text: string, name: string): number {
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  }
  function deliveries(text: string, sink: string, outcome: string): number {
    return Number(new RegExp(`^rg_deliveries_total\\{sink="${sink}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  }

  it('with Redis: API → ingest queue → worker → delivery queue → receiver; dead letters over the API', async () => {
    await run(true);
  });

  it('embedded (no Redis): the in-memory delivery loop forwards and its dead letters are reachable over the API', async () => {
    await run(false);
  });
});
