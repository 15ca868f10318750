// The responder's API: session timelines, manual revocation, incident status (with an exception in the same
// call for a false positive), revocation status, and the JWKS for CAEP receivers.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { INCIDENT_STATUSES, type StatusChange } from '../../incidents/model.js';
import type { Responder } from '../../response/responder.js';
import { RevocationConflictError } from '../../response/responder.js';
import { jwks, type SetSigner } from '../../response/set.js';
import { sessionTimeline } from '../../response/timeline.js';
import type { ExceptionWriter } from '../../rules/local-exceptions.js';
import { exceptionSchema } from '../../rules/schema.js';
import type { WindowStore } from '../../state/window.js';
import type { AppOptions } from '../app.js';
import { ApiError } from '../errors.js';

export interface ResponseRouteOptions {
  responder?: Responder;
  windows?: WindowStore;
  signer?: SetSigner;
  exceptions?: ExceptionWriter;
}

const hashParam = z.object({ hash: z.string().regex(/^[a-f0-9]{32}$/, 'a session hash is 32 hex digits') });
export const reasonBody = z.strictObject({ reason: z.string().trim().min(3).max(1000), tenant: z.string().min(1).max(128).optional() });
export const statusBody = z.strictObject({
  status: z.enum(INCIDENT_STATUSES),
  note: z.string().max(2000).optional(),
  /** with false_positive: an exception for the rule, in the same call (reason and owner default from the call) */
  exception: z.record(z.string(), z.unknown()).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApiError(400, 'INVALID_REQUEST', `${what}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`);
  }
  return r.data;
}

function jsonBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ApiError(400, 'INVALID_JSON', `body is not JSON: ${(err as Error).message}`);
  }
}

export function registerResponseRoutes(app: FastifyInstance, opts: AppOptions & ResponseRouteOptions): void {
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new ApiError(501, 'NOT_CONFIGURED', `${what} is not available in this process`);
    return v;
  };

  app.get('/.well-known/jwks.json', { config: { public: true } }, async () => jwks(opts.signer ? [opts.signer] : []));

  app.get<{ Params: { hash: string } }>('/v1/sessions/:hash', async (req) => {
    const { hash } = parse(hashParam, req.params, 'path');
    const windows = need(opts.windows, 'the session store');
    const w = await windows.peek(hash);
    if (!w) throw new ApiError(404, 'SESSION_NOT_FOUND', 'no session with that hash in the window store (expired, or never seen)');
    const { items } = await opts.incidents.list({ session: hash, limit: 100 });
    return sessionTimeline(hash, w, items);
  });

  app.post<{ Params: { hash: string } }>('/v1/sessions/:hash/revoke', { config: { role: 'respond' } }, async (req, reply) => {
    const { hash } = parse(hashParam, req.params, 'path');
    const body = parse(reasonBody, jsonBody(req.body), 'body');
    const responder = need(opts.responder, 'revocation');
    const { items } = await opts.incidents.list({ session: hash, limit: 1 });
    const latest = items[0];
    try {
      const r = await responder.revoke({
        session: hash, tenant: body.tenant ?? latest?.tenant ?? 'default', reason: body.reason, by: req.identity!.name,
        ...(latest?.user !== undefined ? { user: latest.user } : {}),
      });
      return reply.status(202).send(r);
    } catch (err) {
      if (err instanceof RevocationConflictError) throw new ApiError(409, err.code, err.message, { revocation_id: err.existing });
      throw err;
    }
  });

  app.post<{ Params: { id: string } }>('/v1/incidents/:id/revoke', { config: { role: 'respond' } }, async (req, reply) => {
    const body = parse(reasonBody, jsonBody(req.body), 'body');
    const incident = await opts.incidents.get(req.params.id);
    if (!incident) throw new ApiError(404, 'INCIDENT_NOT_FOUND', 'no incident with that id');
    try {
      const r = await need(opts.responder, 'revocation').revoke({
        session: incident.session, tenant: incident.tenant, reason: body.reason, by: req.identity!.name, incident,
        ...(incident.user !== undefined ? { user: incident.user } : {}),
      });
      return reply.status(202).send(r);
    } catch (err) {
      if (err instanceof RevocationConflictError) throw new ApiError(409, err.code, err.message, { revocation_id: err.existing });
      throw err;
    }
  });

  app.post<{ Params: { id: string } }>('/v1/incidents/:id/status', { config: { role: 'respond' } }, async (req) => {
    const body = parse(statusBody, jsonBody(req.body), 'body');
    const incident = await opts.incidents.get(req.params.id);
    if (!incident) throw new ApiError(404, 'INCIDENT_NOT_FOUND', 'no incident with that id');
    if (body.exception && body.status !== 'false_positive') throw new ApiError(400, 'INVALID_REQUEST', 'an exception goes with status false_positive');
    const who = req.identity!.name;
    const change: StatusChange = { status: body.status, by: who, at: new Date().toISOString() };
    if (body.note !== undefined) change.note = body.note;
    let exceptionAdded: unknown;
    if (body.exception) {
      const writer = need(opts.exceptions, 'adding exceptions');
      const full = { reason: body.note ?? `false positive of ${incident.id}`, owner: who, ...body.exception };
      const checked = exceptionSchema.safeParse(full);
      if (!checked.success) {
        const i = checked.error.issues[0];
        throw new ApiError(400, 'INVALID_REQUEST', `exception${i?.path.length ? `.${i.path.join('.')}` : ''}: ${i?.message}`);
      }
      exceptionAdded = await writer.add(incident.rule.id, full);
    }
    const updated = await opts.incidents.setStatus(incident.id, change);
    return exceptionAdded === undefined ? updated : { ...updated, exception_added: exceptionAdded };
  });

  app.get<{ Querystring: { limit?: string; before?: string } }>('/v1/revocations', async (req) => {
    const q = parse(z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50), before: z.coerce.number().int().optional() }), req.query, 'query');
    const responder = need(opts.responder, 'revocation');
    const items = await responder.store.list(q.limit, q.before);
    const last = items[items.length - 1];
    return items.length === q.limit && last ? { items, next_before: Date.parse(last.created_at) } : { items };
  });

  app.get<{ Params: { id: string } }>('/v1/revocations/:id', async (req) => {
    const r = await need(opts.responder, 'revocation').store.get(req.params.id);
    if (!r) throw new ApiError(404, 'REVOCATION_NOT_FOUND', 'no revocation with that id');
    return r;
  });

  app.post<{ Params: { id: string } }>('/v1/revocations/:id/approve', { config: { role: 'respond' } }, async (req) => {
    const responder = need(opts.responder, 'revocation');
    const r = await responder.store.get(req.params.id);
    if (!r) throw new ApiError(404, 'REVOCATION_NOT_FOUND', 'no revocation with that id');
    if (r.mode !== 'held') throw new ApiError(409, 'NOT_HELD', `revocation is ${r.mode}, not held`);
    return responder.approve(r.id, req.identity!.name);
  });
}
