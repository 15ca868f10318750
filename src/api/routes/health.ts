import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import type { Ingestor } from '../../queue/ingest.js';

export type ReadinessCheck = () => Promise<{ ready: boolean; checks: Record<string, string> }>;

export function registerHealthRoutes(app: FastifyInstance, opts: { readiness: ReadinessCheck; metrics: Metrics; ingestor: Ingestor }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const { ready, checks } = await opts.readiness();
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    try {
      const depth = await opts.ingestor.depth();
      if (depth !== undefined) opts.metrics.queueDepth.set({ queue: 'ingest' }, depth);
    } catch {
      // Redis away: the gauge keeps its last value; the rest of the metrics still answer.
    }
    return reply.header('content-type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
}
