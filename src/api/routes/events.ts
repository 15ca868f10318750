import type { FastifyInstance } from 'fastify';
import type { AnyAdapterOptions } from '../../events/adapters/index.js';
import type { Rejection } from '../../events/normalize.js';
import type { AuthEvent } from '../../events/schema.js';
import { RecordConverter } from '../../ingest/convert.js';
import { INPUT_FORMATS, isInputFormat } from '../../ingest/decode.js';
import type { AppOptions } from '../app.js';
import { EVENT_CONTENT_TYPES, readEventsBody } from '../body.js';
import { ApiError } from '../errors.js';

const RETRY_AFTER_SECONDS = '5';

/** A gzip body may inflate to this many times RG_MAX_BODY_BYTES (log text compresses 10-20x; bombs far more). */
export const INFLATE_RATIO = 10;

interface EventsQuery {
  format?: string;
  tenant?: string;
  session_cookie?: string;
  session_header?: string;
  session_field?: string;
  extra_fields?: string;
  logout_paths?: string;
  okta_session?: string;
}

const name = { type: 'string', minLength: 1, maxLength: 256 } as const;
export const eventsQuerystring = {
  type: 'object',
  properties: {
    format: { type: 'string', maxLength: 32 },
    tenant: { type: 'string', minLength: 1, maxLength: 128 },
    session_cookie: name,
    session_header: name,
    session_field: name,
    extra_fields: { type: 'string', maxLength: 2048 },
    logout_paths: { type: 'string', maxLength: 2048 },
    okta_session: { type: 'string', enum: ['auto', 'externalSessionId', 'dtHash'] },
  },
} as const;

const list = (s: string | undefined): string[] | undefined => {
  const items = s?.split(',').map((x) => x.trim()).filter((x) => x !== '');
  return items && items.length > 0 ? items : undefined;
};

function adapterOptions(q: EventsQuery): AnyAdapterOptions {
  const opts: AnyAdapterOptions = {};
  if (q.tenant !== undefined) opts.defaultTenant = q.tenant;
  if (q.session_cookie !== undefined) opts.sessionCookie = q.session_cookie;
  if (q.session_header !== undefined) opts.sessionHeader = q.session_header;
  if (q.session_field !== undefined) opts.sessionField = q.session_field;
  const extra = list(q.extra_fields);
  if (extra) opts.extraFields = extra;
  const logout = list(q.logout_paths);
  if (logout) opts.logoutPaths = logout;
  if (q.okta_session === 'auto' || q.okta_session === 'externalSessionId' || q.okta_session === 'dtHash') opts.session = q.okta_session;
  return opts;
}

export function registerEventRoutes(app: FastifyInstance, opts: AppOptions): void {
  const { metrics } = opts;

  // An encapsulated scope with its own body parsers: this route needs the raw bytes (gzip bodies) and text/plain,
  // while the rest of the app keeps the parsers app.ts gives it.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(EVENT_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body));

    scope.post('/v1/events', { schema: { querystring: eventsQuerystring }, config: { role: 'ingest' } }, async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send one of ${EVENT_CONTENT_TYPES.join(', ')}`);
      const query = req.query as EventsQuery;
      const format = query.format ?? 'canonical';
      if (!isInputFormat(format)) throw new ApiError(400, 'UNKNOWN_FORMAT', `format must be one of ${INPUT_FORMATS.join(', ')}`, { format });
      const records = await readEventsBody(
        req.body,
        { contentType: req.headers['content-type'] ?? '', contentEncoding: req.headers['content-encoding'], format },
        { maxEvents: opts.maxEventsPerRequest, maxInflatedBytes: opts.maxBodyBytes * INFLATE_RATIO },
      );
      metrics.eventsReceived.inc({ source: 'http' }, records.length);

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

      // Each record by its index in the body: unreadable, skipped by its adapter, or invalid, the rest proceed.
      const converter = new RecordConverter({ format, hasher: opts.hasher, adapterOptions: adapterOptions(query), metrics });
      const events: AuthEvent[] = [];
      const rejected: Rejection[] = [];
      for (const record of records) {
        const outcome = converter.convert(record);
        if (outcome.ok) events.push(outcome.event);
        else rejected.push({ index: outcome.index, code: outcome.code, message: outcome.message });
      }

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
  });
}
