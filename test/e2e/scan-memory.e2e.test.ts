// `replayguard scan` in bounded memory, through the installed command over files from bench/lib/events.mjs:
// incidents written as they close give the same output, byte for byte, as holding them all to the end (and the same
// set as the Redis store, which holds them all); the session and user caps evict and say so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { normalizeOne } from '../../src/events/normalize.js';
import type { Incident } from '../../src/incidents/model.js';
import { createLogger } from '../../src/observability/logger.js';
import { createRuntime } from '../../src/runtime.js';
import type { ScanSummary } from '../../src/cli/scan.js';
import { deleteByPrefix, testPrefix } from '../helpers/redis-server.js';

const BIN = join(process.cwd(), 'bin', 'replayguard.js');
const dir = mkdtempSync(join(tmpdir(), 'rg-scan-memory-'));
const KEY = 'scan-memory-session-key-0123456789abcdef';
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', RG_SESSION_KEY: KEY, RG_SESSION_TTL_SECONDS: '86400' };

/** Three segments of sessions two days apart: each segment's incidents close (1 day + cooldown) during the next. */
function generate(name: string, args: string[]): string {
  const file = join(dir, name);
  const r = spawnSync('node', ['bench/generate.mjs', ...args, file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return file;
}

function scan(args: string[], extraEnv: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; summary: ScanSummary } {
  const r = spawnSync('node', [BIN, 'scan', ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const line = /replayguard scan: (\{.*\})/.exec(r.stderr);
  expect(line, r.stderr).not.toBeNull();
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, summary: JSON.parse(line![1]!) as ScanSummary };
}

const redisPrefix = testPrefix('scanmem');
afterAll(async () => {
  const redis = new Redis(inject('redisUrl'));
  await deleteByPrefix(redis, redisPrefix);
  redis.disconnect();
});

describe('scan: incidents written as they close', () => {
  const file = generate('segments.ndjson', ['--events', '4000', '--sessions', '3000', '--attack-rate', '0.05', '--segments', '3', '--gap-days', '2']);

  it('gives the same bytes, counts and exit code as --hold-incidents, and the same set as the Redis store', { timeout: 180_000 }, () => {
    const released = scan(['--fail-on-incident', file]);
    const held = scan(['--fail-on-incident', '--hold-incidents', file]);
    expect(released.status).toBe(1);
    expect(held.status).toBe(1);
    expect(released.summary.incidents).toBeGreaterThan(100);
    // Most were written mid-scan: the first two segments' incidents close during the segment after them.
    expect(released.summary.incidents_released).toBeGreaterThan(released.summary.incidents / 2);
    expect(held.summary.incidents_released).toBe(0);
    expect(released.stdout).toBe(held.stdout);
    const { incidents_released: _a, ...restReleased } = released.summary;
    const { incidents_released: _b, ...restHeld } = held.summary;
    expect(restReleased).toEqual(restHeld);

    // The documented order: by the time each closes, so every incident of an earlier segment (sessions "seg0-…" end
    // two days before "seg1-…" begin) comes before every incident of a later one.
    const lines = released.stdout.trim().split('\n').map((l) => JSON.parse(l) as Incident);
    expect(lines).toHaveLength(released.summary.incidents);
    const days = lines.map((i) => Math.floor((Date.parse(i.last_seen) - Date.UTC(2026, 10, 1)) / (2 * 86_400_000)));
    expect(days).toEqual([...days].sort((a, b) => a - b));
    expect(new Set(days)).toEqual(new Set([0, 1, 2]));

    const redis = scan(['--store', 'redis', file], { REDIS_URL: inject('redisUrl'), RG_KEY_PREFIX: `${redisPrefix}x` });
    const sorted = (text: string) => text.trim().split('\n').sort();
    expect(sorted(redis.stdout)).toEqual(sorted(released.stdout));
  });

  it('keeps every output format the same either way', { timeout: 120_000 }, () => {
    const released = scan(['--output', 'cef', file]);
    const held = scan(['--output', 'cef', '--hold-incidents', file]);
    expect(released.status).toBe(0);
    expect(released.stdout).toBe(held.stdout);
    expect(released.stdout.split('\n')[0]).toMatch(/^CEF:0\|/);
  });
});

describe('scan: session and user caps', () => {
  it('evicts live sessions and users past RG_MEMORY_MAX_SESSIONS / RG_MEMORY_MAX_USERS and counts them', { timeout: 120_000 }, () => {
    const file = generate('capped.ndjson', ['--events', '3000', '--sessions', '2000', '--attack-rate', '0']);
    const free = scan([file]);
    expect(free.summary).toMatchObject({ sessions_evicted: 0, users_evicted: 0 });
    expect(free.stderr).not.toContain('memory cap');
    const capped = scan([file], { RG_MEMORY_MAX_SESSIONS: '100', RG_MEMORY_MAX_USERS: '50' });
    expect(capped.status).toBe(0);
    expect(capped.summary.sessions_evicted).toBeGreaterThan(0);
    expect(capped.summary.users_evicted).toBeGreaterThan(0);
    expect(capped.stderr).toMatch(/the memory cap dropped \d+ live sessions \(RG_MEMORY_MAX_SESSIONS=100\) and \d+ live users \(RG_MEMORY_MAX_USERS=50\)/);
  });

  it('holds exactly the cap: every session past it evicts one, in rg_state_evicted_total too', async () => {
    const runtime = await createRuntime({
      env: loadEnv({ RG_SESSION_KEY: KEY, RG_MEMORY_MAX_SESSIONS: '10', RG_MEMORY_MAX_USERS: '4' }), store: 'memory', logger: createLogger('silent'), eventClock: true,
    });
    try {
      const t0 = Date.UTC(2026, 10, 1);
      // 30 sessions of 15 users, each seen once: 20 sessions and 11 users over the caps.
      const events = Array.from({ length: 30 }, (_, i) => {
        const r = normalizeOne({
          id: `e${i}`, time: t0 + i * 1000, type: 'login', session_id: `s${i}`, user_id: `u${i >> 1}@example.com`, tenant: 't', ip: '81.2.69.142',
          user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
        }, runtime.hasher);
        if (!r.ok) throw new Error(r.message);
        return r.event;
      });
      await runtime.pipeline.process(events);
      expect(runtime.evictions).toEqual({ sessions: 20, users: 11 });
      const text = await runtime.metrics.registry.metrics();
      expect(text).toContain('rg_state_evicted_total{kind="session"} 20');
      expect(text).toContain('rg_state_evicted_total{kind="user"} 11');
    } finally {
      await runtime.close();
    }
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => loadEnv({ RG_MEMORY_MAX_SESSIONS: '0' })).toThrow(/RG_MEMORY_MAX_SESSIONS/);
    expect(() => loadEnv({ RG_MEMORY_MAX_USERS: 'lots' })).toThrow(/RG_MEMORY_MAX_USERS/);
    expect(loadEnv({})).toMatchObject({ RG_MEMORY_MAX_SESSIONS: expect.any(Number), RG_MEMORY_MAX_USERS: expect.any(Number) });
  });
});
