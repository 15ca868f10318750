import type { Cluster, Redis } from 'ioredis';
import { carriedValues, snapshotFromHash, DEFAULT_WINDOW_LIMITS, type Observation, type WindowLimits, type WindowSnapshot, type WindowStore } from '../window.js';
import type { KeySpace } from './keys.js';
import { callScript, defineScripts, runScripts } from './scripts.js';

function pairs(flat: string[]): Iterable<[string, string]> {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

export class RedisWindowStore implements WindowStore {
  readonly kind = 'redis' as const;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly limits: WindowLimits = DEFAULT_WINDOW_LIMITS,
  ) {
    defineScripts(redis);
  }

  private args(o: Observation): (string | number)[] {
    const args: (string | number)[] = [
      this.keys.sessionWindow(o.session), this.keys.sessionEventIds(o.session), this.keys.sessionTransitions(o.session),
      o.event_id, o.time, this.limits.ttlSeconds, this.limits.valuesPerField, this.limits.eventIds, this.limits.transitions,
      o.end?.type ?? '', o.end?.new_session ?? '', o.transition, o.values.length,
    ];
    for (const v of o.values) args.push(v.field, v.value, v.meta);
    return args;
  }

  async observe(observations: readonly Observation[]): Promise<WindowSnapshot[]> {
    if (observations.length === 0) return [];
    // One round trip per batch; events of one session are applied in the order given.
    const replies = await runScripts(this.redis, 'observe', observations.map((o) => this.args(o)));
    return replies.map((reply) => {
      const [dup, hash, transitions] = reply as [number, string[], string[]];
      return snapshotFromHash(dup === 1, pairs(hash), transitions);
    });
  }

  async peek(session: string): Promise<WindowSnapshot | undefined> {
    const [[e1, hash], [e2, transitions]] = (await this.redis
      .multi()
      .hgetall(this.keys.sessionWindow(session))
      .lrange(this.keys.sessionTransitions(session), 0, -1)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
    if (e1 || e2) throw e1 ?? e2;
    if (!hash || Object.keys(hash).length === 0) return undefined;
    return snapshotFromHash(false, Object.entries(hash), transitions);
  }

  async linkRotation(newSession: string, from: { session: string; time: number; snapshot: WindowSnapshot }): Promise<void> {
    const values = carriedValues(from.snapshot);
    const args: (string | number)[] = [
      this.keys.sessionWindow(newSession), from.session, from.time, this.limits.ttlSeconds, this.limits.valuesPerField,
      from.snapshot.root ?? from.session, values.length,
    ];
    for (const v of values) args.push(...v);
    await callScript(this.redis, 'link-rotation', args);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it.
  }
}
