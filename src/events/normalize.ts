// The edge: validate canonical input and replace raw session ids with a keyed HMAC. Nothing downstream of
// this module ever sees a raw session id, so nothing downstream can store, log, queue or emit one.
import { createHash, createHmac } from 'node:crypto';
import type { z } from 'zod';
import { fastCanonical } from './fast-canonical.js';
import { canonicalEventSchema, type AuthEvent, type CanonicalEvent } from './schema.js';

export interface Rejection {
  index: number;
  code: string;
  message: string;
}

export interface NormalizedBatch {
  events: AuthEvent[];
  rejected: Rejection[];
}

export const DEFAULT_TENANT = 'default';

/** Most (tenant, raw session id) pairs whose HMAC a remembering hasher (scan's) keeps. */
export const SESSION_HASH_CACHE = 65_536;

export interface SessionHasherOptions {
  /**
   * Remember the HMAC of up to this many (tenant, raw session id) pairs (default 0: none). Only for replaying files
   * (scan), whose raw ids sit in the input on disk anyway: a long-running service keeps no raw session id past the
   * request that carried it, so that no heap snapshot or core dump of it holds thousands of live cookies.
   */
  remember?: number;
}

export class SessionHasher {
  readonly #key: Buffer;
  /**
   * tenant → raw session id → HMAC, when remembering. A session sends many events and an HMAC costs a few
   * microseconds (a tenth of a scan's normalize step). The raw ids sit here as keys, in this process's memory only
   * and in a private field that no logger or serializer reaches, and never more than `remember` of them: when full,
   * it starts afresh.
   */
  #cache = new Map<string, Map<string, string>>();
  #cached = 0;
  readonly #remember: number;

  constructor(key: string | Buffer, opts: SessionHasherOptions = {}) {
    this.#key = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (this.#key.length < 16) throw new Error('session HMAC key is too short');
    this.#remember = opts.remember ?? 0;
  }

  /** How many (tenant, raw id) pairs it holds now (never the ids themselves). */
  get remembered(): number {
    return this.#cached;
  }

  /**
   * HMAC over `<tenant length>:<tenant>:<session id>`: the length prefix keeps (tenant "a:b", session "c") and
   * (tenant "a", session "b:c") apart. 128 bits of HMAC-SHA256 is ample for identity and halves the memory of
   * every key and set member.
   */
  hash(tenant: string, sessionId: string): string {
    if (this.#remember === 0) return this.#hmac(tenant, sessionId);
    let ids = this.#cache.get(tenant);
    const known = ids?.get(sessionId);
    if (known !== undefined) return known;
    const hash = this.#hmac(tenant, sessionId);
    if (this.#cached >= this.#remember) {
      this.#cache = new Map();
      this.#cached = 0;
      ids = undefined;
    }
    if (ids === undefined) {
      ids = new Map();
      this.#cache.set(tenant, ids);
    }
    ids.set(sessionId, hash);
    this.#cached++;
    return hash;
  }

  #hmac(tenant: string, sessionId: string): string {
    return createHmac('sha256', this.#key).update(`${tenant.length}:${tenant}:`).update(sessionId).digest('hex').slice(0, 32);
  }
}

function firstIssue(error: z.ZodError): { code: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { code: 'invalid_event', message: 'invalid event' };
  const path = issue.path.join('.');
  const head = issue.path[0];
  const code = issue.code === 'invalid_type' && issue.message.includes('undefined') ? 'missing_field' : `invalid_${typeof head === 'string' ? head : 'event'}`;
  return { code, message: path ? `${path}: ${issue.message}` : issue.message };
}

export function toAuthEvent(event: CanonicalEvent, hasher: SessionHasher): AuthEvent {
  const tenant = event.tenant ?? DEFAULT_TENANT;
  const session = hasher.hash(tenant, event.session_id);
  const out: AuthEvent = { id: '', time: event.time, type: event.type, session, tenant, ip: event.ip };
  if (event.new_session_id !== undefined) out.new_session = hasher.hash(tenant, event.new_session_id);
  if (event.user_id !== undefined) out.user = event.user_id;
  if (event.user_agent !== undefined && event.user_agent !== '') out.user_agent = event.user_agent;
  if (event.device_id !== undefined) out.device_id = event.device_id;
  if (event.app !== undefined) out.app = event.app;
  if (event.asn !== undefined) out.asn = event.asn;
  if (event.country !== undefined) out.country = event.country;
  if (event.is_proxy !== undefined) out.is_proxy = event.is_proxy;
  if (event.signals !== undefined && event.signals.length > 0) out.signals = [...new Set(event.signals)].sort();
  // No id given: derive one from the content (with the session already hashed), so a retried send dedups.
  out.id = event.id ?? 'd_' + createHash('sha256').update(JSON.stringify(out)).digest('hex').slice(0, 32);
  return out;
}

export function normalizeOne(input: unknown, hasher: SessionHasher): { ok: true; event: AuthEvent } | { ok: false; code: string; message: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, code: 'not_an_object', message: 'event must be a JSON object' };
  }
  // Clean lines skip zod (which rebuilds every object as it checks); anything else gets zod's answer and errors.
  const fast = fastCanonical(input);
  if (fast !== undefined) return { ok: true, event: toAuthEvent(fast, hasher) };
  const parsed = canonicalEventSchema.safeParse(input);
  if (!parsed.success) return { ok: false, ...firstIssue(parsed.error) };
  return { ok: true, event: toAuthEvent(parsed.data, hasher) };
}

export function normalizeBatch(inputs: readonly unknown[], hasher: SessionHasher, indexOffset = 0): NormalizedBatch {
  const events: AuthEvent[] = [];
  const rejected: Rejection[] = [];
  inputs.forEach((input, i) => {
    const result = normalizeOne(input, hasher);
    if (result.ok) events.push(result.event);
    else rejected.push({ index: i + indexOffset, code: result.code, message: result.message });
  });
  return { events, rejected };
}
