// Dead letters over the API: list them, re-drive one or all of a sink's. Works in both modes (the embedded
// mode's dead letters live in its process, so this is the only way to reach them there).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeliveryAdmin } from '../../queue/delivery.js';
import type { AppOptions } from '../app.js';
import { ApiError } from '../errors.js';

declare module '../app.js' {
  interface AppOptions {
    /** delivery dead letters; without it the routes answer 503 */
    deliveries?: DeliveryAdmin;
  }
}

const sinkName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'a sink name');
export const deadListQuery = z.strictObject({ sink: sinkName.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
export const deadRetryQuery = z.strictObject({ sink: sinkName.optional() });
const jobId = z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, 'a delivery id as listed by GET /v1/deliveries/dead');

function admin(opts: AppOptions): DeliveryAdmin {
  if (!opts.deliveries) throw new ApiError(503, 'DELIVERIES_UNAVAILABLE', 'deliveries are not wired into this process');
  return opts.deliveries;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, code: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError(400, code, `${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  return parsed.data;
}

export function registerDeliveryRoutes(app: FastifyInstance, opts: AppOptions): void {
  app.get('/v1/deliveries/dead', async (req) => {
    const q = parse(deadListQuery, req.query, 'INVALID_QUERY');
    const a = admin(opts);
    const items = await a.listDead({ ...(q.sink !== undefined ? { sink: q.sink } : {}), limit: q.limit ?? 100 });
    const { dead } = await a.counts();
    return { items, total: dead };
  });

  app.post<{ Params: { id: string } }>('/v1/deliveries/:id/retry', { config: { role: 'admin' } }, async (req, reply) => {
    const id = parse(jobId, req.params.id, 'INVALID_ID');
    const n = await admin(opts).retryDead({ id });
    if (n === 0) throw new ApiError(404, 'DELIVERY_NOT_FOUND', 'no dead letter with that id');
    return reply.status(202).send({ retried: n });
  });

  app.post('/v1/deliveries/dead/retry', { config: { role: 'admin' } }, async (req, reply) => {
    const q = parse(deadRetryQuery, req.query, 'INVALID_QUERY');
    const n = await admin(opts).retryDead(q.sink !== undefined ? { sink: q.sink } : {});
    return reply.status(202).send({ retried: n });
  });
}
