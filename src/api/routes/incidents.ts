import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { INCIDENT_STATUSES, SEVERITIES } from '../../incidents/model.js';
import { InvalidCursorError, type IncidentQuery } from '../../incidents/store.js';
import type { AppOptions } from '../app.js';
import { ApiError } from '../errors.js';

const time = z.union([z.string().regex(/^\d+$/).transform(Number), z.string().datetime({ offset: true }).transform((s) => Date.parse(s))]);

export const incidentQuerySchema = z.strictObject({
  rule: z.string().max(64).optional(),
  severity: z.enum(SEVERITIES).optional(),
  min_severity: z.enum(SEVERITIES).optional(),
  status: z.enum(INCIDENT_STATUSES).optional(),
  user: z.string().max(512).optional(),
  session: z.string().regex(/^[a-f0-9]{32}$/, 'session is the 32-hex-digit session hash').optional(),
  tenant: z.string().max(128).optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(200).optional(),
});

export function registerIncidentRoutes(app: FastifyInstance, opts: AppOptions): void {
  app.get('/v1/incidents', async (req) => {
    const parsed = incidentQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ApiError(400, 'INVALID_QUERY', `${issue.path.join('.') || 'query'}: ${issue.message}`);
    }
    const q: IncidentQuery = {};
    for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) (q as Record<string, unknown>)[k] = v;
    try {
      return await opts.incidents.list(q);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new ApiError(400, err.code, err.message);
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/v1/incidents/:id', async (req) => {
    const incident = await opts.incidents.get(req.params.id);
    if (!incident) throw new ApiError(404, 'INCIDENT_NOT_FOUND', 'no incident with that id');
    return incident;
  });
}
