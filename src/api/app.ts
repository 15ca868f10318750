// The fastify app factory (fastify's own pattern): plugins, then routes; tests drive it with inject().
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { SessionHasher } from '../events/normalize.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Ingestor } from '../queue/ingest.js';
import { TokenBuckets } from './rate-limit.js';
import { allows, TokenVerifier, type ApiToken, type Identity, type Role } from './auth.js';
import { ApiError, errorBody } from './errors.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerDeliveryRoutes } from './routes/deliveries.js';
import { registerIncidentRoutes } from './routes/incidents.js';
import { collectRoutes, openApiDocument } from './openapi.js';
import { registerResponseRoutes, type ResponseRouteOptions } from './routes/response.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who called: the token's name and role (null on public routes) */
    identity: Identity | null;
  }
  interface FastifyContextConfig {
    /** the role a route needs (see src/api/auth.ts) */
    role?: Role;
    /** served without a token (health, JWKS, the API description) */
    public?: boolean;
  }
}

export interface AppOptions extends ResponseRouteOptions {
  logger: Logger;
  metrics: Metrics;
  tokens: readonly (ApiToken | string)[];
  hasher: SessionHasher;
  ingestor: Ingestor;
  incidents: IncidentStore;
  readiness: ReadinessCheck;
  maxBodyBytes: number;
  maxEventsPerRequest: number;
  maxQueueDepth: number;
  /** requests per second per token (0 or absent: no limit) */
  rateLimitPerSecond?: number;
  rateLimitBurst?: number;
}

const PUBLIC_ROUTES = new Set(['/healthz', '/readyz']);
const API_VERSION = '1.0.0';

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.maxBodyBytes,
    // On shutdown, close every connection, busy keep-alive ones included: a client streaming requests over
    // one connection must not hold the process open. A request cut off got no 202, so its sender retries.
    forceCloseConnections: true,
    // Errors the router raises before any route runs (a bad percent-encoding, an over-long parameter) get the
    // same error shape as everything else.
    frameworkErrors: (error, _req, reply) => {
      const e = error as { code?: string; statusCode?: number; message: string };
      const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 400;
      void (reply as unknown as { status(n: number): { send(b: unknown): unknown } }).status(status).send(errorBody(e.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'PARAMETER_TOO_LONG' : 'BAD_URL', e.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'the URL is not valid'));
    },
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
  const limiter = opts.rateLimitPerSecond ? new TokenBuckets(opts.rateLimitPerSecond, opts.rateLimitBurst ?? opts.rateLimitPerSecond * 2) : undefined;
  app.decorateRequest('identity', null);
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC_ROUTES.has(req.routeOptions.url ?? '') || (req.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const identity = verifier.identify(req.headers.authorization);
    if (!identity) {
      reply.header('www-authenticate', 'Bearer realm="replayguard"');
      throw new ApiError(401, 'UNAUTHORIZED', 'a valid bearer token is required');
    }
    // Routes say which role they need; without a word, reads need `read` and anything else `admin`.
    const needed: Role = (req.routeOptions.config as { role?: Role } | undefined)?.role ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'admin');
    if (!allows(identity.role, needed)) throw new ApiError(403, 'FORBIDDEN', `this token's role (${identity.role}) cannot do this; it needs ${needed}`);
    const taken = limiter?.take(identity.name);
    if (taken && !taken.ok) {
      opts.metrics.ingestShed.inc({ reason: 'token_rate_limit' });
      throw new ApiError(429, 'RATE_LIMITED', `too many requests for token "${identity.name}"`, undefined, { 'retry-after': String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))) });
    }
    req.identity = identity;
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    const e = err as { statusCode?: number; code?: string; message: string; validation?: unknown };
    if (e.validation) return reply.status(400).send(errorBody('INVALID_REQUEST', e.message));
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('BODY_TOO_LARGE', `body is larger than ${opts.maxBodyBytes} bytes`));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'send application/json, application/x-ndjson or (for access logs) text/plain'));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return reply.status(e.statusCode).send(errorBody(e.code ?? 'BAD_REQUEST', e.message));
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send(errorBody('NOT_FOUND', 'no such route')));

  const routes = collectRoutes(app);
  app.get('/docs', { config: { public: true } }, async () => openApiDocument(routes, API_VERSION));
  registerHealthRoutes(app, opts);
  registerEventRoutes(app, opts);
  registerIncidentRoutes(app, opts);
  registerDeliveryRoutes(app, opts);
  registerResponseRoutes(app, opts);
  return app;
}
