// Splunk HEC sink against an HTTP server acting as HEC on loopback: token and channel headers, batch framing,
// HEC's error codes (retry vs dead letter), indexer acknowledgement. Deliveries run through the embedded
// (in-memory) delivery loop; the BullMQ path is covered in sinks-delivery.test.ts.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { Metrics } from '../../src/observability/metrics.js';
import { parseSinksText } from '../../src/outputs/config.js';
import { createEmitter, type Emitter } from '../../src/outputs/emitter.js';
import { json, makeIncident, parseHecBatch, startHttpReceiver, waitFor, type HttpReceiver, type ReceivedRequest } from './sinks-receivers.js';

const TOKEN = 'CF179AE4-3C99-45F5-A7CC-3284AA91CF67';
const CHANNEL = '00872DC6-AC83-4EDE-8AFE-8413C3825C4C';

let receiver: HttpReceiver | undefined;
let emitter: Emitter | undefined;

afterEach(async () => {
  await emitter?.close();
  await receiver?.close();
  emitter = undefined;
  receiver = undefined;
});

async function start(extra = '', format = 'hec'): Promise<{ emitter: Emitter; metrics: Metrics }> {
  const yaml = `sinks:
  - name: splunk
    type: http_hec
    url: ${receiver!.url}
    token_env: SPLUNK_HEC_TOKEN
    channel: ${CHANNEL}
    format: ${format}
    format_options: { hec: { index: security } }
    retry: { attempts: 4, base_delay_ms: 10, max_delay_ms: 40 }
    batch: { max_events: 50, linger_ms: 30 }
${extra}`;
  const config = parseSinksText(yaml, 'sinks.yaml', { env: { SPLUNK_HEC_TOKEN: TOKEN }, baseDir: '/', hostname: 'detector01' });
  const metrics = new Metrics();
  emitter = await createEmitter({ env: loadEnv({}), logger: pino({ level: 'silent' }), metrics, worker: true, config });
  return { emitter, metrics };
}

async function count(metrics: Metrics, outcome: string): Promise<number> {
  return (await metrics.deliveries.get()).values.find((v) => v.labels.sink === 'splunk' && v.labels.outcome === outcome)?.value ?? 0;
}

/** What a HEC endpoint checks before it looks at the body (reference §5.1, §5.3). */
function hecAuth(req: ReceivedRequest): { status: number; body: unknown } | undefined {
  const auth = req.headers.authorization;
  if (auth === undefined) return { status: 401, body: { text: 'Token is required', code: 2 } };
  if (!auth.startsWith('Splunk ')) return { status: 401, body: { text: 'Invalid authorization', code: 3 } };
  if (auth !== `Splunk ${TOKEN}`) return { status: 403, body: { text: 'Invalid token', code: 4 } };
  if (req.headers['x-splunk-request-channel'] !== CHANNEL) return { status: 400, body: { text: 'Data channel is missing', code: 10 } };
  return undefined;
}

const events = (reqs: ReceivedRequest[]) => reqs.filter((r) => r.url.startsWith('/services/collector/event')).flatMap((r) => parseHecBatch(r.body));

describe('Splunk HEC sink', () => {
  it('posts a concatenated batch with the Splunk token and channel headers; every incident delivered once', async () => {
    receiver = await startHttpReceiver((req, res) => {
      const denied = hecAuth(req);
      if (denied) return json(res, denied.status, denied.body);
      parseHecBatch(req.body); // a malformed batch would throw here and fail the test below
      json(res, 200, { text: 'Success', code: 0 });
    });
    const { emitter, metrics } = await start();
    for (let i = 1; i <= 5; i++) emitter.onIncident({ incident: makeIncident(i), outcome: 'created' });
    await emitter.idle();

    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.url).toBe('/services/collector/event');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body.startsWith('{"time":')).toBe(true);
    expect(req.body).not.toMatch(/^\[/); // not a JSON array
    const batch = parseHecBatch(req.body);
    expect(batch.map((e) => (e.event as { incident_id: string }).incident_id)).toEqual([1, 2, 3, 4, 5].map((i) => makeIncident(i).id));
    expect(batch[0]).toMatchObject({ host: 'detector01', sourcetype: 'replayguard:incident', index: 'security', time: Date.UTC(2026, 10, 23, 12, 0, 1) / 1000 });
    // Indexed fields must be strings or arrays of strings (HEC code 15 otherwise).
    for (const v of Object.values(batch[0]!.fields as Record<string, unknown>)) {
      expect(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))).toBe(true);
    }
    expect(await count(metrics, 'delivered')).toBe(5);
    expect(await emitter.admin.counts()).toEqual({ waiting: 0, dead: 0 });
  });

  it('dead-letters on a token error (permanent), never counting it delivered', async () => {
    receiver = await startHttpReceiver((_req, res) => json(res, 403, { text: 'Invalid token', code: 4 }));
    const { emitter, metrics } = await start();
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await emitter.idle();
    expect(receiver.requests).toHaveLength(1); // no retries on a permanent error
    const dead = await emitter.admin.listDead();
    expect(dead).toEqual([expect.objectContaining({ sink: 'splunk', incident_id: makeIncident(1).id, attempts: 1, error: expect.stringContaining('code 4 Invalid token') })]);
    expect(await count(metrics, 'delivered')).toBe(0);
    expect(await count(metrics, 'dead')).toBe(1);
  });

  it('retries server busy (503, code 9) with backoff until it is accepted', async () => {
    let calls = 0;
    receiver = await startHttpReceiver((_req, res) => {
      calls++;
      if (calls <= 2) return json(res, 503, { text: 'Server is busy', code: 9 });
      json(res, 200, { text: 'Success', code: 0 });
    });
    const { emitter, metrics } = await start();
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 1, 'delivery after retries');
    expect(calls).toBe(3);
    expect(await count(metrics, 'retried')).toBe(2);
    expect(await emitter.admin.listDead()).toEqual([]);
  });

  it('dead-letters only the event HEC names (invalid-event-number) and sends the others again', async () => {
    const bad = makeIncident(2).id;
    receiver = await startHttpReceiver((req, res) => {
      const batch = parseHecBatch(req.body);
      const at = batch.findIndex((e) => (e.event as { incident_id: string }).incident_id === bad);
      if (at >= 0) return json(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': at });
      json(res, 200, { text: 'Success', code: 0 });
    });
    const { emitter, metrics } = await start();
    for (let i = 1; i <= 3; i++) emitter.onIncident({ incident: makeIncident(i), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 2, 'the two good events');
    const dead = await emitter.admin.listDead();
    expect(dead.map((d) => d.incident_id)).toEqual([bad]);
    const delivered = events(receiver.requests.slice(1)).map((e) => (e.event as { incident_id: string }).incident_id);
    expect(delivered.sort()).toEqual([makeIncident(1).id, makeIncident(3).id]);
  });

  it('with indexer acknowledgement, counts a batch delivered only once its ack id polls true', async () => {
    let polls = 0;
    receiver = await startHttpReceiver((req, res) => {
      const denied = hecAuth(req);
      if (denied) return json(res, denied.status, denied.body);
      if (req.url.startsWith('/services/collector/ack')) {
        expect(new URL(req.url, 'http://x').searchParams.get('channel')).toBe(CHANNEL);
        expect(JSON.parse(req.body)).toEqual({ acks: [7] });
        polls++;
        return json(res, 200, { acks: { 7: polls >= 3 } });
      }
      json(res, 200, { text: 'Success', code: 0, ackId: 7 });
    });
    const { emitter, metrics } = await start('    ack: { poll_interval_ms: 10, timeout_ms: 5000 }\n');
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 1, 'acknowledged delivery');
    expect(polls).toBe(3);
    expect(receiver.requests.filter((r) => r.url.startsWith('/services/collector/event'))).toHaveLength(1);
  });

  it('sends the batch again when the ack never comes (at-least-once)', async () => {
    let sent = 0;
    receiver = await startHttpReceiver((req, res) => {
      if (req.url.startsWith('/services/collector/ack')) return json(res, 200, { acks: { [String(sent - 1)]: sent >= 2 } });
      json(res, 200, { text: 'Success', code: 0, ackId: sent++ });
    });
    const { emitter, metrics } = await start('    ack: { poll_interval_ms: 10, timeout_ms: 150 }\n');
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await waitFor(async () => (await count(metrics, 'delivered')) === 1, 'delivery on the second send');
    expect(sent).toBe(2);
    expect(await count(metrics, 'retried')).toBe(1);
  });

  it('carries another format as the event: ECS documents under their own sourcetype', async () => {
    receiver = await startHttpReceiver((_req, res) => json(res, 200, { text: 'Success', code: 0 }));
    const { emitter } = await start('', 'ecs');
    emitter.onIncident({ incident: makeIncident(1), outcome: 'created' });
    await emitter.idle();
    const [ev] = events(receiver.requests);
    expect(ev).toMatchObject({ sourcetype: 'replayguard:ecs', index: 'security', event: { event: { kind: 'alert' }, ecs: { version: '9.5.0' } } });
  });
});
