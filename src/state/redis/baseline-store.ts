import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_BASELINE_LIMITS, locationArg, userSnapshotFromHash, type BaselineLimits, type BaselineStore, type UserObservation, type UserSnapshot } from '../baseline.js';
import type { KeySpace } from './keys.js';
import { defineScripts, runScripts } from './scripts.js';

export class RedisBaselineStore implements BaselineStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly limits: BaselineLimits = DEFAULT_BASELINE_LIMITS,
  ) {
    defineScripts(redis);
  }

  async observe(observations: readonly UserObservation[]): Promise<UserSnapshot[]> {
    if (observations.length === 0) return [];
    const argsList = observations.map((o) => {
      const args: (string | number)[] = [this.keys.userBaseline(o.user), o.time, this.limits.ttlSeconds, this.limits.valuesPerKind, o.learn ? 1 : 0, locationArg(o), o.values.length];
      for (const v of o.values) args.push(v.kind, v.value);
      return args;
    });
    const replies = await runScripts(this.redis, 'observe-user', argsList);
    return replies.map((reply) => {
      const [prev, flat] = reply as [string | null, string[]];
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return userSnapshotFromHash(pairs, prev);
    });
  }

  async close(): Promise<void> {}
}
