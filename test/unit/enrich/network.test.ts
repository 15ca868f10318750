import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import {
  canonicalIp,
  canonicalizeIPv6,
  formatIPv6,
  isPublicIp,
  networkOf,
  parseIPv4,
  parseIPv6,
  type Hextets,
} from '../../../src/enrich/network.js';

describe('parseIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['8.8.8.8', 0x08080808],
    ['255.255.255.255', 0xffffffff],
    ['192.0.2.1', 0xc0000201],
  ])('%s', (text, n) => {
    expect(parseIPv4(text)).toBe(n);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4'])(
    'rejects %j',
    (text) => {
      expect(parseIPv4(text)).toBeUndefined();
    },
  );
});

describe('parseIPv6', () => {
  it('reads compressed, embedded-IPv4 and zoned forms', () => {
    expect(parseIPv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6('2001:DB8::8:800:200C:417A')).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
    expect(parseIPv6('::ffff:192.0.2.128')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280]);
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).toEqual([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    expect(parseIPv6('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it.each(['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', '1:2:3:4:5:6:7:8::', 'g::', '::1.2.3', '1.2.3.4::', '::1%', '1:'])(
    'rejects %j',
    (text) => {
      expect(parseIPv6(text)).toBeUndefined();
    },
  );

  // node:net is the reference for what counts as an address: both parsers must agree on acceptance.
  it('accepts exactly what node:net accepts', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEF::::...%gz -'.split(''));
    const noise = fc.array(chars, { maxLength: 45 }).map((a) => a.join(''));
    const hextet = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const valid = fc
      .tuple(
        fc.array(hextet, { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom('', '', '', '%eth0', '%1', '%', '%a b', '%en0.1'),
      )
      .map(([h, at, len, zone]) => {
        const n = Math.min(len, 8 - at);
        return (n >= 2 ? `${h.slice(0, at).join(':')}::${h.slice(at + n).join(':')}` : h.join(':')) + zone;
      });
    fc.assert(
      fc.property(fc.oneof(noise, valid), (text) => {
        expect(parseIPv6(text) !== undefined, text).toBe(isIP(text) === 6);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('canonical IPv6 (RFC 5952)', () => {
  it.each([
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8::0:1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:c000:0280', '::ffff:192.0.2.128'], // RFC 5952 §5: mapped addresses in mixed notation
    ['fe80::1%eth0', 'fe80::1'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalizeIPv6(input)).toBe(expected);
  });

  it('matches the WHATWG URL serializer (also RFC 5952) on random addresses', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (groups) => {
        // Zero-heavy inputs exercise the run selection.
        const h = groups.map((g) => (g % 3 === 0 ? 0 : g)) as Hextets;
        if (h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff) return;
        const text = formatIPv6(h);
        expect(text).toBe(new URL(`http://[${h.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1));
        expect(parseIPv6(text)).toEqual(h);
      }),
      { numRuns: 2000 },
    );
  });

  it('canonicalIp unwraps IPv4-mapped addresses', () => {
    expect(canonicalIp('::ffff:8.8.8.8')).toBe('8.8.8.8');
    expect(canonicalIp('::FFFF:808:808')).toBe('8.8.8.8');
    expect(canonicalIp('8.8.8.8')).toBe('8.8.8.8');
    expect(canonicalIp('2001:4860:4860:0:0:0:0:8888')).toBe('2001:4860:4860::8888');
    expect(canonicalIp('not an ip')).toBeUndefined();
  });
});

describe('networkOf', () => {
  it('an IPv4 address is its own network', () => {
    expect(networkOf('203.0.113.7')).toBe('203.0.113.7');
  });

  it('an IPv6 address stands for its /64, written canonically', () => {
    expect(networkOf('2001:db8:1:2:abcd:ef01:2345:6789')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:DB8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:db8::1')).toBe('2001:db8::/64');
    expect(networkOf('fe80::1%eth0')).toBe('fe80::/64');
  });

  it('privacy addresses of one /64 share a network; the next /64 does not', () => {
    const a = networkOf('2a02:8109:b6c0:1a00:5d1c:8f2e:1b3a:9c01');
    const b = networkOf('2a02:8109:b6c0:1a00:e4f3:22ab:7c10:4d55');
    const other = networkOf('2a02:8109:b6c0:1a01:5d1c:8f2e:1b3a:9c01');
    expect(a).toBe('2a02:8109:b6c0:1a00::/64');
    expect(b).toBe(a);
    expect(other).not.toBe(a);
  });

  it('IPv4-mapped IPv6 is the IPv4 network, in both spellings', () => {
    expect(networkOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(networkOf('::ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it('leaves unparseable input as is so it still groups with itself', () => {
    expect(networkOf('garbage')).toBe('garbage');
  });
});

describe('isPublicIp', () => {
  it.each([
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2001:4860:4860::8888', true],
    ['::ffff:8.8.8.8', true],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['100.128.0.1', true],
    ['127.0.0.1', false],
    ['169.254.169.254', false],
    ['192.0.2.1', false],
    ['198.51.100.200', false],
    ['203.0.113.7', false],
    ['198.18.0.1', false],
    ['224.0.0.251', false],
    ['255.255.255.255', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    ['3fff::1', false],
    ['3fff:1000::1', true],
    ['2001:2::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:192.0.2.1', false],
    ['nonsense', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPublicIp(ip)).toBe(expected);
  });
});
