// The hand-written ingest-job check may only ever say "clean": whatever it accepts, the zod job schema accepts
// unchanged (it strips unknown keys, so an accepted job must have none).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCleanIngestJob } from '../../src/pipeline/job-check.js';
import { ingestJobSchema } from '../../src/queue/ingest.js';

const HMAC = 'a'.repeat(32);
const good = { id: 'e1', time: 1_795_000_000_000, type: 'request', session: HMAC, tenant: 'acme', ip: '81.2.69.142', user: 'alice@example.com', user_agent: 'curl/8.5.0' };

const value = fc.oneof(
  fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
  fc.constantFrom(HMAC, 'A'.repeat(32), 'request', 'rotate', 'nope', 'US', 'usa', '', 'token_reuse', 'proxy'),
  fc.array(fc.constantFrom('token_reuse', 'proxy', 'bogus'), { maxLength: 10 }),
);
const key = fc.constantFrom('id', 'time', 'type', 'session', 'new_session', 'user', 'tenant', 'ip', 'user_agent', 'device_id', 'app', 'asn', 'country', 'is_proxy', 'signals', 'session_id', '__proto__', 'extra');
const mutated = fc.tuple(fc.dictionary(key, value, { maxKeys: 6 }), fc.boolean()).map(([patch, drop]) => {
  const e: Record<string, unknown> = { ...good, ...patch };
  if (drop) delete e.ip;
  return e;
});

describe('isCleanIngestJob', () => {
  it('accepts a job from our API', () => {
    expect(isCleanIngestJob({ v: 1, accepted_at: 1, events: [good, { ...good, id: 'e2', signals: ['token_reuse'], asn: 7922, country: 'US', is_proxy: false, new_session: HMAC }] })).toBe(true);
  });

  it('never accepts what the job schema would reject or change', () => {
    fc.assert(
      fc.property(fc.array(mutated, { maxLength: 4 }), fc.constantFrom(1, 2, '1'), (events, v) => {
        const job = JSON.parse(JSON.stringify({ v, accepted_at: 5, events })) as unknown;
        if (!isCleanIngestJob(job)) return;
        const parsed = ingestJobSchema.safeParse(job);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(job);
      }),
      { numRuns: 3000 },
    );
  });

  it('sends a raw session id field, an unknown key or a bad HMAC to the schema', () => {
    expect(isCleanIngestJob({ v: 1, accepted_at: 1, events: [{ ...good, session_id: 'raw-cookie' }] })).toBe(false);
    expect(isCleanIngestJob({ v: 1, accepted_at: 1, events: [{ ...good, session: 'raw-cookie' }] })).toBe(false);
    expect(isCleanIngestJob({ v: 1, accepted_at: 1, events: [good], extra: 1 })).toBe(false);
    expect(isCleanIngestJob(JSON.parse(`{"v":1,"accepted_at":1,"events":[${JSON.stringify(good).slice(0, -1)},"__proto__":{}}]}`))).toBe(false);
  });
});
