import { beforeAll, describe, it, expect } from 'vitest';
import type { AuthEvent, GeoInfo } from '../../../src/events/schema.js';
import { createEnricher, enricherFrom, type Enricher, type EnricherParts } from '../../../src/enrich/index.js';
import { UserAgentParser } from '../../../src/enrich/user-agent.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function event(over: Partial<AuthEvent> = {}): AuthEvent {
  return {
    id: 'e-1',
    time: Date.parse('2026-11-23T12:00:00.000Z'),
    type: 'request',
    session: 'a'.repeat(64),
    tenant: 'acme',
    user: 'alice@example.com',
    ip: '81.2.69.142',
    user_agent: CHROME,
    ...over,
  };
}

describe('createEnricher (real data)', () => {
  let enricher: Enricher;
  beforeAll(async () => {
    enricher = await createEnricher({ uaCacheSize: 100 });
  }, 120_000);

  it('adds geo, AS, network and user agent without touching the input', () => {
    const input = event({ ip: '8.8.8.8', user_agent: 'python-requests/2.31.0' });
    const frozen = Object.freeze({ ...input });
    const out = enricher.enrich(frozen);
    expect(out).toMatchObject(input);
    expect(out.geo.country).toBe('US');
    expect(out.as).toMatchObject({ number: 15169 });
    expect(out.as?.org).toMatch(/google/i);
    expect(out.network).toBe('8.8.8.8');
    expect(out.ua).toMatchObject({ browser: 'python-requests', is_script: true });
    expect(frozen).not.toHaveProperty('geo');
  });

  it('uses the /64 as the network of an IPv6 client and looks up its AS', () => {
    const out = enricher.enrich(event({ ip: '2001:4860:4860::8888' }));
    expect(out.network).toBe('2001:4860:4860::/64');
    expect(out.as?.number).toBe(15169);
    expect(out.geo.country).toBe('US');
  });

  it('leaves out `as` and gives empty geo for a private address', () => {
    const out = enricher.enrich(event({ ip: '10.20.30.40', user_agent: undefined }));
    expect(out.geo).toEqual({});
    expect(out).not.toHaveProperty('as');
    expect(out.network).toBe('10.20.30.40');
    expect(out.ua).toEqual({ browser: 'unknown', os: 'unknown', device: 'unknown', is_script: false });
  });

  it('source country that agrees keeps the full geo answer', () => {
    const plain = enricher.enrich(event()).geo;
    expect(plain.city).toBeTruthy();
    expect(enricher.enrich(event({ country: 'GB' })).geo).toEqual(plain);
  });

  it('source country that disagrees wins and drops the inconsistent city/coordinates', () => {
    const out = enricher.enrich(event({ country: 'FR' }));
    expect(out.geo).toEqual({ country: 'FR' });
    expect(out.country).toBe('FR');
  });

  it('source ASN wins, named from the table; a matching one keeps our org', () => {
    const other = enricher.enrich(event({ ip: '8.8.8.8', asn: 13335 }));
    expect(other.as?.number).toBe(13335);
    expect(other.as?.org).toMatch(/cloudflare/i);
    const same = enricher.enrich(event({ ip: '8.8.8.8', asn: 15169 }));
    expect(same.as?.org).toMatch(/google/i);
    // A source ASN for an address we cannot place at all still counts.
    expect(enricher.enrich(event({ ip: '10.0.0.1', asn: 16509 })).as?.number).toBe(16509);
  });
});

describe('override rules (fixed lookups)', () => {
  const geo: GeoInfo = { country: 'US', region: 'TX', city: 'Austin', lat: 30.27, lon: -97.74, accuracy_km: 20 };
  const parts: EnricherParts = {
    geo: () => ({ ...geo }),
    asn: {
      lookup: () => ({ number: 7018, org: 'AT&T' }),
      orgOf: (n: number) => (n === 3215 ? 'Orange' : undefined),
    },
    ua: new UserAgentParser(10),
  };
  const e = enricherFrom(parts);

  it.each([
    [{}, geo],
    [{ country: 'US' }, geo],
    [{ country: 'us' }, geo],
    [{ country: 'FR' }, { country: 'FR' }],
    [{ country: 'XX' }, geo], // "unknown" placeholder: not an override
  ])('country %j', (over, expected) => {
    expect(e.enrich(event(over)).geo).toEqual(expected);
  });

  it.each([
    [{}, { number: 7018, org: 'AT&T' }],
    [{ asn: 7018 }, { number: 7018, org: 'AT&T' }],
    [{ asn: 3215 }, { number: 3215, org: 'Orange' }],
    [{ asn: 64999 }, { number: 64999 }],
    [{ asn: 0 }, { number: 7018, org: 'AT&T' }], // AS0 means "no AS": not an override
  ])('asn %j', (over, expected) => {
    expect(e.enrich(event(over)).as).toEqual(expected);
  });
});
