// /docs: the OpenAPI document is built from the routes the app actually registered, so every route must
// have a catalogue entry (summary, role) or this test fails.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../src/cli/serve.js';

let service: RunningService;
beforeAll(async () => {
  service = await startService({ api: true, worker: true, env: { PORT: '0', RG_API_TOKENS: 'admin:admin:openapi-admin-token-0123', RG_RULES_DIR: 'test/fixtures/e2e-rules' } }, pino({ level: 'silent' }));
});
afterAll(async () => service?.close());

describe('OpenAPI document', () => {
  it('is served without a token and documents every registered route', async () => {
    const res = await fetch(`${service.url}/docs`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { summary: string; security?: unknown; requestBody?: { content: Record<string, { example?: unknown; schema: unknown }> }; parameters?: { name: string; in: string }[]; 'x-role': string }>> };
    expect(doc.openapi).toBe('3.1.0');
    const undocumented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => op.summary === '(undocumented)').map(([m]) => `${m.toUpperCase()} ${p}`));
    expect(undocumented).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/incidents', '/v1/incidents/{id}', '/v1/sessions/{hash}/revoke', '/v1/revocations', '/.well-known/jwks.json']));
    const ingest = doc.paths['/v1/events']!.post!;
    expect(ingest['x-role']).toBe('ingest');
    expect(ingest.security).toEqual([{ bearer: [] }]);
    expect(ingest.requestBody!.content['application/json']!.example).toBeTruthy();
    expect(doc.paths['/v1/sessions/{hash}/revoke']!.post!['x-role']).toBe('respond');
    expect(doc.paths['/v1/incidents']!.get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['rule', 'severity', 'user', 'session', 'cursor']));
    expect(doc.paths['/healthz']!.get!.security).toBeUndefined();
  });
});
