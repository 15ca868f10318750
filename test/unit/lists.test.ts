import { describe, expect, it } from 'vitest';
import { CidrSet, NetworkLists, parseCidr } from '../../src/rules/lists.js';

describe('CIDR sets', () => {
  it('parses IPv4 and IPv6 CIDRs and bare addresses', () => {
    expect(parseCidr('203.0.113.0/24')).toEqual({ v: 4, start: 0xcb007100, end: 0xcb0071ff });
    expect(parseCidr('203.0.113.77/24')).toMatchObject({ start: 0xcb007100 });
    expect(parseCidr('198.51.100.4')).toEqual({ v: 4, start: 0xc6336404, end: 0xc6336404 });
    expect(parseCidr('2001:db8::/32')).toMatchObject({ v: 6 });
    for (const bad of ['203.0.113.0/33', '2001:db8::/129', 'nonsense', '1.2.3.4/x', '1.2.3.4/']) expect(parseCidr(bad)).toBeUndefined();
  });

  it('answers membership at range edges, merging overlaps', () => {
    const set = new CidrSet(['10.0.0.0/24', '10.0.0.128/25', '10.0.1.0/24', '2001:db8:1::/48', '0.0.0.0/32']);
    expect(set.has('10.0.0.0')).toBe(true);
    expect(set.has('10.0.1.255')).toBe(true);
    expect(set.has('10.0.2.0')).toBe(false);
    expect(set.has('9.255.255.255')).toBe(false);
    expect(set.has('2001:db8:1:ffff::1')).toBe(true);
    expect(set.has('2001:db8:2::1')).toBe(false);
    expect(set.has('0.0.0.0')).toBe(true);
    expect(set.has('not-an-ip')).toBe(false);
    expect(set.size).toBe(3); // the two /24s are adjacent and merge, plus 0.0.0.0 and the v6 range
  });

  it('classifies by the most specific class and falls back to the source proxy flag', () => {
    const lists = new NetworkLists([
      { name: 'h', class: 'hosting', file: 'h.yaml', asns: new Set([64500]), cidrs: new CidrSet([]) },
      { name: 't', class: 'tor', file: 't.yaml', asns: new Set(), cidrs: new CidrSet(['198.51.100.0/24']) },
    ]);
    expect(lists.classify({ ip: '198.51.100.9', as: { number: 64500 } })).toBe('tor');
    expect(lists.classify({ ip: '203.0.113.9', as: { number: 64500 } })).toBe('hosting');
    expect(lists.classify({ ip: '203.0.113.9', is_proxy: true })).toBe('anonymizer');
    expect(lists.classify({ ip: '203.0.113.9' })).toBeUndefined();
    expect(lists.contains('t', '198.51.100.1', undefined)).toBe(true);
    expect(lists.contains('missing', '198.51.100.1', undefined)).toBe(false);
  });
});
