// Revocation end to end on a real Redis, with real receivers on loopback: a Standard Webhooks endpoint that
// verifies every signature (and fails once, to exercise retries), one that answers 410 Gone, and a CAEP
// receiver that verifies each SET against the service's own JWKS. Then the responder's API: roles, manual
// revocation, the rate limit holding a revocation for a human, a revoked session's next use, timelines,
// and a false positive that adds an exception.
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { compactVerify, createRemoteJWKSet, decodeProtectedHeader } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import type { Incident } from '../../src/incidents/model.js';
import { SESSION_REVOKED } from '../../src/response/set.js';
import type { Revocation } from '../../src/response/store.js';
import { decodeSecret, verify } from '../../src/response/webhook-signature.js';
import { deleteByPrefix, freePort, testPrefix } from '../helpers/redis-server.js';

const READ = 'reader-token-0123456789ab';
const RESPOND = 'responder-token-0123456789';
const INGEST = 'ingest-token-0123456789abc';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const prefix = testPrefix('resp');
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => resolve(b));
  });
}

async function listen(server: Server): Promise<string> {
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${port}`;
}

let service: RunningService;
let redis: Redis;
const servers: Server[] = [];
const webhook = { attempts: 0, verified: [] as { id: string; body: Record<string, unknown> }[] };
const gone = { attempts: 0 };
const caep = { tokens: [] as string[] };

function hijack(session: string, user: string, base: number): Record<string, unknown>[] {
  const t = (m: number) => new Date(Date.UTC(2026, 10, 23, 9, base + m)).toISOString();
  return [
    { id: `${session}-1`, time: t(0), type: 'login', session_id: session, user_id: user, ip: '81.2.69.142', user_agent: CHROME, tenant: 'acme' },
    { id: `${session}-2`, time: t(20), type: 'request', session_id: session, user_id: user, ip: '159.89.1.1', user_agent: FIREFOX, tenant: 'acme' },
  ];
}

async function api(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${service.url}${path}`, { ...init, headers });
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function incidents(): Promise<Incident[]> {
  return ((await (await api('/v1/incidents', READ)).json()) as { items: Incident[] }).items;
}

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  const hook = createServer(async (req, res) => {
    const text = await body(req);
    webhook.attempts++;
    if (webhook.attempts === 1) {
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    try {
      verify([decodeSecret(WEBHOOK_SECRET)], req.headers as Record<string, string>, text);
      webhook.verified.push({ id: String(req.headers['webhook-id']), body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(200).end();
    } catch {
      res.writeHead(401).end();
    }
  });
  const goneServer = createServer(async (req, res) => {
    await body(req);
    gone.attempts++;
    res.writeHead(410).end();
  });
  const caepServer = createServer(async (req, res) => {
    const text = await body(req);
    if (req.headers['content-type'] !== 'application/secevent+jwt' || req.headers.authorization !== 'Bearer caep-receiver-token') {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'authentication_failed' }));
      return;
    }
    caep.tokens.push(text);
    res.writeHead(202).end();
  });
  servers.push(hook, goneServer, caepServer);
  const [hookUrl, goneUrl, caepUrl] = await Promise.all([listen(hook), listen(goneServer), listen(caepServer)]);

  const dir = mkdtempSync(join(tmpdir(), 'rg-resp-'));
  const rules = join(dir, 'rules');
  cpSync('test/fixtures/e2e-rules', rules, { recursive: true });
  const multi = join(rules, 'session-multi-network-multi-device.yaml');
  writeFileSync(multi, readFileSync(multi, 'utf8').replace('action: alert', 'action: { type: revoke, mode: enforce }'));
  const responseFile = join(dir, 'response.yaml');
  writeFileSync(responseFile, [
    'issuer: https://replayguard.test/',
    'policy: { mode: enforce, min_severity: high, rate_limit: { max: 2, per: 1h } }',
    'webhooks:',
    `  - { name: app, url: "${hookUrl}/hooks", secrets_env: [WEBHOOK_SECRET], retry: { attempts: 5, base_delay_ms: 20, max_delay_ms: 100 } }`,
    `  - { name: legacy, url: "${goneUrl}/old", secrets_env: [WEBHOOK_SECRET], retry: { attempts: 5, base_delay_ms: 20, max_delay_ms: 100 } }`,
    'caep:',
    `  - { name: idp, url: "${caepUrl}/ssf/push", audience: https://idp.test/, authorization_env: CAEP_TOKEN, retry: { attempts: 3, base_delay_ms: 20, max_delay_ms: 100 } }`,
    'signing: { key_env: SET_KEY, alg: RS256 }',
  ].join('\n'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  service = await startService(
    {
      api: true, worker: true,
      env: {
        REDIS_URL: inject('redisUrl'), RG_SESSION_KEY: 'response-e2e-session-key-0123456789abcdef', PORT: '0', RG_KEY_PREFIX: prefix,
        RG_API_TOKENS: `siem:read:${READ},oncall:respond:${RESPOND},shipper:ingest:${INGEST}`, RG_RULES_DIR: rules, RG_RESPONSE_FILE: responseFile,
        WEBHOOK_SECRET, CAEP_TOKEN: 'caep-receiver-token', SET_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await service?.close();
  for (const s of servers) s.close();
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

describe('revocation and the responder API', () => {
  let hijacked: Incident;

  it('enforces policy on a revoking rule: signed webhook (after a retry), CAEP SET, 410 disables', async () => {
    const res = await api('/v1/events', INGEST, { method: 'POST', body: JSON.stringify(hijack('cookie-A', 'alice@example.com', 0)) });
    expect(res.status).toBe(202);
    hijacked = await until(async () => (await incidents()).find((i) => i.rule.id === 'session-multi-network-multi-device'), 'the incident');
    const revocationId = await until(async () => (await api(`/v1/incidents/${hijacked.id}`, READ).then((r) => r.json()) as Incident).response?.revocation_id, 'the decision');
    const rev = await until(async () => {
      const r = (await (await api(`/v1/revocations/${revocationId}`, READ)).json()) as Revocation;
      return r.targets.app?.status === 'delivered' && r.targets.idp?.status === 'delivered' && r.targets.legacy?.status === 'disabled' ? r : undefined;
    }, 'the deliveries');
    expect(rev).toMatchObject({ mode: 'enforce', initiated_by: 'policy', session: hijacked.session, incident_id: hijacked.id, status: 'partial' });
    expect(rev.targets.app!.attempts).toBe(2); // 503 once, then delivered
    expect(webhook.verified).toHaveLength(1);
    expect(webhook.verified[0]!.body).toMatchObject({ type: 'session.revoked', data: { session_hash: hijacked.session, incident_id: hijacked.id, user: 'alice@example.com' } });
    expect(JSON.stringify(webhook.verified)).not.toContain('cookie-A');
    expect(gone.attempts).toBe(1);

    const jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
    expect(caep.tokens).toHaveLength(1);
    expect(decodeProtectedHeader(caep.tokens[0]!)).toMatchObject({ typ: 'secevent+jwt', alg: 'RS256' });
    const { payload } = await compactVerify(caep.tokens[0]!, jwks);
    const set = JSON.parse(new TextDecoder().decode(payload)) as Record<string, any>;
    expect(set).toMatchObject({ iss: 'https://replayguard.test/', aud: 'https://idp.test/', txn: hijacked.id, sub_id: { format: 'complex', session: { id: hijacked.session } } });
    expect(set.events[SESSION_REVOKED]).toMatchObject({ initiating_entity: 'policy', reason_admin: { en: expect.stringContaining('several networks') } });
    expect(set).not.toHaveProperty('sub');
    expect(set).not.toHaveProperty('exp');
  });

  it('makes further use of the revoked session a use-after-end detection, without a second webhook', async () => {
    const later = { id: 'cookie-A-3', time: new Date(Date.now() + 60_000).toISOString(), type: 'request', session_id: 'cookie-A', user_id: 'alice@example.com', ip: '159.89.1.1', user_agent: FIREFOX, tenant: 'acme' };
    expect((await api('/v1/events', INGEST, { method: 'POST', body: JSON.stringify([later]) })).status).toBe(202);
    const after = await until(async () => (await incidents()).find((i) => i.rule.id === 'session-use-after-logout' && i.session === hijacked.session), 'use after revocation');
    expect(after.evidence.details).toMatchObject({ ended_by: 'revoke' });
    await sleep(200);
    expect(webhook.verified).toHaveLength(1);
  });

  it('enforces roles: a read token cannot revoke; ingest cannot read', async () => {
    expect((await api(`/v1/incidents/${hijacked.id}/revoke`, READ, { method: 'POST', body: JSON.stringify({ reason: 'nope' }) })).status).toBe(403);
    expect((await api('/v1/incidents', INGEST)).status).toBe(403);
    expect((await api('/v1/events', READ, { method: 'POST', body: '[]' })).status).toBe(403);
  });

  it('holds automatic revocations past the rate limit until a human approves', async () => {
    await api('/v1/events', INGEST, { method: 'POST', body: JSON.stringify([...hijack('cookie-B', 'bob@example.com', 30), ...hijack('cookie-C', 'carol@example.com', 31)]) });
    const held = await until(async () => {
      const list = ((await (await api('/v1/revocations', READ)).json()) as { items: Revocation[] }).items;
      return list.find((r) => r.mode === 'held');
    }, 'a held revocation');
    expect(held.status).toBe('held');
    expect(Object.keys(held.targets)).toHaveLength(0);
    const approved = await api(`/v1/revocations/${held.id}/approve`, RESPOND, { method: 'POST' });
    expect(approved.status).toBe(200);
    const done = await until(async () => {
      const r = (await (await api(`/v1/revocations/${held.id}`, READ)).json()) as Revocation;
      return r.targets.app?.status === 'delivered' ? r : undefined;
    }, 'the approved revocation');
    expect(done).toMatchObject({ mode: 'enforce', approved_by: 'oncall' });
  });

  it('revokes a session by hand, once, recording who did it', async () => {
    await api('/v1/events', INGEST, { method: 'POST', body: JSON.stringify([{ id: 'd-1', time: '2026-11-23T10:00:00Z', type: 'login', session_id: 'cookie-D', user_id: 'dave@example.com', ip: '73.22.1.5', tenant: 'acme' }]) });
    const timelineOf = async (hash: string) => (await api(`/v1/sessions/${hash}`, READ)).json() as Promise<Record<string, any>>;
    const aTimeline = await timelineOf(hijacked.session);
    expect(aTimeline.networks.map((n: { ip: string }) => n.ip)).toEqual(['81.2.69.142', '159.89.1.1']);
    expect(aTimeline.ended).toMatchObject({ type: 'revoke' });
    expect(aTimeline.incidents.map((i: { rule: string }) => i.rule).sort()).toEqual(['session-multi-network-multi-device', 'session-use-after-logout']);

    // dave has no incident: find his session hash through a scan-free path (the HMAC of the service's key)
    const { SessionHasher } = await import('../../src/events/normalize.js');
    const dave = new SessionHasher('response-e2e-session-key-0123456789abcdef').hash('acme', 'cookie-D');
    expect((await api(`/v1/sessions/${dave}`, READ)).status).toBe(200);
    const r1 = await api(`/v1/sessions/${dave}/revoke`, RESPOND, { method: 'POST', body: JSON.stringify({ reason: 'user reported a phishing page', tenant: 'acme' }) });
    expect(r1.status).toBe(202);
    expect(await r1.json()).toMatchObject({ mode: 'manual', initiated_by: 'admin:oncall', reason: 'user reported a phishing page' });
    const r2 = await api(`/v1/sessions/${dave}/revoke`, RESPOND, { method: 'POST', body: JSON.stringify({ reason: 'again', tenant: 'acme' }) });
    expect(r2.status).toBe(409);
    expect((await api(`/v1/sessions/${'0'.repeat(32)}`, READ)).status).toBe(404);
  });

  it('closes an incident as a false positive and adds an expiring exception in one call', async () => {
    const res = await api(`/v1/incidents/${hijacked.id}/status`, RESPOND, {
      method: 'POST',
      body: JSON.stringify({ status: 'false_positive', note: 'pentest from our lab', exception: { cidr: '159.89.1.0/24', expires: '2027-01-01' } }),
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as Incident & { exception_added: Record<string, unknown> };
    expect(updated.status).toBe('false_positive');
    expect(updated.history).toEqual([expect.objectContaining({ status: 'false_positive', by: 'oncall', note: 'pentest from our lab' })]);
    expect(updated.exception_added).toMatchObject({ rule: 'session-multi-network-multi-device', cidr: '159.89.1.0/24', owner: 'oncall' });
    const rulesDir = (service.runtime as unknown as { rules: { loaded: { rule: { id: string; exceptions: unknown[] } }[] } }).rules;
    await until(async () => rulesDir.loaded.find((r) => r.rule.id === 'session-multi-network-multi-device' && r.rule.exceptions.length > 0), 'the exception to load');
    const bad = await api(`/v1/incidents/${hijacked.id}/status`, RESPOND, { method: 'POST', body: JSON.stringify({ status: 'resolved', exception: { cidr: '10.0.0.0/8' } }) });
    expect(bad.status).toBe(400);
  });
});
