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

export async function startRedisServer(opts: { appendonly?: boolean } = {}): Promise<RedisServerHandle> {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rg-redis-'));
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', opts.appendonly ? 'yes' : 'no', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning',
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
