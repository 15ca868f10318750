// Revocations are state: each one is recorded with who started it, why, and the delivery status of every
// target; a session is claimed once (so its webhook is never sent twice); automatic revocations are counted
// in a sliding window for the rate limit; endpoints that answered 410 Gone are remembered as disabled.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { KeySpace } from '../state/redis/keys.js';
import { callScript, defineScripts } from '../state/redis/scripts.js';

export type TargetStatus = 'queued' | 'delivered' | 'failed' | 'disabled';

export interface TargetState {
  status: TargetStatus;
  attempts: number;
  error?: string;
  at: string;
}

export type RevocationMode = 'shadow' | 'enforce' | 'held' | 'manual';

export interface Revocation {
  id: string;
  session: string;
  tenant: string;
  user?: string;
  incident_id?: string;
  rule_id?: string;
  reason: string;
  /** "policy", or "admin:<token name>" */
  initiated_by: string;
  mode: RevocationMode;
  /** derived from the targets: shadow, held, recorded (no targets), queued, delivered, partial, failed */
  status: string;
  targets: Record<string, TargetState>;
  created_at: string;
  approved_by?: string;
}

export type RevocationBase = Omit<Revocation, 'status' | 'targets'>;

export function revocationId(session: string, tenant: string, nonce: string): string {
  return 'rev_' + createHash('sha256').update(`${tenant}\u0000${session}\u0000${nonce}`).digest('hex').slice(0, 24);
}

export function deriveStatus(base: Pick<Revocation, 'mode'>, targets: Record<string, TargetState>): string {
  if (base.mode === 'shadow' || base.mode === 'held') return base.mode;
  const states = Object.values(targets).map((t) => t.status);
  if (states.length === 0) return 'recorded';
  if (states.some((s) => s === 'queued')) return 'queued';
  if (states.every((s) => s === 'delivered')) return 'delivered';
  if (states.some((s) => s === 'delivered')) return 'partial';
  return 'failed';
}

export interface RevocationStore {
  /** Claims the session for a revocation; answers the id that already holds it, if any. */
  claim(tenant: string, session: string, id: string): Promise<string | undefined>;
  save(base: RevocationBase): Promise<void>;
  setTarget(id: string, target: string, state: TargetState): Promise<void>;
  get(id: string): Promise<Revocation | undefined>;
  list(limit: number, before?: number): Promise<Revocation[]>;
  /** sliding-window limit for automatic revocations */
  admit(now: number, perMs: number, max: number, id: string): Promise<boolean>;
  disable(target: string): Promise<void>;
  isDisabled(target: string): Promise<boolean>;
  close(): Promise<void>;
}

function assemble(doc: string | undefined, fields: Record<string, string>): Revocation | undefined {
  if (!doc) return undefined;
  const base = JSON.parse(doc) as RevocationBase;
  const targets: Record<string, TargetState> = {};
  for (const [k, v] of Object.entries(fields)) if (k.startsWith('t:')) targets[k.slice(2)] = JSON.parse(v) as TargetState;
  if (fields.mode) base.mode = fields.mode as RevocationMode;
  if (fields.approved_by) base.approved_by = fields.approved_by;
  return { ...base, status: deriveStatus(base, targets), targets };
}

export class MemoryRevocationStore implements RevocationStore {
  readonly #docs = new Map<string, Record<string, string>>();
  readonly #claims = new Map<string, string>();
  readonly #admitted: number[] = [];
  readonly #disabled = new Set<string>();

  async claim(tenant: string, session: string, id: string): Promise<string | undefined> {
    const key = `${tenant}:${session}`;
    const held = this.#claims.get(key);
    if (held) return held;
    this.#claims.set(key, id);
    return undefined;
  }
  async save(base: RevocationBase): Promise<void> {
    const cur = this.#docs.get(base.id) ?? {};
    this.#docs.set(base.id, { ...cur, doc: JSON.stringify(base), mode: base.mode, ...(base.approved_by ? { approved_by: base.approved_by } : {}) });
  }
  async setTarget(id: string, target: string, state: TargetState): Promise<void> {
    const cur = this.#docs.get(id);
    if (cur) cur[`t:${target}`] = JSON.stringify(state);
  }
  async get(id: string): Promise<Revocation | undefined> {
    const f = this.#docs.get(id);
    return f ? assemble(f.doc, f) : undefined;
  }
  async list(limit: number, before = Infinity): Promise<Revocation[]> {
    const all = [...this.#docs.values()].map((f) => assemble(f.doc, f)!).filter((r) => Date.parse(r.created_at) < before);
    return all.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? 1 : -1)).slice(0, limit);
  }
  async admit(now: number, perMs: number, max: number): Promise<boolean> {
    while (this.#admitted.length > 0 && this.#admitted[0]! <= now - perMs) this.#admitted.shift();
    if (this.#admitted.length >= max) return false;
    this.#admitted.push(now);
    return true;
  }
  async disable(target: string): Promise<void> {
    this.#disabled.add(target);
  }
  async isDisabled(target: string): Promise<boolean> {
    return this.#disabled.has(target);
  }
  async close(): Promise<void> {}
}

export class RedisRevocationStore implements RevocationStore {
  constructor(private readonly redis: Redis | Cluster, private readonly keys: KeySpace, private readonly ttlSeconds: number) {
    defineScripts(redis);
  }

  async claim(tenant: string, session: string, id: string): Promise<string | undefined> {
    const key = `${tenant}:${session}`;
    const ok = await this.redis.hsetnx(this.keys.revocationClaims(), key, id);
    return ok === 1 ? undefined : ((await this.redis.hget(this.keys.revocationClaims(), key)) ?? undefined);
  }
  async save(base: RevocationBase): Promise<void> {
    const key = this.keys.revocation(base.id);
    const fields: Record<string, string> = { doc: JSON.stringify(base), mode: base.mode };
    if (base.approved_by) fields.approved_by = base.approved_by;
    await this.redis.multi().hset(key, fields).expire(key, this.ttlSeconds).zadd(this.keys.revocationIndex(), Date.parse(base.created_at), base.id).exec();
  }
  async setTarget(id: string, target: string, state: TargetState): Promise<void> {
    await this.redis.hset(this.keys.revocation(id), `t:${target}`, JSON.stringify(state));
  }
  async get(id: string): Promise<Revocation | undefined> {
    if (!/^rev_[a-f0-9]{24}$/.test(id)) return undefined;
    const f = await this.redis.hgetall(this.keys.revocation(id));
    return assemble(f.doc, f);
  }
  async list(limit: number, before?: number): Promise<Revocation[]> {
    const ids = await this.redis.zrevrangebyscore(this.keys.revocationIndex(), before === undefined ? '+inf' : `(${before}`, '-inf', 'LIMIT', 0, limit);
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.keys.revocation(id));
    const res = (await p.exec()) ?? [];
    return res.map(([, f]) => assemble((f as Record<string, string>).doc, f as Record<string, string>)).filter((r): r is Revocation => r !== undefined);
  }
  async admit(now: number, perMs: number, max: number, id: string): Promise<boolean> {
    return (await callScript(this.redis, 'rate-limit', [this.keys.revocationRate(), now, perMs, max, id])) === 1;
  }
  async disable(target: string): Promise<void> {
    await this.redis.sadd(this.keys.disabledTargets(), target);
  }
  async isDisabled(target: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.disabledTargets(), target)) === 1;
  }
  async close(): Promise<void> {}
}
