// The Redis ceiling: the observe script alone (the same file the workers load, through dist's RedisWindowStore
// script definitions), called with pipelining from one client on the benchmark's Redis. A pool of real
// observations (generated events, normalized, enriched and classified exactly as a worker does) is built
// first and then cycled with fresh event ids and times, so the client does little more than encode commands
// and Redis does all the script work. Redis's own CPU over the run is reported with the figure: near one core
// means Redis, not the client, was the limit.
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
 * Runs the observe script for `seconds` with `inFlight` pipelines of `pipelineSize` calls outstanding.
 * Returns { calls, seconds, rate, redisCpu }.
 */
export async function measureCeiling({ url, redisPid, pool, seconds = 8, pipelineSize = 1000, inFlight = 2, prefix = 'rgceil' }) {
  const [{ RedisWindowStore }, { KeySpace }, { callScript }] = await Promise.all([
    import(dist('state/redis/window-store.js')), import(dist('state/redis/keys.js')), import(dist('state/redis/scripts.js')),
  ]);
  const u = new URL(url);
  const redis = new Redis({ host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null });
  const store = new RedisWindowStore(redis, new KeySpace(prefix));
  // The store's own argument encoding (a private method, reached from JavaScript): the ceiling calls the
  // script exactly as the workers do.
  const args = (o, i) => store.args({ ...o, event_id: `c${i}`, time: o.time + i });
  // One warm-up pipeline loads the script (EVALSHA misses once per connection).
  let seq = 0;
  const runOne = async () => {
    const p = redis.pipeline();
    for (let k = 0; k < pipelineSize; k++, seq++) void callScript(p, 'observe', args(pool[seq % pool.length], seq));
    const res = await p.exec();
    for (const [err] of res) if (err) throw err;
    return pipelineSize;
  };
  await runOne();
  const cpu0 = cpuSeconds(redisPid) ?? 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let calls = 0;
  const lane = async () => {
    while (performance.now() < deadline) calls += await runOne();
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  const redisCpu = ((cpuSeconds(redisPid) ?? cpu0) - cpu0) / elapsed;
  redis.disconnect();
  return { calls, seconds: elapsed, rate: calls / elapsed, redisCpu, clientCpu: undefined };
}
