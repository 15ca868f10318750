// The fastify app factory (fastify's own pattern): plugins, then routes; tests drive it with inject().
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { SessionHasher } from '../events/normalize.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Ingestor } from '../queue/ingest.js';
import { TokenVerifier } from './auth.js';
import { ApiError, errorBody } from './errors.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerDeliveryRoutes } from './routes/deliveries.js';
import { registerIncidentRoutes } from './routes/incidents.js';

export interface AppOptions {
  logger: Logger;
  metrics: Metrics;
  tokens: readonly string[];
  hasher: SessionHasher;
  ingestor: Ingestor;
  incidents: IncidentStore;
  readiness: ReadinessCheck;
  maxBodyBytes: number;
  maxEventsPerRequest: number;
  maxQueueDepth: number;
}

const PUBLIC_ROUTES = new Set(['/healthz', '/readyz']);

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.maxBodyBytes,
    // Event ids and filter values are user data; keep the router strict about what a path is.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });

  // Bodies arrive as text: events are parsed one by one so one bad event cannot sink its batch.
  app.addContentTypeParser(
    ['application/json', 'application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'],
    { parseAs: 'string', bodyLimit: opts.maxBodyBytes },
    (_req, body, done) => done(null, body),
  );

  const verifier = new TokenVerifier(opts.tokens);
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC_ROUTES.has(req.routeOptions.url ?? '')) return;
    if (!verifier.verify(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="replayguard"');
      throw new ApiError(401, 'UNAUTHORIZED', 'a valid bearer token is required');
    }
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    const e = err as { statusCode?: number; code?: string; message: string; validation?: unknown };
    if (e.validation) return reply.status(400).send(errorBody('INVALID_REQUEST', e.message));
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('BODY_TOO_LARGE', `body is larger than ${opts.maxBodyBytes} bytes`));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/x-ndjson'));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return reply.status(e.statusCode).send(errorBody(e.code ?? 'BAD_REQUEST', e.message));
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send(errorBody('NOT_FOUND', 'no such route')));

  registerHealthRoutes(app, opts);
  registerEventRoutes(app, opts);
  registerIncidentRoutes(app, opts);
  registerDeliveryRoutes(app, opts);
  return app;
}
