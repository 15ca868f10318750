// A remembering SessionHasher (scan's) keeps the HMACs of recent (tenant, raw session id) pairs: what it answers from
// memory must be what it computes afresh, for pairs that only a careless key would merge, across the point where the
// memory starts afresh; the raw ids it holds must not show through anything that prints or serializes the hasher;
// and the service's hasher holds none at all.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SESSION_HASH_CACHE, SessionHasher } from '../../src/events/normalize.js';
import { loadEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/observability/logger.js';
import { createRuntime } from '../../src/runtime.js';

const KEY = 'unit-test-key-0123456789abcdef0123';

describe('SessionHasher', () => {
  it('answers from memory what it computes afresh, past the bound', () => {
    const hasher = new SessionHasher(KEY, { remember: SESSION_HASH_CACHE });
    const n = SESSION_HASH_CACHE + 5_000;
    const first: string[] = [];
    for (let i = 0; i < n; i++) first.push(hasher.hash(i % 3 === 0 ? 'acme' : 'default', `raw-${i}`));
    const sample = [0, 1, 2, 4_999, SESSION_HASH_CACHE - 1, SESSION_HASH_CACHE, n - 1];
    expect(hasher.remembered).toBeLessThanOrEqual(SESSION_HASH_CACHE);
    for (const i of sample) {
      const tenant = i % 3 === 0 ? 'acme' : 'default';
      expect(hasher.hash(tenant, `raw-${i}`)).toBe(first[i]);
      expect(new SessionHasher(KEY).hash(tenant, `raw-${i}`)).toBe(first[i]);
    }
  });

  it('keeps apart pairs whose joined text is the same', () => {
    const hasher = new SessionHasher(KEY, { remember: SESSION_HASH_CACHE });
    const a = hasher.hash('a:b', 'c');
    const b = hasher.hash('a', 'b:c');
    const c = hasher.hash('a:', 'b:c');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(hasher.hash('a', 'b:c')).toBe(b);
    expect(hasher.hash('a:b', 'c')).toBe(a);
  });

  it('shows no raw session id when printed or serialized', () => {
    const hasher = new SessionHasher(KEY, { remember: SESSION_HASH_CACHE });
    hasher.hash('acme', 'raw-cookie-value-123');
    expect(inspect(hasher, { depth: 10, showHidden: true })).not.toContain('raw-cookie-value-123');
    expect(JSON.stringify(hasher)).not.toContain('raw-cookie-value-123');
  });

  it('remembers nothing unless asked, and the service runtime does not ask', async () => {
    const plain = new SessionHasher(KEY);
    plain.hash('acme', 'raw-cookie-value-123');
    expect(plain.remembered).toBe(0);
    const env = loadEnv({ RG_SESSION_KEY: KEY, RG_RULES_DIR: 'rules' });
    const service = await createRuntime({ env, store: 'memory', logger: createLogger('silent') });
    try {
      service.hasher.hash('acme', 'raw-cookie-value-123');
      expect(service.hasher.remembered).toBe(0);
    } finally {
      await service.close();
    }
  });
});
