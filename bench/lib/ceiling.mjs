// The Redis ceiling: the observe script alone (observe-3.lua, through dist's RedisWindowStore, exactly as a worker
// calls it), pipelined from one client on the benchmark's Redis. A pool of real observations (generated events,
// normalized, enriched and classified exactly as a worker does) is built first and then cycled with fresh event ids
// and times, so the client does little more than encode calls and Redis does the script work. Redis's own CPU over
// the run is reported with the figure: near one core means Redis, not the client, was the limit.
import { Redis } from 'ioredis';
import { cpuSeconds } from './proc.mjs';

const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;

/** Builds `size` observations from the generator the way a worker would (normalize → enrich → classify). */
export async function observationPool(generator, size, sessionKey) {
  const [{ createEnricher }, { SessionHasher, normalizeOne }, { toObservation }, { loadRuleDir }, { RuleEngine }] = await Promise.all([
    import(dist('enrich/index.js')), import(dist('events/normalize.js')), import(dist('pipeline/observations.js')),
    import(dist('rules/loader.js')), import(dist('rules/engine.js')),
  ]);
  const enricher = await createEnricher();
  const loaded = await loadRuleDir(new URL('../../rules', import.meta.url).pathname);
  const rules = new RuleEngine(loaded.rules, loaded.lists);
  const hasher = new SessionHasher(sessionKey);
  const pool = [];
  while (pool.length < size) {
    for (const raw of generator.batch(1000).events) {
      const n = normalizeOne(raw, hasher);
      if (!n.ok) throw new Error(`generator produced an invalid event: ${n.message}`);
      const e = enricher.enrich(n.event);
      const cls = rules.classify(e);
      pool.push(toObservation(cls === undefined ? e : { ...e, net_class: cls }));
    }
  }
  return pool;
}

/**
 * Runs the observe script for `seconds` the way a worker does in steady state: through dist's RedisWindowStore
 * (which keeps its copies of the windows and sends the short form of a call when an event repeats the latest one),
 * batches of `pipelineSize` calls in one round trip, `inFlight` stores on one connection over disjoint halves of
 * the sessions (a store runs its batches one after another). The pool is cycled with fresh ids and increasing
 * times. Returns { calls, seconds, rate, redisCpu }.
 */
export async function measureCeiling({ url, redisPid, pool, seconds = 8, pipelineSize = 1000, inFlight = 2, prefix = 'rgceil' }) {
  const [{ RedisWindowStore }, { KeySpace }] = await Promise.all([import(dist('state/redis/window-store.js')), import(dist('state/redis/keys.js'))]);
  const u = new URL(url);
  const redis = new Redis({ host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null });
  const keys = new KeySpace(prefix);
  const lanes = Array.from({ length: inFlight }, () => ({ store: new RedisWindowStore(redis, keys), pool: [] }));
  for (const o of pool) lanes[parseInt(o.session.slice(0, 6), 16) % inFlight].pool.push(o);
  let seq = 0;
  let span = 0;
  const runOne = async (lane) => {
    const batch = [];
    for (let k = 0; k < pipelineSize; k++, seq++) {
      const o = lane.pool[seq % lane.pool.length];
      batch.push({ ...o, event_id: `c${seq}`, time: o.time + span + seq });
    }
    await lane.store.observe(batch);
    return pipelineSize;
  };
  try {
    // Warm up: every session once, so the windows exist and the stores hold their copies.
    for (const lane of lanes) for (let i = 0; i < lane.pool.length; i += pipelineSize) await runOne(lane);
    span = 1;
    const cpu0 = cpuSeconds(redisPid) ?? 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    let calls = 0;
    await Promise.all(lanes.map(async (lane) => {
      while (performance.now() < deadline) calls += await runOne(lane);
    }));
    const elapsed = (performance.now() - t0) / 1000;
    const redisCpu = ((cpuSeconds(redisPid) ?? cpu0) - cpu0) / elapsed;
    return { calls, seconds: elapsed, rate: calls / elapsed, redisCpu };
  } finally {
    redis.disconnect();
  }
}
