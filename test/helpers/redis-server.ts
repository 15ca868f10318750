// A private redis-server process on a free loopback port. Uses the Debian binary; never Docker.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisServerHandle {
  url: string;
  port: number;
  /** stop and remove its directory */
  stop(): Promise<void>;
  /** stop the process only (a crash or outage); restart() brings it back with the same data directory */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** start again on the same port and directory (with AOF, accepted writes survive) */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(opts: { appendonly?: boolean; args?: string[] } = {}): Promise<RedisServerHandle> {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rg-redis-'));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', opts.appendonly ? 'yes' : 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
      ...(opts.args ?? []),
    ];
    child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`))),
    );
    exited.catch(() => undefined);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await Promise.race([probe.connect().then(() => probe.ping()), exited]);
          return;
        } catch (err) {
          if (child!.exitCode !== null) throw err;
          probe.disconnect();
          await sleep(50);
        }
      }
      throw new Error(`redis-server on port ${port} did not answer`);
    } finally {
      probe.disconnect();
    }
  };

  const stopChild = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      await stopChild(signal);
    },
    async restart() {
      await stopChild();
      await launch();
    },
  };
}

/** An unguessable key prefix per test so tests never see each other's keys. */
export function testPrefix(name = 't'): string {
  return `rgtest:${name}:${Math.random().toString(36).slice(2, 10)}`;
}

/** Deletes every key under a prefix (tests only; SCAN is fine here, never on a hot path). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export interface RedisClusterHandle {
  /** host:port of every master, comma-separated (REDIS_CLUSTER_NODES) */
  nodes: string;
  stop(): Promise<void>;
}

/** A local Redis Cluster of `masters` nodes on loopback, made with `redis-cli --cluster create`. */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const servers: RedisServerHandle[] = [];
  for (let i = 0; i < masters; i++) {
    servers.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000'] }));
  }
  const addrs = servers.map((s) => `127.0.0.1:${s.port}`);
  const { spawnSync } = await import('node:child_process');
  const created = spawnSync(process.env.REDIS_CLI_BIN ?? 'redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
  // Every node must agree the cluster is up before clients use it.
  for (const s of servers) {
    const r = new Redis({ port: s.port, host: '127.0.0.1' });
    try {
      for (let i = 0; i < 200; i++) {
        const info = await r.cluster('INFO');
        if (String(info).includes('cluster_state:ok')) break;
        await sleep(50);
      }
    } finally {
      r.disconnect();
    }
  }
  return {
    nodes: addrs.join(','),
    async stop() {
      for (const s of servers) await s.stop();
    },
  };
}
