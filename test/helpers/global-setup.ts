// Starts a private redis-server on a free loopback port for the whole test run, so tests use a real
import 'vitest';
// Redis that they own (fault tests may stop and restart their own servers with test/helpers/redis-server.ts).
import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

let server: RedisServerHandle | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return async () => {
    await server?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
