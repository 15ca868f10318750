// The response step: turns incidents (automatically, per policy) and responders' requests (manually) into
// revocations: recorded, claimed once per session, marked on the session window (so any later use of the
// session is itself a use-after-end detection) and delivered to every webhook and CAEP receiver.
import { randomBytes } from 'node:crypto';
import type { Incident, ResponseRecord } from '../incidents/model.js';
import type { IncidentStore } from '../incidents/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { IncidentChange } from '../pipeline/pipeline.js';
import type { WindowStore } from '../state/window.js';
import type { ResponseConfig, Target } from './config.js';
import type { Dispatcher, RevocationJob } from './dispatch.js';
import { decide } from './policy.js';
import { sessionRevokedPayload, signSet, type SetSigner } from './set.js';
import { revocationId, type Revocation, type RevocationBase, type RevocationStore } from './store.js';

export interface ResponderDeps {
  config: ResponseConfig;
  store: RevocationStore;
  dispatcher: Dispatcher;
  incidents: IncidentStore;
  windows: WindowStore;
  metrics: Metrics;
  logger: Logger;
  signer?: SetSigner;
  now?: () => number;
}

export interface ManualRevocation {
  session: string;
  tenant: string;
  user?: string;
  reason: string;
  /** the token name of the responder */
  by: string;
  incident?: Incident;
}

export class RevocationConflictError extends Error {
  readonly code = 'ALREADY_REVOKED';
  constructor(readonly existing: string) {
    super(`the session is already being revoked (${existing})`);
  }
}

export class Responder {
  readonly #targets: ReadonlyMap<string, Target>;
  readonly #now: () => number;

  constructor(private readonly deps: ResponderDeps) {
    this.#targets = new Map(deps.config.targets.map((t) => [t.name, t]));
    this.#now = deps.now ?? Date.now;
  }

  get store(): RevocationStore {
    return this.deps.store;
  }

  async #respond(incident: Incident, record: ResponseRecord): Promise<void> {
    await this.deps.incidents.setResponse(incident.id, record);
  }

  /** The pipeline's hook: decide for every created or updated incident whose rule asks for revocation. */
  async onIncident(change: IncidentChange): Promise<void> {
    const { incident } = change;
    if (incident.action === 'alert') return;
    // Decided once; only a "none" (e.g. severity was too low) is reconsidered when the incident changes.
    if (incident.response && incident.response.decision !== 'none') return;
    const { config, store, metrics, logger } = this.deps;
    const now = this.#now();
    const id = revocationId(incident.session, incident.tenant, incident.id);
    const decision = await decide(incident, config.policy, () => store.admit(now, config.policy.rate_limit.per, config.policy.rate_limit.max, id), config.killSwitch);
    metrics.revocations.inc({ decision: decision.kind, initiated_by: 'policy' });
    const at = new Date(now).toISOString();
    if (decision.kind === 'none') {
      await this.#respond(incident, { decision: 'none', why: decision.why, at });
      return;
    }
    const base: RevocationBase = {
      id, session: incident.session, tenant: incident.tenant, incident_id: incident.id, rule_id: incident.rule.id,
      reason: `${incident.rule.title}: ${incident.evidence.reason}`, initiated_by: 'policy', mode: decision.kind, created_at: at,
    };
    if (incident.user !== undefined) base.user = incident.user;
    if (decision.kind === 'shadow') {
      // Shadow: the record of what would have happened; no claim, no call, no mark on the session.
      await store.save(base);
      await this.#respond(incident, { decision: 'shadow', why: decision.why, revocation_id: id, at });
      return;
    }
    const holder = await store.claim(incident.tenant, incident.session, id);
    if (holder !== undefined) {
      await this.#respond(incident, { decision: decision.kind, why: `session already revoked (${holder})`, revocation_id: holder, at });
      return;
    }
    await store.save(base);
    await this.#respond(incident, { decision: decision.kind, why: decision.why, revocation_id: id, at });
    if (decision.kind === 'held') {
      logger.error({ revocation: id, incident: incident.id, rule: incident.rule.id }, `automatic revocation held for a human: ${decision.why}; approve with POST /v1/revocations/${id}/approve`);
      return;
    }
    await this.#execute(base);
  }

  /** A responder's revocation of a session (API or CLI). */
  async revoke(m: ManualRevocation): Promise<Revocation> {
    const { store, metrics } = this.deps;
    const now = this.#now();
    const id = revocationId(m.session, m.tenant, `manual:${randomBytes(8).toString('hex')}`);
    const holder = await store.claim(m.tenant, m.session, id);
    if (holder !== undefined) {
      const existing = await store.get(holder);
      // A revocation held by the rate limit is approved by a human revoking the session.
      if (existing?.mode === 'held') return this.approve(holder, m.by);
      throw new RevocationConflictError(holder);
    }
    const base: RevocationBase = { id, session: m.session, tenant: m.tenant, reason: m.reason, initiated_by: `admin:${m.by}`, mode: 'manual', created_at: new Date(now).toISOString() };
    if (m.user !== undefined) base.user = m.user;
    if (m.incident) {
      base.incident_id = m.incident.id;
      base.rule_id = m.incident.rule.id;
      await this.#respond(m.incident, { decision: 'manual', why: `revoked by ${m.by}: ${m.reason}`, revocation_id: id, at: base.created_at });
    }
    metrics.revocations.inc({ decision: 'manual', initiated_by: 'admin' });
    await store.save(base);
    await this.#execute(base);
    return (await store.get(id))!;
  }

  /** Releases a revocation the rate limit held. */
  async approve(id: string, by: string): Promise<Revocation> {
    const r = await this.deps.store.get(id);
    if (!r) throw new Error(`no revocation ${id}`);
    if (r.mode !== 'held') return r;
    const { status: _s, targets: _t, ...base } = r;
    const approved: RevocationBase = { ...base, mode: 'enforce', approved_by: by };
    await this.deps.store.save(approved);
    await this.#execute(approved);
    return (await this.deps.store.get(id))!;
  }

  async #execute(r: RevocationBase): Promise<void> {
    const { store, windows, dispatcher, config } = this.deps;
    const now = this.#now();
    // The session is now ended: its next use fires the use-after-end rules.
    await windows.observe([{ session: r.session, event_id: `revocation:${r.id}`, time: now, end: { type: 'revoke' }, values: [], transition: '' }]);
    const jobs: RevocationJob[] = [];
    const at = new Date(now).toISOString();
    for (const t of config.targets) {
      if (await store.isDisabled(t.name)) {
        await store.setTarget(r.id, t.name, { status: 'disabled', attempts: 0, error: 'endpoint disabled (410 Gone earlier)', at });
        continue;
      }
      await store.setTarget(r.id, t.name, { status: 'queued', attempts: 0, at });
      jobs.push({ v: 1, revocation_id: r.id, target: t.name, body: await this.#body(t, r, now) });
    }
    await dispatcher.dispatch(jobs);
  }

  async #body(t: Target, r: RevocationBase, now: number): Promise<string> {
    const initiatedBy = r.initiated_by === 'policy' ? 'policy' : 'admin';
    if (t.kind === 'webhook') {
      const data: Record<string, string> = { revocation_id: r.id, session_hash: r.session, tenant: r.tenant, reason: r.reason, initiated_by: r.initiated_by, mode: r.mode };
      if (r.user !== undefined) data.user = r.user;
      if (r.incident_id !== undefined) data.incident_id = r.incident_id;
      if (r.rule_id !== undefined) data.rule = r.rule_id;
      return JSON.stringify({ type: 'session.revoked', timestamp: new Date(now).toISOString(), data });
    }
    if (!this.deps.signer) throw new Error('CAEP receivers need a signing key');
    const input: Parameters<typeof sessionRevokedPayload>[0] = {
      issuer: this.deps.config.issuer, audience: t.audience, txn: r.incident_id ?? r.id, session: r.session, tenant: r.tenant,
      initiating: initiatedBy, reasonAdmin: r.reason, reasonUser: 'Your session was ended for your security. Please sign in again.',
      eventTimestamp: Math.floor(now / 1000), iat: Math.floor(now / 1000),
    };
    if (r.user !== undefined) input.user = r.user;
    return signSet(sessionRevokedPayload(input), this.deps.signer);
  }

  async close(): Promise<void> {
    await this.deps.dispatcher.close();
  }
}
