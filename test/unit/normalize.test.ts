import { describe, expect, it } from 'vitest';
import { normalizeBatch, normalizeOne, SessionHasher } from '../../src/events/normalize.js';

const hasher = new SessionHasher('unit-test-key-0123456789abcdef0123');
const base = { time: '2026-11-23T12:00:00Z', type: 'request', session_id: 'raw-cookie', ip: '203.0.113.7' };

describe('normalize', () => {
  it('replaces the session id with a keyed HMAC that depends on tenant and key', () => {
    const r = normalizeOne(base, hasher);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.session).toMatch(/^[a-f0-9]{32}$/);
    expect(JSON.stringify(r.event)).not.toContain('raw-cookie');
    expect(r.event.tenant).toBe('default');
    const other = normalizeOne({ ...base, tenant: 'acme' }, hasher);
    expect(other.ok && other.event.session).not.toBe(r.event.session);
    const otherKey = normalizeOne(base, new SessionHasher('another-key-0123456789abcdef012345'));
    expect(otherKey.ok && otherKey.event.session).not.toBe(r.event.session);
  });

  it('accepts epoch milliseconds and RFC 3339 with offsets, and refuses seconds or zone-less times', () => {
    const ms = Date.UTC(2026, 10, 23, 12);
    expect(normalizeOne({ ...base, time: ms }, hasher)).toMatchObject({ ok: true, event: { time: ms } });
    expect(normalizeOne({ ...base, time: '2026-11-23T13:00:00+01:00' }, hasher)).toMatchObject({ ok: true, event: { time: ms } });
    expect(normalizeOne({ ...base, time: ms / 1000 }, hasher)).toMatchObject({ ok: false, code: 'invalid_time' });
    expect(normalizeOne({ ...base, time: '2026-11-23T12:00:00' }, hasher)).toMatchObject({ ok: false, code: 'invalid_time' });
  });

  it('derives a stable id from the content when none is given, and keeps a given one', () => {
    const a = normalizeOne(base, hasher);
    const b = normalizeOne({ ...base }, hasher);
    expect(a.ok && b.ok && a.event.id === b.event.id).toBe(true);
    expect(a.ok && a.event.id).toMatch(/^d_[a-f0-9]{32}$/);
    const c = normalizeOne({ ...base, ip: '203.0.113.8' }, hasher);
    expect(c.ok && a.ok && c.event.id !== a.event.id).toBe(true);
    expect(normalizeOne({ ...base, id: 'mine' }, hasher)).toMatchObject({ ok: true, event: { id: 'mine' } });
  });

  it('canonicalises addresses: IPv4-mapped IPv6 and zone ids', () => {
    expect(normalizeOne({ ...base, ip: '::ffff:198.51.100.4' }, hasher)).toMatchObject({ ok: true, event: { ip: '198.51.100.4' } });
    expect(normalizeOne({ ...base, ip: 'FE80::1%eth0' }, hasher)).toMatchObject({ ok: true, event: { ip: 'fe80::1' } });
  });

  it('rejects bad events with their index and a reason, and keeps the rest', () => {
    const { events, rejected } = normalizeBatch(
      [base, null, { ...base, type: 'teleport' }, { ...base, ip: 'nope' }, { ...base, type: 'rotate' }, { ...base, session_id: 'x'.repeat(5000) }, base],
      hasher,
    );
    expect(events).toHaveLength(2);
    expect(rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'not_an_object'], [2, 'invalid_type'], [3, 'invalid_ip'], [4, 'invalid_new_session_id'], [5, 'invalid_session_id'],
    ]);
    expect(rejected[3]!.message).toContain('new_session_id');
  });

  it('ignores prototype-pollution keys', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": true}, "time": "2026-11-23T12:00:00Z", "type": "request", "session_id": "s", "ip": "203.0.113.7"}');
    const r = normalizeOne(evil, hasher);
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
