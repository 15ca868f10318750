// The embedded incident store: the same rules as record-incident-4.lua, over Maps.
//
// For a forensic replay (`replayguard scan`) it can also close incidents by event time, so a long file does not hold
// every incident until its end: an incident whose rule has not hit its session for `closeAfterIdleMs` plus the rule's
// cooldown (by the store's clock, the latest detection time it has seen) is complete; a later hit on that session
// opens a new incident, as one does in Redis once an incident's TTL has run out since its last hit. Whether closed
// incidents are taken out as they close (takeClosed) or all at the end (drain), they come out in one order: by the
// time they close, then by creation. The order is the same either way because an incident hit at clock c closes no
// earlier than c + closeAfterIdleMs, after everything already closed at c.
import { dedupKey, incidentId, type Detection, type Incident, type ResponseRecord, type StatusChange } from './model.js';
import {
  MAX_STATUS_HISTORY, baseOf, decodeCursor, encodeCursor, incidentFrom, InvalidCursorError, matchesQuery, MAX_INCIDENT_EVENT_IDS, severityArgs,
  type IncidentFields, type IncidentPage, type IncidentQuery, type IncidentStore, type RecordResult,
} from './store.js';

/**
 * An incident as typed fields, the same ones record-incident-4.lua keeps in its hash: a scan records tens of thousands
 * of hits, and re-reading a hash of strings (JSON of the base and evidence included) on every one was a tenth of its
 * time. What comes out is built fresh from these; the evidence, rule and MITRE list are shared, never changed here
 * (a hit replaces the evidence, it does not edit it), and no reader changes them.
 */
interface Stored extends IncidentFields {
  sevrank: number;
  emitted: number;
  emitsev: number;
  /** the triggering event ids with their times, by (time, id): most hits come in time order and append */
  events: Map<string, number>;
  order: { id: string; time: number }[];
  history: string[];
  /** creation order: breaks ties of the close order */
  seq: number;
  /** the store's clock at the latest hit that changed the incident (a repeated event does not count, as in Redis) */
  hitClock: number;
  /** the longest cooldown of its hits: a hit closer than that would still have been folded in as suppressed */
  cooldown: number;
}

function incidentOf(s: Stored, history?: string[]): Incident {
  return incidentFrom(s, s.order.map((e) => e.id), history);
}

/** Adds an event id in (time, id) order; the caller has checked it is new. */
function addEvent(s: Stored, id: string, time: number): void {
  s.events.set(id, time);
  const order = s.order;
  let i = order.length;
  while (i > 0 && (order[i - 1]!.time > time || (order[i - 1]!.time === time && order[i - 1]!.id > id))) i--;
  if (i === order.length) order.push({ id, time });
  else order.splice(i, 0, { id, time });
  if (order.length > MAX_INCIDENT_EVENT_IDS) {
    for (const e of order.splice(0, order.length - MAX_INCIDENT_EVENT_IDS)) s.events.delete(e.id);
  }
}

export interface MemoryIncidentStoreOptions {
  /** close an incident this long (event time) after its latest hit, plus its rule's cooldown; unset: never */
  closeAfterIdleMs?: number;
}

export class MemoryIncidentStore implements IncidentStore {
  readonly kind = 'memory' as const;
  readonly #open = new Map<string, string>();
  /** with closeAfterIdleMs, in order of hitClock (moved to the back on each hit), so the sweep stops early */
  readonly #incidents = new Map<string, Stored>();
  /** closed by the idle rule, not yet taken out */
  #closed: Stored[] = [];
  readonly #idle: number | undefined;
  #clock = 0;
  #seq = 0;

  /** `now` stamps created/updated; pass the detection's own time for deterministic forensic replays. */
  constructor(private readonly now: (d: Detection) => number = () => Date.now(), opts: MemoryIncidentStoreOptions = {}) {
    this.#idle = opts.closeAfterIdleMs;
  }

  #closesBy(s: Stored): number {
    return s.hitClock + (this.#idle ?? Infinity) + s.cooldown;
  }

  #close(id: string, s: Stored): void {
    this.#incidents.delete(id);
    if (this.#open.get(s.base.dedup_key) === id) this.#open.delete(s.base.dedup_key);
    this.#closed.push(s);
  }

  #sorted(list: Stored[]): Incident[] {
    return list
      .sort((a, b) => this.#closesBy(a) - this.#closesBy(b) || a.seq - b.seq)
      .map((s) => incidentOf(s, s.history));
  }

  /**
   * The incidents closed by now (see closeAfterIdleMs), removed from the store: they can no longer change. In close
   * order; every incident taken out later closes after these.
   */
  takeClosed(): Incident[] {
    if (this.#idle === undefined) return [];
    for (const [id, s] of this.#incidents) {
      // Everything after this one was hit at the same clock or later, so closes later too.
      if (s.hitClock + this.#idle > this.#clock) break;
      if (this.#closesBy(s) <= this.#clock) this.#close(id, s);
    }
    const out = this.#sorted(this.#closed);
    this.#closed = [];
    return out;
  }

  /** Every incident left, closed or not, removed from the store, in the order takeClosed would have given them. */
  drain(): Incident[] {
    const out = this.#sorted([...this.#closed, ...this.#incidents.values()]);
    this.#closed = [];
    this.#incidents.clear();
    this.#open.clear();
    return out;
  }

  async record(d: Detection): Promise<RecordResult> {
    const key = dedupKey(d.rule.id, d.tenant, d.session);
    const [sev, rank] = severityArgs(d.severity);
    const now = this.now(d);
    if (d.time > this.#clock) this.#clock = d.time;
    const openId = this.#open.get(key);
    let existing = openId === undefined ? undefined : this.#incidents.get(openId);
    if (existing && this.#closesBy(existing) <= this.#clock) {
      this.#close(openId!, existing);
      existing = undefined;
    }
    if (!existing) {
      // The id hashes the first event: only a new incident needs it.
      const newId = incidentId(key, d.event_id);
      const s: Stored = {
        base: baseOf(d, newId, key), sev, sevrank: rank, status: 'open', first: d.time, last: d.time,
        count: 1, supp: 0, mon: d.monitor, emitted: d.time, emitsev: rank,
        evidence: d.evidence, created: now, updated: now,
        events: new Map(),
        order: [],
        history: [],
        seq: this.#seq++,
        hitClock: this.#clock,
        cooldown: Math.max(d.cooldown_ms, 0),
      };
      addEvent(s, d.event_id, d.time);
      this.#open.set(key, newId);
      this.#incidents.set(newId, s);
      return { outcome: 'created', incident: incidentOf(s) };
    }
    if (existing.events.has(d.event_id)) return { outcome: 'unchanged', incident: incidentOf(existing) };
    existing.hitClock = this.#clock;
    if (d.cooldown_ms > existing.cooldown) existing.cooldown = d.cooldown_ms;
    if (this.#idle !== undefined) {
      this.#incidents.delete(openId!);
      this.#incidents.set(openId!, existing);
    }
    addEvent(existing, d.event_id, d.time);
    existing.count++;
    if (d.time < existing.first) existing.first = d.time;
    if (d.time >= existing.last) {
      existing.last = d.time;
      existing.evidence = d.evidence;
    }
    if (rank > existing.sevrank) {
      existing.sev = sev;
      existing.sevrank = rank;
    }
    existing.updated = now;
    const leavesMonitor = !d.monitor && existing.mon;
    if (leavesMonitor) existing.mon = false;
    const emitted = existing.emitted;
    const emitSev = existing.emitsev;
    if (d.cooldown_ms > 0 && Math.abs(d.time - emitted) < d.cooldown_ms && rank <= emitSev && !leavesMonitor) {
      existing.supp++;
      return { outcome: 'suppressed', incident: incidentOf(existing) };
    }
    existing.emitted = d.time;
    existing.emitsev = Math.max(rank, emitSev);
    return { outcome: 'updated', incident: incidentOf(existing) };
  }

  #find(id: string): Stored | undefined {
    return this.#incidents.get(id) ?? this.#closed.find((s) => s.base.id === id);
  }

  async get(id: string): Promise<Incident | undefined> {
    const s = this.#find(id);
    return s ? incidentOf(s, s.history) : undefined;
  }

  async setStatus(id: string, change: StatusChange): Promise<Incident | undefined> {
    const s = this.#find(id);
    if (!s) return undefined;
    const key = s.base.dedup_key;
    s.status = change.status;
    s.updated = Date.now();
    s.history.push(JSON.stringify(change));
    if (s.history.length > MAX_STATUS_HISTORY) s.history.splice(0, s.history.length - MAX_STATUS_HISTORY);
    if ((change.status === 'resolved' || change.status === 'false_positive') && this.#open.get(key) === id) this.#open.delete(key);
    if ((change.status === 'open' || change.status === 'acknowledged') && !this.#open.has(key)) this.#open.set(key, id);
    return this.get(id);
  }

  async setResponse(id: string, response: ResponseRecord): Promise<void> {
    const s = this.#find(id);
    if (s) s.resp = JSON.stringify(response);
  }

  async list(q: IncidentQuery): Promise<IncidentPage> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    let after: { created: number; id: string } | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor);
      if (!after) throw new InvalidCursorError('cursor is not one this server issued');
    }
    // Same order as the Redis index walk: created time descending, then id descending.
    const all = [...this.#incidents, ...this.#closed.map((s): [string, Stored] => [s.base.id, s])].sort((a, b) => b[1].created - a[1].created || (a[0] < b[0] ? 1 : -1));
    const items: Incident[] = [];
    let last: { created: number; id: string } | undefined;
    for (const [id, s] of all) {
      if (after && (s.created > after.created || (s.created === after.created && id >= after.id))) continue;
      last = { created: s.created, id };
      const incident = incidentOf(s, s.history);
      if (!matchesQuery(incident, q)) continue;
      items.push(incident);
      if (items.length === limit) return { items, next_cursor: encodeCursor(last.created, last.id) };
    }
    return { items };
  }

  async close(): Promise<void> {}
}
