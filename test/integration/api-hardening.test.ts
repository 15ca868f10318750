// The API as an attack surface, on a real embedded service (startService, no Redis) with tokens of every role and a
// trace-level log captured: every route but the public four needs a token (routes enumerated from GET /docs), roles
// are enforced, bodies over the limit get 413, error bodies carry a stable code and no stack trace or internal path,
// and the raw session ids of posted events appear in no response and no log line.
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';
import type { Incident } from '../../src/incidents/model.js';
import { createLogger } from '../../src/observability/logger.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

type Role = 'read' | 'ingest' | 'respond' | 'admin';
const SECRETS: Record<Role, string> = {
  read: 'hardening-reader-secret-7c1d9e0a',
  ingest: 'hardening-shipper-secret-52f0b3c4',
  respond: 'hardening-responder-secret-a9e8d7c6',
  admin: 'hardening-admin-secret-0f1e2d3c4b',
};
/** Restated from docs/architecture.md / src/api/auth.ts so the test does not borrow the code it checks. */
const GRANTS: Record<Role, readonly Role[]> = { read: ['read'], ingest: ['ingest'], respond: ['read', 'respond'], admin: ['read', 'ingest', 'respond', 'admin'] };
/** A valid admin token used only in a query string (where it must not work); URLs are logged, so it is not searched for. */
const QUERY_PROBE_SECRET = 'hardening-query-probe-secret-1a2b3c';
const PUBLIC = ['/.well-known/jwks.json', '/docs', '/healthz', '/readyz'];
const MAX_BODY = 64 * 1024;
const SESSION_KEY = 'hardening-session-key-0123456789abcdef0123';

const logs = new Capture();
/** Every response (status line, headers and body) the test received, for the raw-id search at the end. */
const answers: string[] = [];
let service: RunningService;
let routes: { method: string; path: string; role: string }[] = [];

async function call(method: string, path: string, opts: { token?: string | null; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
  const res = await fetch(`${service.url}${path}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body as BodyInit } : {}) });
  const text = await res.text();
  answers.push(`${res.status} ${JSON.stringify([...res.headers])}\n${text}`);
  return { status: res.status, headers: res.headers, text };
}

const json = (body: unknown): { headers: Record<string, string>; body: string } => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A concrete URL for a documented path: ids that exist nowhere, hashes of the right shape. */
function concrete(path: string): string {
  return path.replace(/\{hash\}/g, 'a'.repeat(32)).replace(/\{(\w+)\}/g, 'does-not-exist');
}

/** A request each route accepts as far as auth goes, with no lasting side effect (unknown ids, empty bodies). */
function benign(method: string): { headers?: Record<string, string>; body?: string } {
  return method === 'POST' ? json({}) : {};
}

/** Stack frames, source locations, file paths of this machine or of node_modules: none belongs in an answer. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\n\s+at\s/);
  expect(text).not.toMatch(/\bat\s+\S+\s+\(/);
  expect(text).not.toMatch(/\.(?:ts|js|mjs|cjs):\d+/);
  expect(text).not.toMatch(/node_modules|node:internal|file:\/\//);
  expect(text).not.toContain(process.cwd());
  expect(text).not.toMatch(/\/(?:src|dist|test)\//);
  expect(text).not.toMatch(/"stack"/);
}

/** Our error convention: {"error": {"code": STABLE_CODE, "message": text, "details"?: ...}}, served as JSON. */
function expectApiError(r: { status: number; headers: Headers; text: string }, status: number, code?: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(r.text) as { error?: { code?: unknown; message?: unknown } };
  expect(body.error, r.text).toBeTypeOf('object');
  expect(body.error!.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  if (code !== undefined) expect(body.error!.code).toBe(code);
  expect(typeof body.error!.message).toBe('string');
  expect((body.error!.message as string).length).toBeGreaterThan(0);
  expectNoInternals(r.text);
}

beforeAll(async () => {
  const tokens = [...(Object.entries(SECRETS) as [Role, string][]).map(([role, secret]) => `${role}-token:${role}:${secret}`), `query-probe:admin:${QUERY_PROBE_SECRET}`].join(',');
  service = await startService(
    {
      api: true, worker: true,
      env: {
        PORT: '0', RG_API_TOKENS: tokens, RG_RULES_DIR: 'test/fixtures/e2e-rules', RG_SESSION_KEY: SESSION_KEY,
        RG_MAX_BODY_BYTES: String(MAX_BODY), RG_MAX_EVENTS_PER_REQUEST: '200', RG_LOG_LEVEL: 'trace',
      },
    },
    createLogger('trace', logs),
  );
  const docs = await call('GET', '/docs');
  expect(docs.status).toBe(200);
  const doc = JSON.parse(docs.text) as { paths: Record<string, Record<string, { 'x-role': string; security?: unknown }>> };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), path, role: op['x-role'] })));
});

afterAll(async () => {
  await service?.close();
});

describe('authentication on every route (enumerated from GET /docs)', () => {
  it('the documented routes include every kind, and exactly four are public', () => {
    expect(routes.length).toBeGreaterThanOrEqual(15);
    expect(routes.filter((r) => r.role === 'public').map((r) => r.path).sort()).toEqual(PUBLIC);
    for (const r of routes) expect(['public', 'read', 'ingest', 'respond', 'admin'], `${r.method} ${r.path}`).toContain(r.role);
  });

  it('the public routes answer without a token', async () => {
    for (const path of PUBLIC) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(200);
      expectNoInternals(r.text);
    }
  });

  it('every other route answers 401 to no token, a wrong token and malformed Authorization headers', async () => {
    const wrong: { label: string; header?: string; query?: string }[] = [
      { label: 'no token' },
      { label: 'unknown token', header: 'Bearer wrong-token-0123456789abcdef' },
      { label: 'secret with a suffix', header: `Bearer ${SECRETS.admin}x` },
      { label: 'secret prefix', header: `Bearer ${SECRETS.admin.slice(0, -1)}` },
      { label: 'no scheme', header: SECRETS.admin },
      { label: 'Basic', header: `Basic ${Buffer.from(`admin:${SECRETS.admin}`).toString('base64')}` },
      { label: 'empty Bearer', header: 'Bearer ' },
      { label: 'two tokens', header: `Bearer ${SECRETS.admin} ${SECRETS.admin}` },
      { label: 'role name as token', header: 'Bearer admin-token' },
      { label: 'token in the query string', query: `access_token=${QUERY_PROBE_SECRET}&token=${QUERY_PROBE_SECRET}` },
    ];
    const protectedRoutes = routes.filter((r) => r.role !== 'public');
    for (const route of protectedRoutes) {
      for (const w of wrong) {
        const url = concrete(route.path) + (w.query ? `?${w.query}` : '');
        const b = benign(route.method);
        const r = await call(route.method, url, { headers: { ...(b.headers ?? {}), ...(w.header !== undefined ? { authorization: w.header } : {}) }, ...(b.body !== undefined ? { body: b.body } : {}) });
        expect(r.status, `${route.method} ${route.path} with ${w.label}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toBe('Bearer realm="replayguard"');
        expectApiError(r, 401, 'UNAUTHORIZED');
      }
      if (route.method === 'GET') expect((await call('HEAD', concrete(route.path))).status, `HEAD ${route.path}`).toBe(401);
    }
  });

  it('unknown routes and methods answer 401 without a token, so routes cannot be discovered', async () => {
    for (const [method, path] of [['GET', '/v2/incidents'], ['GET', '/admin'], ['PUT', '/v1/incidents'], ['DELETE', '/v1/incidents/x'], ['OPTIONS', '/v1/events'], ['GET', '/v1/incidents/x/secret']] as const) {
      const r = await call(method, path);
      expect(r.status, `${method} ${path}`).toBe(401);
    }
  });
});

describe('roles', () => {
  const allowed = (role: Role, needed: string): boolean => (GRANTS[role] as readonly string[]).includes(needed);

  it('read cannot POST anything', async () => {
    const posts = routes.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(6);
    for (const route of posts) {
      const r = await call('POST', concrete(route.path), { token: SECRETS.read, ...benign('POST') });
      expectApiError(r, 403, 'FORBIDDEN');
    }
  });

  it('ingest cannot read anything (incidents, sessions, revocations, dead letters, metrics)', async () => {
    const reads = routes.filter((r) => r.method === 'GET' && r.role !== 'public');
    expect(reads.map((r) => r.path)).toEqual(expect.arrayContaining(['/v1/incidents', '/v1/incidents/{id}', '/metrics']));
    for (const route of reads) {
      const r = await call('GET', concrete(route.path), { token: SECRETS.ingest });
      expectApiError(r, 403, 'FORBIDDEN');
    }
    // ...and can do the one thing it is for.
    expect((await call('POST', '/v1/events', { token: SECRETS.ingest, ...json([]) })).status).toBe(202);
  });

  it('each role reaches exactly the routes its grants cover', async () => {
    for (const role of Object.keys(SECRETS) as Role[]) {
      for (const route of routes.filter((r) => r.role !== 'public')) {
        const r = await call(route.method, concrete(route.path), { token: SECRETS[role], ...benign(route.method) });
        const what = `${role} → ${route.method} ${route.path} (needs ${route.role}): ${r.status} ${r.text.slice(0, 200)}`;
        if (allowed(role, route.role)) expect([401, 403], what).not.toContain(r.status);
        else expectApiError(r, 403, 'FORBIDDEN');
        expect(r.status, what).toBeLessThan(500);
      }
    }
  });
});

describe('input limits', () => {
  it(`413 over the body limit (${MAX_BODY} bytes) on every POST route and media type; accepted at the limit`, async () => {
    const over = '[' + ' '.repeat(MAX_BODY) + ']';
    for (const contentType of ['application/json', 'application/x-ndjson', 'text/plain']) {
      const r = await call('POST', '/v1/events', { token: SECRETS.ingest, headers: { 'content-type': contentType }, body: over });
      expectApiError(r, 413, 'BODY_TOO_LARGE');
    }
    for (const route of routes.filter((r) => r.method === 'POST')) {
      const r = await call('POST', concrete(route.path), { token: SECRETS.admin, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'x'.repeat(MAX_BODY) }) });
      expectApiError(r, 413, 'BODY_TOO_LARGE');
    }
    const exact = '[' + ' '.repeat(MAX_BODY - 2) + ']';
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY);
    expect((await call('POST', '/v1/events', { token: SECRETS.ingest, headers: { 'content-type': 'application/json' }, body: exact })).status).toBe(202);
  });

  it('413 for a gzip bomb (inflates past the limit) and for too many events', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 20, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const r = await call('POST', '/v1/events', { token: SECRETS.ingest, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: new Uint8Array(bomb) });
    expectApiError(r, 413, 'BODY_TOO_LARGE');
    const many = Array.from({ length: 201 }, () => '{}').join('\n');
    expectApiError(await call('POST', '/v1/events', { token: SECRETS.ingest, headers: { 'content-type': 'application/x-ndjson' }, body: many }), 413, 'TOO_MANY_EVENTS');
  });
});

describe('errors carry a stable code and no internals', () => {
  it('bad JSON, bad cursors, unknown ids, invalid parameters, unsupported media and encodings', async () => {
    const { admin, ingest } = SECRETS;
    const cases: [string, string, { token: string; headers?: Record<string, string>; body?: string | Uint8Array }, number, string][] = [
      ['POST', '/v1/events', { token: ingest, headers: { 'content-type': 'application/json' }, body: '[{"time": "2026-' }, 400, 'INVALID_JSON'],
      ['POST', '/v1/events', { token: ingest, headers: { 'content-type': 'application/json' }, body: '' }, 400, 'INVALID_JSON'],
      ['POST', '/v1/events?format=xml', { token: ingest, ...json([]) }, 400, 'UNKNOWN_FORMAT'],
      ['POST', '/v1/events?okta_session=everything', { token: ingest, ...json([]) }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/events?tenant=', { token: ingest, ...json([]) }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/events', { token: ingest, headers: { 'content-type': 'application/xml' }, body: '<a/>' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/v1/events', { token: ingest, headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: '[]' }, 415, 'UNSUPPORTED_CONTENT_ENCODING'],
      ['POST', '/v1/events', { token: ingest, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip at all' }, 400, 'INVALID_GZIP'],
      ['POST', '/v1/events', { token: ingest, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: new Uint8Array(gzipSync('[{"a": 1}]').subarray(0, 15)) }, 400, 'INVALID_GZIP'],
      ['GET', '/v1/incidents?cursor=garbage', { token: admin }, 400, 'INVALID_CURSOR'],
      ['GET', `/v1/incidents?cursor=${Buffer.from('{"t":1,"id":"../../etc/passwd"}').toString('base64url')}`, { token: admin }, 400, 'INVALID_CURSOR'],
      ['GET', `/v1/incidents?cursor=${'A'.repeat(201)}`, { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?limit=0', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?limit=abc', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?severity=urgent', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?since=yesterday', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?session=not-a-hash', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?rule=a&rule=b', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents?__proto__=x', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/incidents/inc_does_not_exist', { token: admin }, 404, 'INCIDENT_NOT_FOUND'],
      ['GET', '/v1/sessions/zz', { token: admin }, 400, 'INVALID_REQUEST'],
      ['GET', `/v1/sessions/${'0'.repeat(32)}`, { token: admin }, 404, 'SESSION_NOT_FOUND'],
      ['GET', '/v1/revocations/rev_does_not_exist', { token: admin }, 404, 'REVOCATION_NOT_FOUND'],
      ['GET', '/v1/revocations?limit=-1', { token: admin }, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/revocations?before=later', { token: admin }, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/deliveries/dead?limit=0', { token: admin }, 400, 'INVALID_QUERY'],
      ['GET', '/v1/deliveries/dead?sink=../../x', { token: admin }, 400, 'INVALID_QUERY'],
      ['POST', '/v1/deliveries/does-not-exist/retry', { token: admin }, 404, 'DELIVERY_NOT_FOUND'],
      ['POST', `/v1/deliveries/${encodeURIComponent('a b/../c')}/retry`, { token: admin }, 400, 'INVALID_ID'],
      ['POST', '/v1/incidents/inc_x/status', { token: admin, headers: { 'content-type': 'application/json' }, body: '{bad' }, 400, 'INVALID_JSON'],
      ['POST', '/v1/incidents/inc_x/status', { token: admin, ...json({ status: 'closed' }) }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/incidents/inc_x/status', { token: admin, headers: { 'content-type': 'application/json' }, body: '{"__proto__": {"polluted": 1}, "status": "open"}' }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/incidents/inc_x/status', { token: admin, ...json({ status: 'open' }) }, 404, 'INCIDENT_NOT_FOUND'],
      ['POST', '/v1/incidents/inc_x/revoke', { token: admin, ...json({ reason: 'x' }) }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/incidents/inc_x/revoke', { token: admin, ...json({ reason: 'confirmed' }) }, 404, 'INCIDENT_NOT_FOUND'],
      ['POST', '/v1/sessions/xyz/revoke', { token: admin, ...json({ reason: 'confirmed' }) }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/revocations/rev_x/approve', { token: admin }, 404, 'REVOCATION_NOT_FOUND'],
      ['GET', '/v1/no-such-route', { token: admin }, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, opts, status, code] of cases) {
      const r = await call(method, path, opts);
      expect(r.status, `${method} ${path}: ${r.text.slice(0, 200)}`).toBe(status);
      expectApiError(r, status, code);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('fuzzed query strings, path parameters and JSON bodies: never a 5xx, every error in the API shape', async () => {
    const docsParams = ['rule', 'severity', 'min_severity', 'status', 'user', 'session', 'tenant', 'since', 'until', 'limit', 'cursor', 'before', 'sink', 'format', 'session_cookie', 'session_field', 'extra_fields', 'logout_paths', 'okta_session'];
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom('', '0', '-1', '1e309', 'NaN', '9'.repeat(30), 'a'.repeat(250), '__proto__', 'constructor', '../../etc/passwd', '%', '{"$gt": ""}', '2026-13-45T99:99:99Z', 'high', 'open'),
    );
    const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...docsParams), fc.constantFrom('__proto__', 'constructor[prototype]', 'a[b]', ''), fc.string({ maxLength: 8 })), text), { maxLength: 4 });
    const body = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 60 }), fc.constant('{"__proto__":{"polluted":1},"reason":"pollution test"}'));
    const targets = routes.filter((r) => r.role !== 'public' && !(r.method === 'POST' && r.path === '/v1/incidents/{id}/status'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), query, text, body, fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain'), async (route, q, param, payload, contentType) => {
        const search = new URLSearchParams(q).toString();
        const path = route.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(param) || 'x');
        const r = await call(route.method, `${path}${search ? `?${search}` : ''}`, {
          token: route.role === 'ingest' ? SECRETS.ingest : SECRETS.admin,
          ...(route.method === 'POST' ? { headers: { 'content-type': contentType }, body: payload } : {}),
        });
        expect(r.status, `${route.method} ${path}?${search}: ${r.text.slice(0, 200)}`).toBeLessThan(500);
        if (r.status >= 400 && r.status !== 414 && !(r.status === 400 && r.text.includes('FST_ERR_BAD_URL'))) expectApiError(r, r.status);
        else expectNoInternals(r.text);
      }),
      { numRuns: 150 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 60_000);

  it('errors fastify raises before routing carry no internals either', async () => {
    for (const path of ['/v1/incidents/%E0%A4%A', `/v1/incidents/${'a'.repeat(300)}`, '/v1/incidents/%']) {
      const r = await call('GET', path, { token: SECRETS.admin });
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expectNoInternals(r.text);
    }
  });
});

// Distinctive raw session ids, one per ingestion path; none may come back in an answer or a log line.
const RAW = {
  canonical: 'RAW-canon-5b0e6f1a-9d2c-4c7b-8e31-hijacked-cookie',
  ndjson: 'RAW-ndjson-0c4a2e7f-61b9-4f0d-a2c8-cookie',
  gzip: 'RAW-gzip-7a3d9c2b-15e4-4b8f-9f06-cookie',
  rotatedTo: 'RAW-rotated-to-3e1f5a7c-aa02-47d1-b6e4',
  loggedOut: 'RAW-logout-8d6b4f2e-0b3a-4e5c-9a17-cookie',
  rejected: 'RAW-rejected-1f2e3d4c-5b6a-4798-8a7b-cookie',
  okta: 'RAW-okta-idx9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  auth0: 'RAW-auth0-2b4d6f8a-0c1e-4a3b-9d5f-7e6c5b4a3928',
  entra: 'RAW-entra-4c6e8a0b-2d1f-4e3a-8b5c-6d7e8f9a0b1c',
  ecs: 'RAW-ecs-6e8a0c2d-4f3b-4a5c-9d7e-8f9a0b1c2d3e',
  accesslog: 'RAW-cookie-8a0c2e4f-6b5d-4c7e-af09-1b2c3d4e5f6a',
};

const CHROME_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const t = (min: number) => new Date(Date.UTC(2026, 10, 23, 9, min)).toISOString();

/** A victim session replayed from another network and browser: the multi-network rule fires on it. */
function replay(raw: string, idPrefix: string, user: string): Record<string, unknown>[] {
  return [
    { id: `${idPrefix}-1`, time: t(0), type: 'login', session_id: raw, user_id: user, ip: '81.2.69.142', user_agent: CHROME_WIN, tenant: 'acme' },
    { id: `${idPrefix}-2`, time: t(20), type: 'request', session_id: raw, user_id: user, ip: '185.220.101.1', user_agent: FIREFOX_LINUX, tenant: 'acme' },
  ];
}

describe('raw session ids never come back', () => {
  it('events with distinctive raw ids through every ingestion path; incidents, timelines, revocations read back', async () => {
    const { ingest, respond, admin } = SECRETS;
    const post = (body: string | Uint8Array, contentType: string, query = '', extra: Record<string, string> = {}) =>
      call('POST', `/v1/events${query}`, { token: ingest, headers: { 'content-type': contentType, ...extra }, body });

    // Canonical JSON, with a rotation to a new raw id, a logout and a use after it, and rejected events carrying raw ids.
    const canonical = [
      ...replay(RAW.canonical, 'c', 'alice@example.com'),
      { id: 'c-3', time: t(25), type: 'rotate', session_id: RAW.canonical, new_session_id: RAW.rotatedTo, user_id: 'alice@example.com', ip: '185.220.101.1', user_agent: FIREFOX_LINUX, tenant: 'acme' },
      { id: 'l-1', time: t(1), type: 'login', session_id: RAW.loggedOut, user_id: 'bob@example.com', ip: '8.8.4.4', user_agent: CHROME_WIN, tenant: 'acme' },
      { id: 'l-2', time: t(2), type: 'logout', session_id: RAW.loggedOut, user_id: 'bob@example.com', ip: '8.8.4.4', user_agent: CHROME_WIN, tenant: 'acme' },
      { id: 'l-3', time: t(12), type: 'request', session_id: RAW.loggedOut, user_id: 'bob@example.com', ip: '1.1.1.1', user_agent: CHROME_WIN, tenant: 'acme' },
      { id: 'r-1', time: t(3), type: 'request', session_id: RAW.rejected, ip: '999.1.1.1' },
      { id: 'r-2', time: t(3), type: 'rotate', session_id: RAW.rejected, ip: '8.8.8.8' },
      { id: 'r-3', time: 'yesterday', type: 'request', session_id: RAW.rejected, ip: '8.8.8.8' },
      { id: 'r-4', time: t(3), type: 'teleport', session_id: RAW.rejected, ip: '8.8.8.8' },
      { id: 'r-5', time: t(3), type: 'request', session_id: RAW.rejected, new_session_id: 42, ip: '8.8.8.8' },
    ];
    const a = await post(JSON.stringify(canonical), 'application/json');
    expect(a.status).toBe(202);
    expect(JSON.parse(a.text)).toMatchObject({ accepted: 6, rejected: [{ index: 6 }, { index: 7 }, { index: 8 }, { index: 9 }, { index: 10 }] });

    expect((await post(replay(RAW.ndjson, 'n', 'carol@example.com').map((e) => JSON.stringify(e)).join('\n'), 'application/x-ndjson')).status).toBe(202);
    const gz = gzipSync(replay(RAW.gzip, 'g', 'dave@example.com').map((e) => JSON.stringify(e)).join('\n'));
    expect((await post(new Uint8Array(gz), 'application/x-ndjson', '', { 'content-encoding': 'gzip' })).status).toBe(202);

    // Vendor formats, each carrying its raw session id where that vendor writes it.
    const okta = [0, 20].map((m, i) => ({
      uuid: `o-${i}`, published: t(m), eventType: 'user.session.start', outcome: { result: 'SUCCESS' }, actor: { type: 'User', alternateId: 'erin@example.com' },
      client: { ipAddress: i ? '185.220.101.1' : '81.2.69.142', userAgent: { rawUserAgent: i ? FIREFOX_LINUX : CHROME_WIN } }, authenticationContext: { externalSessionId: RAW.okta },
    }));
    const auth0 = [0, 20].map((m, i) => ({ log_id: `a-${i}`, date: t(m), type: 's', ip: i ? '185.220.101.1' : '81.2.69.142', user_agent: i ? FIREFOX_LINUX : CHROME_WIN, user_id: 'auth0|frank', details: { session_id: RAW.auth0 } }));
    const entra = [0, 20].map((m, i) => ({ id: `e-${i}`, createdDateTime: t(m), userPrincipalName: 'gina@example.com', appId: 'app', ipAddress: i ? '185.220.101.1' : '81.2.69.142', userAgent: i ? FIREFOX_LINUX : CHROME_WIN, isInteractive: true, sessionId: RAW.entra, status: { errorCode: 0 } }));
    const ecs = [0, 20].map((m, i) => ({ '@timestamp': t(m), event: { id: `s-${i}`, category: ['web'] }, source: { ip: i ? '185.220.101.1' : '81.2.69.142' }, user_agent: { original: i ? FIREFOX_LINUX : CHROME_WIN }, session: { id: RAW.ecs }, user: { name: 'hank' } }));
    for (const [format, records] of [['okta', okta], ['auth0', auth0], ['entra', entra], ['ecs', ecs], ['auto', [...okta, ...auth0]]] as const) {
      const r = await post(JSON.stringify(records), 'application/json', `?format=${format}`);
      expect(r.status, format).toBe(202);
      expect(JSON.parse(r.text).rejected, `${format}: ${r.text}`).toEqual([]);
    }
    const lines = [
      `81.2.69.142 - ivan [23/Nov/2026:09:00:00 +0000] "GET /app HTTP/1.1" 200 512 "-" "${CHROME_WIN}" "theme=dark; SID=${RAW.accesslog}"`,
      `185.220.101.1 - ivan [23/Nov/2026:09:20:00 +0000] "GET /app HTTP/1.1" 200 512 "-" "${FIREFOX_LINUX}" "SID=${RAW.accesslog}; x=1"`,
    ];
    const r = await post(lines.join('\n'), 'text/plain', '?format=accesslog&session_cookie=SID');
    expect(r.status).toBe(202);
    expect(JSON.parse(r.text)).toMatchObject({ accepted: 2, rejected: [] });

    // Read everything back the way an analyst or a responder would.
    const listed = JSON.parse((await call('GET', '/v1/incidents?limit=500', { token: admin })).text) as { items: Incident[] };
    const rules = listed.items.map((i) => i.rule.id);
    expect(rules.filter((id) => id === 'session-multi-network-multi-device').length).toBeGreaterThanOrEqual(8);
    expect(rules).toContain('session-use-after-logout');
    for (const incident of listed.items) {
      expect((await call('GET', `/v1/incidents/${incident.id}`, { token: SECRETS.read })).status).toBe(200);
      expect((await call('GET', `/v1/sessions/${incident.session}`, { token: respond })).status).toBe(200);
    }
    const victim = listed.items.find((i) => i.user === 'alice@example.com')!;
    expect((await call('POST', `/v1/sessions/${victim.session}/revoke`, { token: respond, ...json({ reason: 'confirmed replay with the user', tenant: 'acme' }) })).status).toBe(202);
    expect((await call('POST', `/v1/incidents/${victim.id}/status`, { token: respond, ...json({ status: 'acknowledged', note: 'looking' }) })).status).toBe(200);
    const revocations = JSON.parse((await call('GET', '/v1/revocations', { token: SECRETS.read })).text) as { items: { id: string }[] };
    expect(revocations.items.length).toBeGreaterThanOrEqual(1);
    for (const rev of revocations.items) expect((await call('GET', `/v1/revocations/${rev.id}`, { token: SECRETS.read })).status).toBe(200);
    for (const path of ['/metrics', '/v1/deliveries/dead', '/readyz', '/docs']) expect((await call('GET', path, { token: admin })).status).toBe(200);
  });

  it('no raw session id, token secret or session key in any answer or log line', () => {
    expect(logs.text.split('\n').length).toBeGreaterThan(50); // trace level: every request was logged
    expect(logs.text).toContain('"msg":"incoming request"');
    const corpus = { answers: answers.join('\n'), logs: logs.text };
    for (const [where, text] of Object.entries(corpus)) {
      for (const [name, raw] of Object.entries(RAW)) {
        expect(text.includes(raw), `raw ${name} session id in ${where}`).toBe(false);
        // Not even a distinctive piece of it (a cut or a quoted fragment).
        expect(text.includes(raw.slice(4, 24)), `part of raw ${name} session id in ${where}`).toBe(false);
      }
      for (const [role, secret] of Object.entries(SECRETS)) expect(text.includes(secret), `${role} token in ${where}`).toBe(false);
      expect(text.includes(SESSION_KEY), `session key in ${where}`).toBe(false);
    }
  });
});

describe('known defects (it.fails until fixed in src/)', () => {
  // DEFECT (minor): errors fastify raises before routing skip the central error handler (src/api/app.ts
  // setErrorHandler) and break the documented error shape {"error": {"code", "message"}} (design.md §7): a bad
  // percent-encoding answers 400 {"error":"Bad Request","code":"FST_ERR_BAD_URL","message":"'/v1/incidents/%E0%A4%A'
  // is not a valid url component","statusCode":400}, a path parameter over 200 characters answers 414 with
  // "error":"Bad Request" and FST_ERR_MAX_PARAM_LENGTH; both answer before authentication, without a token. Fix:
  // fastify's frameworkErrors option (or routerOptions.onBadUrl) rendering errorBody().
  it('errors raised before routing use the API error shape', async () => {
    for (const path of ['/v1/incidents/%E0%A4%A', `/v1/incidents/${'a'.repeat(300)}`]) {
      const r = await call('GET', path, { token: SECRETS.admin });
      const body = JSON.parse(r.text) as { error?: unknown };
      expect(typeof body.error, `${path}: ${r.text.slice(0, 120)}`).toBe('object');
    }
  });

  // DEFECT (low): a rejected access-log line comes back in the 202 answer with its first 80 characters quoted, Cookie
  // header included (src/events/adapters/accesslog.ts `unparseable_line`); see test/property/adapters.test.ts.
  it('a rejected access-log line does not echo its session cookie in the answer', async () => {
    const raw = 'RAW-echoed-cookie-0a1b2c3d4e5f';
    const r = await call('POST', '/v1/events?format=accesslog&session_cookie=SID', { token: SECRETS.ingest, headers: { 'content-type': 'text/plain' }, body: `81.2.69.142 "SID=${raw}"` });
    expect(r.status).toBe(202);
    expect(r.text).not.toContain(raw);
  });
});
