// Every Redis connection the service opens comes from here, for a single Redis (REDIS_URL) or a Redis
// Cluster (REDIS_CLUSTER_NODES=host:port,...). Producers fail fast when Redis is away (enableOfflineQueue
// off: the API answers 503 rather than accepting what it cannot keep); BullMQ workers wait for it.
import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Env } from '../../config/env.js';

export type RedisClient = Redis | Cluster;
export type Purpose = 'store' | 'producer' | 'worker';

export function redisOptionsFromUrl(url: string, extra: RedisOptions = {}): RedisOptions {
  const u = new URL(url);
  const opts: RedisOptions = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), ...extra };
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.pathname.length > 1) opts.db = Number(u.pathname.slice(1));
  if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}

export function clusterNodes(env: Pick<Env, 'REDIS_CLUSTER_NODES'>): { host: string; port: number }[] | undefined {
  if (!env.REDIS_CLUSTER_NODES) return undefined;
  return env.REDIS_CLUSTER_NODES.split(',').map((n) => {
    const [host, port] = n.trim().split(':');
    return { host: host || '127.0.0.1', port: Number(port || 6379) };
  });
}

function purposeOptions(purpose: Purpose): RedisOptions {
  if (purpose === 'producer') return { enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  if (purpose === 'worker') return { maxRetriesPerRequest: null };
  return { maxRetriesPerRequest: 3 };
}

/** A new client; not connected yet for `store` and `producer` (call connect()). */
export function createRedis(env: Pick<Env, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, purpose: Purpose): RedisClient {
  const nodes = clusterNodes(env);
  if (nodes) {
    const { enableOfflineQueue, ...redisOptions } = purposeOptions(purpose);
    return new Cluster(nodes, {
      lazyConnect: purpose !== 'worker',
      // Commands to one node are batched automatically: the per-batch script calls of many sessions spread
      // over slots cannot share one explicit pipeline in a cluster.
      enableAutoPipelining: true,
      ...(enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
      redisOptions,
    });
  }
  if (!env.REDIS_URL) throw new Error('no Redis configured: set REDIS_URL or REDIS_CLUSTER_NODES');
  return new Redis(redisOptionsFromUrl(env.REDIS_URL, { ...purposeOptions(purpose), lazyConnect: purpose !== 'worker' }));
}

/** The connection BullMQ workers get: options for a single Redis (BullMQ opens its own), a Cluster client otherwise. */
export function workerConnection(env: Pick<Env, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): ConnectionOptions {
  if (clusterNodes(env)) return createRedis(env, 'worker') as Cluster;
  return redisOptionsFromUrl(env.REDIS_URL!, purposeOptions('worker'));
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}
