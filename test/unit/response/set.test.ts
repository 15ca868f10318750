// CAEP session-revoked SETs: the reference's HS256 vector byte for byte, and a real RS256 token checked
// with an independent verification (jose's jwtVerify against the served JWKS).
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, compactVerify, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwks, loadSigner, SESSION_REVOKED, sessionRevokedPayload, signSet } from '../../../src/response/set.js';

const VECTOR_PAYLOAD = '{"iss":"https://detector.example.com/","jti":"3d0c3cd1-8a8e-4c56-9f1e-0c2f3b7a9e01","iat":1768471200,"aud":"https://app.example.com/ssf/receiver","txn":"inc_01JH8Z3Q5V2","sub_id":{"format":"complex","session":{"format":"opaque","id":"sess_abc123"},"user":{"format":"iss_sub","iss":"https://idp.example.com/","sub":"u_42"}},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"initiating_entity":"policy","reason_admin":{"en":"Session replay: same session seen from 2 ASNs with different UA within 4 min (rule SR-002)"},"reason_user":{"en":"Your session was ended for your security. Please sign in again."},"event_timestamp":1768471190}}}';

describe('CAEP session-revoked SETs', () => {
  it('reproduces the reference HS256 vector', async () => {
    const token = await signSet(VECTOR_PAYLOAD, { alg: 'HS256', kid: 'test-hs256-1', key: new TextEncoder().encode('caep-test-secret-do-not-use-in-prod') });
    expect(token.split('.')[2]).toBe('r8dUwgAzb0VVzgRHUKy-Ez5AOBHOFOqkmK3edVoD_p4');
  });

  it('builds a CAEP-profile payload: complex sub_id, one event, txn, no sub or exp', () => {
    const p = sessionRevokedPayload({
      issuer: 'https://rg.example.com/', audience: 'https://app.example.com/ssf', txn: 'inc_abc', session: 'f'.repeat(32),
      user: 'alice@example.com', tenant: 'acme', initiating: 'policy', reasonAdmin: 'rule session-use-after-logout', eventTimestamp: 1795435200, iat: 1795435210,
    });
    expect(p).toMatchObject({
      iss: 'https://rg.example.com/', txn: 'inc_abc',
      sub_id: { format: 'complex', session: { format: 'opaque', id: 'f'.repeat(32) }, user: { format: 'email', email: 'alice@example.com' }, tenant: { format: 'opaque', id: 'acme' } },
      events: { [SESSION_REVOKED]: { initiating_entity: 'policy', reason_admin: { en: 'rule session-use-after-logout' }, event_timestamp: 1795435200 } },
    });
    expect(Object.keys(p.events as object)).toHaveLength(1);
    expect(p).not.toHaveProperty('sub');
    expect(p).not.toHaveProperty('exp');
    expect(() => sessionRevokedPayload({ issuer: 'i', audience: 'a', txn: 't', session: 's', initiating: 'admin', reasonAdmin: ' ', eventTimestamp: 1 })).toThrow(/reason_admin/);
  });

  it('signs RS256 with a configured key; the JWKS verifies it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signer = await loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
    const token = await signSet(sessionRevokedPayload({ issuer: 'https://rg/', audience: 'https://app/', txn: 't1', session: 'a'.repeat(32), initiating: 'admin', reasonAdmin: 'manual', eventTimestamp: 1 }), signer);
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'secevent+jwt', alg: 'RS256', kid: signer.kid });
    const set = jwks([signer]);
    expect(set.keys[0]).not.toHaveProperty('d'); // never the private part
    const { payload } = await compactVerify(token, createLocalJWKSet(set));
    expect(JSON.parse(new TextDecoder().decode(payload)).txn).toBe('t1');
  });

  it('signs ES256 too', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = await loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'ES256');
    const token = await signSet({ hello: 'world' }, signer);
    await expect(compactVerify(token, createLocalJWKSet(jwks([signer])))).resolves.toBeTruthy();
  });
});
