// enrich() copies the event with a loop instead of a spread (the spread over many event shapes was V8's slow path):
// the enriched event must be what `{...event, geo, as, network, ua}` gives, keys and their order included, whatever
// optional keys the event carries, and the caller's event must be left as it was.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enricherFrom, type EnricherParts } from '../../../src/enrich/index.js';
import type { AuthEvent } from '../../../src/events/schema.js';

const parts: EnricherParts = {
  geo: (ip) => (ip.startsWith('10.') ? {} : { country: 'US', city: 'Austin', lat: 30.27, lon: -97.74 }),
  asn: { lookup: (ip) => (ip.startsWith('10.') ? undefined : { number: 7018, org: 'AT&T' }), orgOf: () => undefined },
  ua: { parse: (ua) => ({ browser: ua ?? 'unknown', os: 'Linux', device: 'desktop', is_script: false }) },
};

const event = fc
  .record(
    {
      new_session: fc.constant('b'.repeat(32)),
      user: fc.emailAddress(),
      user_agent: fc.string({ maxLength: 10 }),
      device_id: fc.string({ minLength: 1, maxLength: 5 }),
      app: fc.constant('portal'),
      asn: fc.integer({ min: 0, max: 70_000 }),
      country: fc.constantFrom('FR', 'US', 'XX'),
      is_proxy: fc.boolean(),
      signals: fc.constant(['proxy']),
    },
    { requiredKeys: [] },
  )
  .chain((optional) => fc.tuple(fc.constant(optional), fc.shuffledSubarray(Object.keys(optional), { minLength: Object.keys(optional).length }), fc.constantFrom('203.0.113.7', '10.0.0.1')))
  .map(([optional, order, ip]) => {
    // Events from other sources put their keys in other orders: the copy keeps each one's.
    const e: Record<string, unknown> = { id: 'e1', time: Date.UTC(2026, 10, 1), type: 'request', session: 'a'.repeat(32), tenant: 'acme', ip };
    for (const k of order) e[k] = (optional as Record<string, unknown>)[k];
    return e as unknown as AuthEvent;
  });

describe('enriched event', () => {
  it('is the event spread with its enrichment, key for key and in order, and leaves the event alone', () => {
    const enricher = enricherFrom(parts);
    fc.assert(
      fc.property(event, fc.boolean(), (e, classify) => {
        const before = JSON.stringify(e);
        const out = enricher.enrich(e, classify ? () => 'hosting' : undefined);
        const { geo, as, network, ua } = out;
        const want: Record<string, unknown> = as ? { ...e, geo, as, network, ua } : { ...e, geo, network, ua };
        if (classify) want.net_class = 'hosting';
        expect(out).toStrictEqual(want);
        expect(Object.keys(out)).toEqual(Object.keys(want));
        expect(out).not.toBe(e);
        expect(JSON.stringify(e)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
