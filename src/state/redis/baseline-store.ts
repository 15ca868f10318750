import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_BASELINE_LIMITS, locationArg, userSnapshotFromHash, type BaselineLimits, type BaselineStore, type UserObservation, type UserSnapshot } from '../baseline.js';
import type { KeySpace } from './keys.js';
import { callScript, defineScripts } from './scripts.js';

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
    const pipeline = this.redis.pipeline();
    for (const o of observations) {
      const args: (string | number)[] = [this.keys.userBaseline(o.user), o.time, this.limits.ttlSeconds, this.limits.valuesPerKind, o.learn ? 1 : 0, locationArg(o), o.values.length];
      for (const v of o.values) args.push(v.kind, v.value);
      void callScript(pipeline, 'observe-user', args);
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, reply]) => {
      if (err) throw err;
      const [prev, flat] = reply as [string | null, string[]];
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return userSnapshotFromHash(pairs, prev);
    });
  }

  async close(): Promise<void> {}
}
