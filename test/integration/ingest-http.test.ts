// POST /v1/events with vendor formats, gzip bodies and text lines, on the real service (HTTP → BullMQ → worker →
// Redis): rejections keep their index and the adapter's reason, skips are counted by format and reason, accepted
// events reach the pipeline, and gzip bombs are refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import { convertRecord, type AdapterName } from '../../src/events/adapters/index.js';
import { CORPUS, pantherRows, readJsonLines } from '../unit/adapters/corpus.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';

const TOKEN = 'ingest-http-token-0123456789';
const prefix = testPrefix('ingest-http');
const MAX_BODY = 512 * 1024;
let service: RunningService;
let redis: Redis;

interface Answer {
  accepted: number;
  rejected: { index: number; code: string; message: string }[];
}

async function post(query: string, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  const payload = typeof body === 'string' ? body : new Uint8Array(body);
  return fetch(`${service.url}/v1/events${query}`, { method: 'POST', body: payload, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
}

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

/** What the adapter alone says of each record, as the API must report it. */
function expectedRejections(records: unknown[], format: AdapterName | 'auto'): Answer['rejected'] {
  return records.flatMap((r, index) => {
    const out = convertRecord(r, format);
    return out.ok ? [] : [{ index, code: out.skip, message: out.message }];
  });
}

const okta = pantherRows('Okta.SystemLog').map((r) => r.log);
const auth0 = pantherRows('Auth0.Events').map((r) => r.log);
const otrf = readJsonLines('otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json');

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  service = await startService(
    {
      api: true, worker: true,
      env: {
        REDIS_URL: inject('redisUrl'), RG_SESSION_KEY: 'ingest-http-session-key-0123456789abcdef', RG_API_TOKENS: TOKEN, PORT: '0',
        RG_KEY_PREFIX: prefix, RG_MAX_BODY_BYTES: String(MAX_BODY),
      },
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await service?.close();
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('POST /v1/events?format=', () => {
  it('a gzip\'d Okta export: the adapter\'s verdict for every record, by index, with its reason', async () => {
    const res = await post('?format=okta', gzipSync(JSON.stringify(okta)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as Answer;
    expect(answer.accepted).toBe(47);
    expect(answer.rejected).toHaveLength(41);
    expect(answer.rejected).toEqual(expectedRejections(okta, 'okta'));
    const byCode: Record<string, number> = {};
    for (const r of answer.rejected) byCode[r.code] = (byCode[r.code] ?? 0) + 1;
    expect(byCode).toEqual({ irrelevant_event_type: 16, no_session: 10, missing_time: 8, invalid_time: 3, unrecognized_record: 2, not_user_activity: 1, service_source_ip: 1 });
    expect(await metric(/rg_records_skipped_total\{format="okta",reason="irrelevant_event_type"\} (\d+)/)).toBe(16);
    // Skips are not validation failures: rg_events_rejected_total does not count them.
    expect(await metric(/rg_events_rejected_total\{reason="irrelevant_event_type"\} (\d+)/)).toBe(0);
  });

  it('the accepted events go through the queue and the worker', async () => {
    let processed = 0;
    for (let i = 0; i < 100 && processed < 47; i++) {
      await sleep(50);
      processed = await metric(/rg_events_processed_total (\d+)/);
    }
    expect(processed).toBe(47);
  });

  it('the same export as gzip\'d NDJSON, with a truncated line: same verdicts, the bad line rejected in place', async () => {
    const lines = okta.map((r) => JSON.stringify(r));
    lines.splice(5, 0, '{"eventType": "user.session.start", "published":');
    const res = await post('?format=okta', gzipSync(lines.join('\n')), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as Answer;
    expect(answer.accepted).toBe(47);
    const shifted = expectedRejections(okta, 'okta').map((r) => ({ ...r, index: r.index >= 5 ? r.index + 1 : r.index }));
    expect(answer.rejected).toEqual([...shifted.filter((r) => r.index < 5), { index: 5, code: 'invalid_json', message: expect.stringContaining('not JSON') }, ...shifted.filter((r) => r.index > 5)]);
  });

  it('format=auto over a mix of vendors, and a CloudTrail file envelope opened', async () => {
    const mixed = [...okta.slice(0, 20), ...auth0.slice(0, 20)];
    const res = await post('?format=auto', JSON.stringify(mixed), { 'content-type': 'application/json' });
    const answer = (await res.json()) as Answer;
    expect(answer.rejected).toEqual(expectedRejections(mixed, 'auto'));
    expect(answer.accepted).toBe(mixed.length - answer.rejected.length);

    const file = await post('?format=cloudtrail', gzipSync(JSON.stringify({ Records: otrf })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(await file.json()).toEqual({ accepted: 98, rejected: expectedRejections(otrf, 'cloudtrail') });
  });

  it('text/plain access-log lines, with the session cookie named in the query', async () => {
    const apache = readFileSync(join(CORPUS, 'elastic-examples/apache_logs'), 'utf8').split('\n').slice(0, 200);
    const body = apache.filter(Boolean).map((l, i) => `${l} "theme=dark; SID=s${i % 7}"`).join('\n');
    const res = await post('?format=accesslog&session_cookie=SID&tenant=web', body, { 'content-type': 'text/plain' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 200, rejected: [] });
    const none = await post('?format=accesslog', apache.slice(0, 3).join('\n'), { 'content-type': 'text/plain; charset=utf-8' });
    expect(await none.json()).toEqual({
      accepted: 0,
      rejected: [0, 1, 2].map((index) => ({ index, code: 'no_session', message: 'no sessionCookie or sessionHeader configured' })),
    });
  });

  it('canonical stays the default, and signals sent by a producer are kept', async () => {
    const event = { id: 'sig-1', time: '2026-11-23T09:00:00Z', type: 'revoke', session_id: 's-sig', ip: '203.0.113.7', signals: ['token_reuse'] };
    const res = await post('', JSON.stringify(event), { 'content-type': 'application/json' });
    expect(await res.json()).toEqual({ accepted: 1, rejected: [] });
    const bad = await post('?format=canonical', JSON.stringify({ ...event, signals: ['nope'] }), { 'content-type': 'application/json' });
    expect(((await bad.json()) as Answer).rejected[0]).toMatchObject({ index: 0, code: 'invalid_signals' });
  });

  it('refuses a gzip bomb with 413, corrupt gzip with 400, other encodings with 415', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 10 + 1, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const res = await post('?format=okta', bomb, { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE', message: expect.stringContaining(`${MAX_BODY * 10} bytes`) } });
    // Just under the inflate limit is fine (all blank lines: nothing to accept).
    const big = await post('?format=okta', gzipSync(Buffer.alloc(MAX_BODY * 10 - 1, 0x0a)), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(await big.json()).toEqual({ accepted: 0, rejected: [] });

    const gz = gzipSync(JSON.stringify(okta));
    const corrupt = await post('?format=okta', gz.subarray(0, gz.length >> 1), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(await corrupt.json()).toMatchObject({ error: { code: 'INVALID_GZIP' } });
    const notGzip = await post('?format=okta', '[]', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(notGzip.status).toBe(400);
    const br = await post('?format=okta', '[]', { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(await br.json()).toMatchObject({ error: { code: 'UNSUPPORTED_CONTENT_ENCODING' } });
  });

  it('names the formats when given an unknown one, and keeps the other limits', async () => {
    const res = await post('?format=splunk', '[]', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'UNKNOWN_FORMAT', message: expect.stringContaining('okta, auth0, entra, cloudtrail, ecs, accesslog') } });
    expect((await post('?format=okta', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post('?format=okta', '[{"oops"', { 'content-type': 'application/json' })).status).toBe(400);
    const tooBig = await post('?format=okta', 'x'.repeat(MAX_BODY + 1), { 'content-type': 'text/plain' });
    expect(tooBig.status).toBe(413);
  });
});
