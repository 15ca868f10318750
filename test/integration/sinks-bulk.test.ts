// Elasticsearch _bulk sink against an HTTP server acting as _bulk: HTTP 200 with `errors: true` is a partial
// failure. 429/5xx items are sent again, 4xx items (mapping errors) dead-lettered, a 409 on create is the
// document already being there, and nothing that failed is counted delivered.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { Metrics } from '../../src/observability/metrics.js';
import { parseSinksText } from '../../src/outputs/config.js';
import { createEmitter, type Emitter } from '../../src/outputs/emitter.js';
import { json, makeIncident, parseBulkBody, startHttpReceiver, waitFor, type HttpReceiver } from './sinks-receivers.js';

let receiver: HttpReceiver | undefined;
let emitter: Emitter | undefined;

afterEach(async () => {
  await emitter?.close();
  await receiver?.close();
  emitter = undefined;
  receiver = undefined;
});

async function start(): Promise<{ emitter: Emitter; metrics: Metrics }> {
  const yaml = `sinks:
  - name: elastic
    type: http_bulk
    url: ${receiver!.url}
    auth: { type: api_key, api_key_env: ES_API_KEY }
    retry: { attempts: 5, base_delay_ms: 10, max_delay_ms: 40 }
    batch: { max_events: 100, linger_ms: 30 }
`;
  const config = parseSinksText(yaml, 'sinks.yaml', { env: { ES_API_KEY: 'aWQ6a2V5' }, baseDir: '/', hostname: 'detector01' });
  const metrics = new Metrics();
  emitter = await createEmitter({ env: loadEnv({}), logger: pino({ level: 'silent' }), metrics, worker: true, config });
  return { emitter, metrics };
}

async function count(metrics: Metrics, outcome: string): Promise<number> {
  return (await metrics.deliveries.get()).values.find((v) => v.labels.sink === 'elastic' && v.labels.outcome === outcome)?.value ?? 0;
}

const incidentIdOf = (docId: unknown) => String(docId).split(':')[0]!;

describe('Elasticsearch _bulk sink', () => {
  it('handles per-item errors in a 200 answer: retries 429/5xx items, dead-letters mapping errors, accepts 409 on create', async () => {
    const ids = [1, 2, 3, 4, 5].map((i) => makeIncident(i).id);
    const [ok, mapping, throttled, flaky, conflict] = ids as [string, string, string, string, string];
    const indexed = new Map<string, number>();
    const seen = new Map<string, number>();
    receiver = await startHttpReceiver((req, res) => {
      expect(req.url).toBe('/_bulk');
      expect(req.headers['content-type']).toBe('application/x-ndjson');
      expect(req.headers.authorization).toBe('ApiKey aWQ6a2V5');
      const items = parseBulkBody(req.body);
      const answers = items.map(({ action, meta, doc }) => {
        expect(action).toBe('create');
        expect(meta._index).toBe('logs-replayguard.alerts-default');
        expect(doc['@timestamp']).toBeTypeOf('string');
        const id = incidentIdOf(meta._id);
        const n = (seen.get(id) ?? 0) + 1;
        seen.set(id, n);
        let status = 201;
        let error: unknown;
        if (id === mapping) [status, error] = [400, { type: 'mapper_parsing_exception', reason: 'failed to parse field [source.ip] of type [ip]' }];
        else if (id === throttled && n <= 2) [status, error] = [429, { type: 'es_rejected_execution_exception', reason: 'rejected execution' }];
        else if (id === flaky && n === 1) [status, error] = [503, { type: 'unavailable_shards_exception', reason: 'primary shard is not active' }];
        else if (id === conflict) [status, error] = [409, { type: 'version_conflict_engine_exception', reason: 'document already exists' }];
        if (status === 201) indexed.set(id, (indexed.get(id) ?? 0) + 1);
        return { create: { _index: meta._index, _id: meta._id, status, ...(error ? { error } : {}) } };
      });
      json(res, 200, { took: 3, errors: answers.some((a) => a.create.status >= 300), items: answers });
    });
    const { emitter, metrics } = await start();
    for (let i = 1; i <= 5; i++) emitter.onIncident({ incident: makeIncident(i), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 4, 'four delivered');

    // The first request carried all five items in one body, and got a 200 with errors: true.
    expect(parseBulkBody(receiver.requests[0]!.body)).toHaveLength(5);
    expect([...indexed.keys()].sort()).toEqual([ok, throttled, flaky].sort());
    expect(seen.get(ok)).toBe(1); // a delivered item is not sent again
    expect(seen.get(throttled)).toBe(3);
    expect(seen.get(flaky)).toBe(2);
    expect(seen.get(mapping)).toBe(1); // a mapping error is not retried
    const dead = await emitter.admin.listDead();
    expect(dead).toEqual([expect.objectContaining({ incident_id: mapping, error: expect.stringContaining('400 mapper_parsing_exception') })]);
    expect(await count(metrics, 'dead')).toBe(1);
    expect(await count(metrics, 'delivered')).toBe(4); // ok, throttled, flaky, conflict (already there) — never the mapping error
    expect(await count(metrics, 'retried')).toBe(3);
  });

  it('retries the whole request on 429 and on a connection error, dead-letters on 401', async () => {
    let calls = 0;
    receiver = await startHttpReceiver((req, res) => {
      calls++;
      if (calls === 1) return json(res, 429, { error: { type: 'es_rejected_execution_exception' }, status: 429 });
      if (calls === 2) return void res.destroy(); // connection reset mid-request
      const items = parseBulkBody(req.body).map(({ meta }) => ({ create: { _index: meta._index, _id: meta._id, status: 201 } }));
      json(res, 200, { errors: false, items });
    });
    const { emitter, metrics } = await start();
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 1, 'delivery after two failures');
    expect(calls).toBe(3);

    receiver.handler = (_req, res) => json(res, 401, { error: { type: 'security_exception', reason: 'missing authentication credentials' }, status: 401 });
    emitter.onIncident({ incident: makeIncident(2), outcome: 'created' });
    await emitter.idle();
    expect((await emitter.admin.listDead()).map((d) => d.incident_id)).toEqual([makeIncident(2).id]);
  });

  it('never counts a delivery when the answer does not account for every item', async () => {
    let calls = 0;
    receiver = await startHttpReceiver((req, res) => {
      calls++;
      const items = parseBulkBody(req.body).map(({ meta }) => ({ create: { _index: meta._index, _id: meta._id, status: 201 } }));
      json(res, 200, { errors: false, items: calls === 1 ? items.slice(1) : items });
    });
    const { emitter, metrics } = await start();
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    emitter.onIncident({ incident: makeIncident(2), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 2, 'both delivered on the second answer');
    expect(await count(metrics, 'retried')).toBe(2);
  });
});
