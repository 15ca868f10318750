import type { Lookup } from 'geoip-lite';
import { beforeAll, describe, it, expect } from 'vitest';
import { createGeoLookup, loadGeo, toGeoInfo, type GeoLookup } from '../../../src/enrich/geo.js';

describe('geo lookups on geoip-lite data', () => {
  let geo: GeoLookup;
  beforeAll(async () => {
    geo = await loadGeo();
  }, 60_000);

  it('locates 8.8.8.8 in the US with a country-level accuracy radius', () => {
    const g = geo('8.8.8.8');
    expect(g.country).toBe('US');
    expect(g.lat).toBeTypeOf('number');
    expect(g.lon).toBeTypeOf('number');
    // Anycast: GeoLite places it at the US centroid with a 1000 km radius.
    expect(g.accuracy_km).toBeGreaterThanOrEqual(100);
    expect(g.city).toBeUndefined();
  });

  it('gives city, region and a small radius where the data has them (MaxMind test address 81.2.69.142)', () => {
    const g = geo('81.2.69.142');
    expect(g).toMatchObject({ country: 'GB', region: 'ENG' });
    expect(g.city).toBeTruthy();
    expect(g.lat).toBeCloseTo(51.75, 0);
    expect(g.lon).toBeCloseTo(-0.33, 0);
    expect(g.accuracy_km).toBeLessThan(1000);
  });

  it.each([
    ['2001:4860:4860::8888', 'US'],
    ['2a00:1450:4001:80b::200e', 'DE'],
    ['62.116.130.8', 'DE'],
    ['133.242.0.3', 'JP'],
    ['200.160.2.3', 'BR'],
  ])('%s → %s', (ip, country) => {
    expect(geo(ip).country).toBe(country);
  });

  it('answers IPv4-mapped IPv6 (both spellings) like the IPv4 address', () => {
    const plain = geo('81.2.69.142');
    expect(geo('::ffff:81.2.69.142')).toEqual(plain);
    // geoip-lite alone misreads the hex spelling as a different address.
    expect(geo('::ffff:5102:458e')).toEqual(plain);
  });

  it('returns {} for an address whose row has no location, never lat 0 / lon 0', () => {
    // 1.1.1.1 is in a GeoLite row without country or coordinates.
    expect(geo('1.1.1.1')).toEqual({});
  });

  it.each([
    '10.0.0.1',
    '192.168.1.10',
    '172.20.0.1',
    '100.64.1.1',
    '127.0.0.1',
    '169.254.169.254',
    '192.0.2.55',
    '198.51.100.1',
    '203.0.113.7',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    'fe80::1',
    'fd00::1',
    '2001:db8::1',
    '::ffff:10.0.0.1',
    'not-an-ip',
    '',
  ])('returns {} for private, documentation or invalid %j', (ip) => {
    expect(geo(ip)).toEqual({});
  });
});

describe('toGeoInfo / createGeoLookup', () => {
  const row = (over: Partial<Lookup>): Lookup => ({
    range: [0, 0],
    country: 'FR',
    region: 'IDF',
    eu: '1',
    timezone: 'Europe/Paris',
    city: 'Paris',
    ll: [48.8582, 2.3387],
    metro: 0,
    area: 20,
    ...over,
  });

  it('maps a full row, with area as accuracy_km', () => {
    expect(toGeoInfo(row({}))).toEqual({ country: 'FR', region: 'IDF', city: 'Paris', lat: 48.8582, lon: 2.3387, accuracy_km: 20 });
  });

  it('drops empty strings and placeholder coordinates', () => {
    expect(toGeoInfo(row({ region: '', city: '' }))).toEqual({ country: 'FR', lat: 48.8582, lon: 2.3387, accuracy_km: 20 });
    expect(toGeoInfo(row({ ll: [0, 0] }))).toEqual({ country: 'FR', region: 'IDF', city: 'Paris' });
    expect(toGeoInfo(row({ ll: [null, null] as unknown as [number, number] }))).toEqual({ country: 'FR', region: 'IDF', city: 'Paris' });
    expect(toGeoInfo(row({ area: 0 }))).toEqual({ country: 'FR', region: 'IDF', city: 'Paris', lat: 48.8582, lon: 2.3387 });
    expect(toGeoInfo(row({ country: '' }))).toEqual({});
    expect(toGeoInfo(null)).toEqual({});
  });

  it('never asks the database about special addresses, and spells IPv6 out in full for it', () => {
    const asked: (string | number)[] = [];
    const geo = createGeoLookup((ip) => {
      asked.push(ip);
      return row({});
    });
    geo('10.1.1.1');
    geo('2001:db8::1');
    geo('fe80::1');
    expect(asked).toEqual([]);
    geo('8.8.8.8');
    geo('2001:4860::1.2.3.4');
    geo('::ffff:8.8.4.4');
    expect(asked).toEqual([0x08080808, '2001:4860:0:0:0:0:102:304', 0x08080404]);
  });
});
