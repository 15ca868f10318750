import type { Cluster, Redis } from 'ioredis';
import type { KeySpace } from '../state/redis/keys.js';
import { callScript, defineScripts, runScripts } from '../state/redis/scripts.js';
import type { Detection, Incident, ResponseRecord, StatusChange } from './model.js';
import {
  MAX_STATUS_HISTORY, baseOf, decodeCursor, encodeCursor, incidentFromHash, InvalidCursorError, keyAndNewId, matchesQuery, MAX_INCIDENT_EVENT_IDS, severityArgs,
  type IncidentPage, type IncidentQuery, type IncidentStore, type RecordResult,
} from './store.js';

function toRecord(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

const MAX_SCAN_PER_PAGE = 5000;

export class RedisIncidentStore implements IncidentStore {
  readonly kind = 'redis' as const;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly ttlSeconds: number,
    private readonly now: (d: Detection) => number = () => Date.now(),
  ) {
    defineScripts(redis);
  }

  /** record-incident-4.lua's arguments for one detection folded into (or creating) incident `id`. */
  #args(d: Detection, key: string, id: string, creating: boolean): (string | number)[] {
    return [
      this.keys.incidentOpen(), this.keys.incidentIndex(), this.keys.incident(id), this.keys.incidentEvents(id),
      key, id, creating ? 1 : 0, d.event_id, d.time, ...severityArgs(d.severity),
      JSON.stringify(baseOf(d, id, key)), JSON.stringify(d.evidence), this.now(d), this.ttlSeconds, MAX_INCIDENT_EVENT_IDS,
      d.cooldown_ms, d.monitor ? 1 : 0,
    ];
  }

  async record(d: Detection): Promise<RecordResult> {
    const { key, newId } = keyAndNewId(d);
    for (let attempt = 0; attempt < 5; attempt++) {
      const openId = await this.redis.hget(this.keys.incidentOpen(), key);
      const reply = (await callScript(this.redis, 'record-incident', this.#args(d, key, openId ?? newId, openId === null))) as [string, string[], string[]];
      const [outcome, hash, events] = reply;
      if (outcome === 'retry') continue;
      return { outcome: outcome as RecordResult['outcome'], incident: incidentFromHash(toRecord(hash), events) };
    }
    throw new Error('incident record kept racing with another writer');
  }

  /**
   * A batch's detections, in order, with the answers record() one by one would give: the open incident of every
   * dedup key read once (one HMGET), then every call in one round trip (batch calls). A detection whose incident
   * was opened before it in the batch folds into that one. A call answered 'retry' (another writer opened or
   * closed the incident in between) goes again through record(), in order.
   */
  async recordMany(detections: readonly Detection[]): Promise<RecordResult[]> {
    if (detections.length <= 1) return Promise.all(detections.map((d) => this.record(d)));
    const keyed = detections.map((d) => ({ d, ...keyAndNewId(d) }));
    const distinct = [...new Set(keyed.map((k) => k.key))];
    const openIds = await this.redis.hmget(this.keys.incidentOpen(), ...distinct);
    const open = new Map<string, string | null>(distinct.map((k, i) => [k, openIds[i] ?? null]));
    const argsList = keyed.map(({ d, key, newId }) => {
      const openId = open.get(key) ?? null;
      if (openId === null) open.set(key, newId);
      return this.#args(d, key, openId ?? newId, openId === null);
    });
    const replies = (await runScripts(this.redis, 'record-incident', argsList)) as [string, string[], string[]][];
    const out: RecordResult[] = new Array(detections.length);
    for (let i = 0; i < detections.length; i++) {
      const [outcome, hash, events] = replies[i]!;
      if (outcome === 'retry') out[i] = await this.record(detections[i]!);
      else out[i] = { outcome: outcome as RecordResult['outcome'], incident: incidentFromHash(toRecord(hash), events) };
    }
    return out;
  }

  async get(id: string): Promise<Incident | undefined> {
    if (!/^inc_[a-f0-9]{24}$/.test(id)) return undefined;
    const [[e1, hash], [e2, events], [e3, history]] = (await this.redis
      .multi()
      .hgetall(this.keys.incident(id))
      .zrange(this.keys.incidentEvents(id), 0, -1)
      .lrange(this.keys.incidentHistory(id), 0, -1)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]], [Error | null, string[]]];
    if (e1 || e2 || e3) throw e1 ?? e2 ?? e3;
    if (!hash || Object.keys(hash).length === 0) return undefined;
    return incidentFromHash(hash, events, history);
  }

  async setStatus(id: string, change: StatusChange): Promise<Incident | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const changed = await callScript(this.redis, 'set-incident-status', [
      this.keys.incidentOpen(), this.keys.incident(id), this.keys.incidentHistory(id),
      current.dedup_key, id, change.status, JSON.stringify(change), Date.now(), MAX_STATUS_HISTORY,
    ]);
    return changed === 1 ? this.get(id) : undefined;
  }

  async setResponse(id: string, response: ResponseRecord): Promise<void> {
    // Only an existing incident: HSET on a missing key would create a headless one.
    await this.redis.eval("if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'resp', ARGV[1]) end return 1", 1, this.keys.incident(id), JSON.stringify(response));
  }

  async list(q: IncidentQuery): Promise<IncidentPage> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    let max = '+inf';
    let after: { created: number; id: string } | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor);
      if (!after) throw new InvalidCursorError('cursor is not one this server issued');
      max = String(after.created);
    }
    const items: Incident[] = [];
    let scanned = 0;
    let offset = 0;
    let last: { created: number; id: string } | undefined;
    while (items.length < limit && scanned < MAX_SCAN_PER_PAGE) {
      const page = await this.redis.zrevrangebyscore(this.keys.incidentIndex(), max, '-inf', 'WITHSCORES', 'LIMIT', offset, 200);
      if (page.length === 0) return { items };
      offset += page.length / 2;
      const ids: { id: string; created: number }[] = [];
      for (let i = 0; i < page.length; i += 2) {
        const id = page[i]!;
        const created = Number(page[i + 1]);
        // Same score as the cursor: reverse order puts larger ids first, and those were already returned.
        if (after && created === after.created && id >= after.id) continue;
        ids.push({ id, created });
      }
      const pipeline = this.redis.pipeline();
      for (const { id } of ids) pipeline.hgetall(this.keys.incident(id)).zrange(this.keys.incidentEvents(id), 0, -1).lrange(this.keys.incidentHistory(id), 0, -1);
      const results = (await pipeline.exec()) ?? [];
      for (let i = 0; i < ids.length; i++) {
        scanned++;
        const hash = results[i * 3]?.[1] as Record<string, string> | undefined;
        const events = (results[i * 3 + 1]?.[1] as string[] | undefined) ?? [];
        const history = (results[i * 3 + 2]?.[1] as string[] | undefined) ?? [];
        last = ids[i];
        if (!hash || Object.keys(hash).length === 0) continue; // expired: its index entry is trimmed lazily
        const incident = incidentFromHash(hash, events, history);
        if (!matchesQuery(incident, q)) continue;
        items.push(incident);
        if (items.length === limit) break;
      }
    }
    return last ? { items, next_cursor: encodeCursor(last.created, last.id) } : { items };
  }

  async close(): Promise<void> {}
}
