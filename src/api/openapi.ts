// The OpenAPI 3.1 document served at /docs. The routes themselves are collected from fastify as they are
// registered (so a route cannot exist undocumented: test/integration/openapi.test.ts fails if one lacks an
// entry here), their request schemas are the same zod schemas the handlers validate with, and each entry
// adds a summary, the role it needs and an example.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { deadListQuery, deadRetryQuery } from './routes/deliveries.js';
import { eventsQuerystring } from './routes/events.js';
import { incidentQuerySchema } from './routes/incidents.js';
import { reasonBody, statusBody } from './routes/response.js';

interface Entry {
  summary: string;
  description?: string;
  query?: z.ZodType | Record<string, unknown>;
  body?: z.ZodType | Record<string, unknown>;
  example?: unknown;
  responses: Record<string, string>;
}

const canonicalEvent = {
  type: 'object',
  required: ['time', 'type', 'session_id', 'ip'],
  properties: {
    id: { type: 'string' }, time: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }] },
    type: { enum: ['login', 'request', 'refresh', 'rotate', 'logout', 'revoke', 'login_failed'] },
    session_id: { type: 'string', description: 'raw; replaced by a keyed HMAC on arrival and never stored' },
    new_session_id: { type: 'string' }, user_id: { type: 'string' }, ip: { type: 'string' }, user_agent: { type: 'string' },
    tenant: { type: 'string' }, device_id: { type: 'string' }, app: { type: 'string' }, asn: { type: 'integer' }, country: { type: 'string' },
    is_proxy: { type: 'boolean' }, signals: { type: 'array', items: { type: 'string' } },
  },
};

export const CATALOGUE: Record<string, Entry> = {
  'GET /healthz': { summary: 'Liveness (no token)', responses: { 200: 'alive' } },
  'GET /readyz': { summary: 'Readiness: Redis reachable and rules loaded (no token)', responses: { 200: 'ready', 503: 'not ready, with the failing checks' } },
  'GET /metrics': { summary: 'Prometheus metrics', responses: { 200: 'text exposition format' } },
  'GET /docs': { summary: 'This OpenAPI document (no token)', responses: { 200: 'OpenAPI 3.1 JSON' } },
  'GET /.well-known/jwks.json': { summary: 'Public keys that sign CAEP session-revoked SETs (no token)', responses: { 200: 'JWK set' } },
  'POST /v1/events': {
    summary: 'Ingest events: a JSON array, one object, NDJSON, or a vendor format with ?format= (gzip bodies accepted)',
    query: eventsQuerystring,
    body: { oneOf: [{ type: 'array', items: canonicalEvent }, canonicalEvent] },
    example: [{ id: 'e-1', time: '2026-11-23T12:00:00Z', type: 'request', session_id: 'raw-cookie', user_id: 'alice@example.com', ip: '203.0.113.7', user_agent: 'Mozilla/5.0', tenant: 'acme' }],
    responses: { 202: '{accepted, rejected: [{index, code, message}]}', 400: 'unreadable body', 413: 'too large or too many events', 429: 'queue full (Retry-After)', 503: 'Redis unavailable; nothing kept (Retry-After)' },
  },
  'GET /v1/incidents': { summary: 'List incidents, newest first, with filters and cursor pagination', query: incidentQuerySchema, responses: { 200: '{items, next_cursor?}', 400: 'bad filter' } },
  'GET /v1/incidents/:id': { summary: 'One incident with its evidence, status history and response decision', responses: { 200: 'incident', 404: 'unknown id' } },
  'POST /v1/incidents/:id/status': {
    summary: 'Acknowledge, resolve or mark a false positive (optionally adding an expiring exception for the rule)',
    body: statusBody, example: { status: 'false_positive', note: 'pentest', exception: { cidr: '198.51.100.0/24', expires: '2027-01-01' } },
    responses: { 200: 'the updated incident', 404: 'unknown id' },
  },
  'POST /v1/incidents/:id/revoke': { summary: "Revoke the incident's session now (respond role)", body: reasonBody, example: { reason: 'confirmed with the user' }, responses: { 202: 'the revocation', 409: 'already revoked' } },
  'GET /v1/sessions/:hash': { summary: "A session's timeline: networks, places, clients, moves, ending, incidents", responses: { 200: 'timeline', 404: 'not in the window store' } },
  'POST /v1/sessions/:hash/revoke': { summary: 'Revoke a session by its hash (respond role)', body: reasonBody, example: { reason: 'user reported phishing', tenant: 'acme' }, responses: { 202: 'the revocation', 409: 'already revoked' } },
  'GET /v1/revocations': { summary: 'Revocations, newest first, with the delivery status of each target', responses: { 200: '{items, next_before?}' } },
  'GET /v1/revocations/:id': { summary: 'One revocation', responses: { 200: 'revocation', 404: 'unknown id' } },
  'POST /v1/revocations/:id/approve': { summary: 'Release a revocation the rate limit held (respond role)', responses: { 200: 'the revocation', 409: 'not held' } },
  'GET /v1/deliveries/dead': { summary: 'Dead-lettered SIEM deliveries', query: deadListQuery, responses: { 200: 'list' } },
  'POST /v1/deliveries/:id/retry': { summary: 'Re-drive one dead-lettered delivery (admin role)', responses: { 202: 're-driven', 404: 'unknown' } },
  'POST /v1/deliveries/dead/retry': { summary: "Re-drive a sink's dead letters (admin role)", query: deadRetryQuery, responses: { 202: 'how many' } },
};

export interface CollectedRoute {
  method: string;
  url: string;
  role?: string;
  public?: boolean;
}

/** Registers the collector; call before any route is added. */
export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
    const cfg = (r.config ?? {}) as { role?: string; public?: boolean };
    for (const method of methods) {
      const c: CollectedRoute = { method, url: r.url };
      if (cfg.role) c.role = cfg.role;
      if (cfg.public) c.public = cfg.public;
      routes.push(c);
    }
  });
  return routes;
}

function jsonSchema(s: z.ZodType | Record<string, unknown>): Record<string, unknown> {
  return s instanceof z.ZodType ? (z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>) : s;
}

export function openApiDocument(routes: readonly CollectedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const e = CATALOGUE[`${r.method} ${r.url}`];
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const params = [...r.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const op: Record<string, unknown> = { summary: e?.summary ?? '(undocumented)', responses: {} };
    const isPublic = r.public || r.url === '/healthz' || r.url === '/readyz';
    op['x-role'] = isPublic ? 'public' : r.role ?? (r.method === 'GET' ? 'read' : 'admin');
    if (!isPublic) op.security = [{ bearer: [] }];
    if (e?.query) {
      const q = jsonSchema(e.query) as { properties?: Record<string, unknown>; required?: string[] };
      params.push(...Object.entries(q.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: (q.required ?? []).includes(name), schema: schema as { type: string } })));
    }
    if (params.length > 0) op.parameters = params;
    if (e?.body) {
      const media: Record<string, unknown> = { schema: jsonSchema(e.body) };
      if (e.example !== undefined) media.example = e.example;
      op.requestBody = { required: true, content: { 'application/json': media } };
    }
    for (const [code, description] of Object.entries(e?.responses ?? { 200: 'ok' })) (op.responses as Record<string, unknown>)[code] = { description };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'replayguard API', version, description: 'Stolen-session replay detection. Bearer tokens carry a role: read, ingest, respond or admin.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
