import { describe, expect, it } from 'vitest';
import { get, getDotted, own, parseClfTime, parseIp, parseTime, text } from '../../../src/events/adapters/common.js';

const ok = (time: string) => ({ ok: true, time });

describe('parseTime: every vendor spelling of an instant', () => {
  it.each([
    ['2024-04-02T19:17:37.621Z', {}, '2024-04-02T19:17:37.621Z'], // Okta, Auth0
    ['2020-09-14T01:19:40Z', {}, '2020-09-14T01:19:40.000Z'], // CloudTrail
    ['2025-01-15T09:35:20.4567890Z', {}, '2025-01-15T09:35:20.456Z'], // Entra, 7 digits
    ['2024-04-02T21:17:37.621+02:00', {}, '2024-04-02T19:17:37.621Z'],
    ['2024-04-02T14:17:37-0500', {}, '2024-04-02T19:17:37.000Z'],
    ['2024-04-02 19:17:37 UTC', {}, '2024-04-02T19:17:37.000Z'],
    ['2024-04-02 19:17:37.621000000', { assumeUtc: true }, '2024-04-02T19:17:37.621Z'], // Panther
    ['2022-03-16 19:17:41', { assumeUtc: true }, '2022-03-16T19:17:41.000Z'],
    [1_712_085_457_621, { allowEpoch: true }, '2024-04-02T19:17:37.621Z'],
    [1_712_085_457, { allowEpoch: true }, '2024-04-02T19:17:37.000Z'], // epoch seconds
    ['1712085457621', { allowEpoch: true }, '2024-04-02T19:17:37.621Z'],
  ] as const)('%s', (input, opts, expected) => {
    expect(parseTime(input, opts)).toEqual(ok(expected));
  });

  it.each([
    ['2024-04-02 19:17:37', {}], // no zone and the field is not UTC by definition
    ['2024-02-30T00:00:00Z', {}], // no such day
    ['2024-04-02T25:00:00Z', {}],
    ['1999-12-31T23:59:59Z', {}], // outside 2000..2100, as the schema
    ['redacted', { assumeUtc: true }],
    [1_712_085_457_621, {}], // numbers only where a vendor uses them
    [true, {}],
    [{ $date: 1 }, {}],
  ] as const)('rejects %j', (input, opts) => {
    expect(parseTime(input, opts)).toMatchObject({ ok: false, skip: 'invalid_time' });
  });

  it('absent is missing_time', () => {
    expect(parseTime(undefined)).toMatchObject({ skip: 'missing_time' });
    expect(parseTime(null)).toMatchObject({ skip: 'missing_time' });
  });

  it('CLF time with its zone', () => {
    expect(parseClfTime('10/Oct/2000:13:55:36 -0700')).toEqual(ok('2000-10-10T20:55:36.000Z'));
    expect(parseClfTime('17/May/2015:10:05:03 +0000')).toEqual(ok('2015-05-17T10:05:03.000Z'));
    expect(parseClfTime('17/Foo/2015:10:05:03 +0000')).toMatchObject({ ok: false });
  });
});

describe('readers', () => {
  it('own() is case-insensitive and own-property only', () => {
    expect(own({ eventtype: 'x' }, 'eventType')).toBe('x');
    expect(own({ eventType: 'exact', eventtype: 'lower' }, 'eventType')).toBe('exact');
    expect(own({}, 'toString')).toBeUndefined();
    expect(own(Object.create({ inherited: 1 }), 'inherited')).toBeUndefined();
    expect(get({ a: { B: { c: 1 } } }, 'a', 'b', 'C')).toBe(1);
  });

  it('getDotted() reads nested, flattened and mixed ECS keys', () => {
    expect(getDotted({ source: { ip: '1' } }, 'source.ip')).toBe('1');
    expect(getDotted({ 'source.ip': '2' }, 'source.ip')).toBe('2');
    expect(getDotted({ okta: { 'authentication_context.external_session_id': '3' } }, 'okta.authentication_context.external_session_id')).toBe('3');
  });

  it('text() drops placeholders', () => {
    for (const p of ['', ' ', '-', 'unknown', 'NULL', 'None', 'n/a', 'redacted']) expect(text(p)).toBeUndefined();
    expect(text(' id ')).toBe('id');
    expect(text(42)).toBe('42');
  });

  it('parseIp() normalises like the schema', () => {
    expect(parseIp('::FFFF:192.0.2.1')).toEqual({ ok: true, ip: '192.0.2.1' });
    expect(parseIp('fe80::1%eth0')).toEqual({ ok: true, ip: 'fe80::1' });
    expect(parseIp('2001:DB8::1')).toEqual({ ok: true, ip: '2001:db8::1' });
    expect(parseIp(undefined)).toMatchObject({ skip: 'missing_ip' });
    expect(parseIp('redacted')).toMatchObject({ skip: 'invalid_ip' });
  });
});
