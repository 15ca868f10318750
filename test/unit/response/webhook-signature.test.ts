// Standard Webhooks signing against the spec's published vector and our own (identity-vectors.txt).
import { describe, expect, it } from 'vitest';
import { decodeSecret, sign, signedHeaders, verify } from '../../../src/response/webhook-signature.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET2 = 'whsec_dGVzdC1yb3RhdGVkLXNlY3JldC0yNGJ5dGVzISE=';
const OURS_BODY = '{"type":"session.revoked","timestamp":"2026-01-15T10:00:00Z","data":{"session_id":"sess_abc123","user_id":"u_42","reason":"session_replay_multi_asn","incident_id":"inc_01"}}';
const OURS_ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const OURS_TS = 1768471200;

describe('Standard Webhooks signatures', () => {
  it('reproduces the spec vector SW-1', () => {
    expect(sign(decodeSecret(SECRET), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('reproduces SW-2, its rotation signature, and the tampered-body signature', () => {
    const k1 = decodeSecret(SECRET);
    const k2 = decodeSecret(SECRET2);
    expect(sign(k1, OURS_ID, OURS_TS, OURS_BODY)).toBe('v1,XiRPdC2bT/5wiwcdFFW3Y1sioEFjTuM2EWP+vWN3yEw=');
    expect(sign(k2, OURS_ID, OURS_TS, OURS_BODY)).toBe('v1,XshPN8Fvt9L1g6XokA5mjb3yZqQT5F8IndNGGhfHAs0=');
    expect(sign(k1, OURS_ID, OURS_TS, OURS_BODY + '\n')).toBe('v1,DEgV2ehXzfmfyzjjQW1jVQNEAOeqWeCeGwnPcPuVdh8=');
    const headers = signedHeaders([k2, k1], OURS_ID, OURS_TS, OURS_BODY);
    expect(headers['webhook-signature']).toBe('v1,XshPN8Fvt9L1g6XokA5mjb3yZqQT5F8IndNGGhfHAs0= v1,XiRPdC2bT/5wiwcdFFW3Y1sioEFjTuM2EWP+vWN3yEw=');
    // Either secret verifies during rotation.
    expect(() => verify([k1], headers, OURS_BODY, OURS_TS)).not.toThrow();
    expect(() => verify([k2], headers, OURS_BODY, OURS_TS)).not.toThrow();
    expect(() => verify([k1], headers, OURS_BODY + '\n', OURS_TS)).toThrow(/no matching signature/);
  });

  it('rejects the negative cases', () => {
    const k = decodeSecret(SECRET);
    const good = signedHeaders([k], OURS_ID, OURS_TS, OURS_BODY);
    const v = (h: Record<string, string | undefined>, now = OURS_TS) => () => verify([k], h, OURS_BODY, now);
    expect(v({ ...good, 'webhook-id': undefined })).toThrow(/missing/);
    expect(v({ ...good, 'webhook-timestamp': '12.5' })).toThrow(/integer/);
    expect(v(good, OURS_TS + 301)).toThrow(/too old/);
    expect(v(good, OURS_TS - 301)).toThrow(/too new/);
    expect(v({ ...good, 'webhook-signature': 'v1,dawfeoifkpqwoekfpqoekf' })).toThrow(/no matching/);
    expect(v({ ...good, 'webhook-signature': good['webhook-signature'].slice(0, 20) })).toThrow(/no matching/);
    expect(v({ ...good, 'webhook-signature': good['webhook-signature'].replace('v1,', 'v2,') })).toThrow(/no matching/);
    expect(() => decodeSecret('whsec_')).toThrow();
    expect(() => decodeSecret('')).toThrow();
    expect(() => decodeSecret('whsec_c2hvcnQ=')).toThrow(/16..64/);
  });
});
