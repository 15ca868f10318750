import type { FastifyInstance } from 'fastify';
import { normalizeBatch, type Rejection } from '../../events/normalize.js';
import type { AppOptions } from '../app.js';
import { parseEventsBody } from '../body.js';
import { ApiError } from '../errors.js';

const RETRY_AFTER_SECONDS = '5';

export function registerEventRoutes(app: FastifyInstance, opts: AppOptions): void {
  const { metrics } = opts;

  app.post('/v1/events', async (req, reply) => {
    if (typeof req.body !== 'string') throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/x-ndjson');
    const { items, rejected: unreadable } = parseEventsBody(req.body, req.headers['content-type'] ?? '', opts.maxEventsPerRequest);
    metrics.eventsReceived.inc({ source: 'http' }, items.length);

    // Shed load before doing work: never accept what the queue cannot keep.
    let depth: number | undefined;
    try {
      depth = await opts.ingestor.depth();
    } catch {
      metrics.ingestShed.inc({ reason: 'store_unavailable' });
      throw new ApiError(503, 'STORE_UNAVAILABLE', 'the event store is unavailable; retry later', undefined, { 'retry-after': RETRY_AFTER_SECONDS });
    }
    if (depth !== undefined && depth >= opts.maxQueueDepth) {
      metrics.ingestShed.inc({ reason: 'queue_full' });
      throw new ApiError(429, 'QUEUE_FULL', 'the ingest queue is full; retry later', { depth }, { 'retry-after': RETRY_AFTER_SECONDS });
    }

    const unreadableIdx = new Set(unreadable.map((r) => r.index));
    const candidates: unknown[] = [];
    const indexOf: number[] = [];
    items.forEach((item, i) => {
      if (unreadableIdx.has(i)) return;
      candidates.push(item);
      indexOf.push(i);
    });
    const { events, rejected: invalid } = normalizeBatch(candidates, opts.hasher);
    const rejected: Rejection[] = [...unreadable, ...invalid.map((r) => ({ ...r, index: indexOf[r.index]! }))].sort((a, b) => a.index - b.index);
    for (const r of rejected) metrics.eventsRejected.inc({ reason: r.code });

    if (events.length > 0) {
      try {
        await opts.ingestor.submit(events);
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'could not enqueue events');
        metrics.ingestShed.inc({ reason: 'store_unavailable' });
        throw new ApiError(503, 'STORE_UNAVAILABLE', 'the event store is unavailable; nothing from this request was kept; retry later', undefined, { 'retry-after': RETRY_AFTER_SECONDS });
      }
    }
    return reply.status(202).send({ accepted: events.length, rejected });
  });
}
