// CAEP session-revoked Security Event Tokens (RFC 8417 SET, OpenID SSF/CAEP 1.0): one event per token,
// `typ: secevent+jwt`, a complex `sub_id` (session + user + tenant), no `sub` and no `exp`, `txn` = the
// incident id, a non-empty `reason_admin`; signed RS256 (CAEP interop profile) or ES256 with a configured key.
import { randomUUID } from 'node:crypto';
import { CompactSign, exportJWK, importPKCS8, calculateJwkThumbprint, type JWK, type CryptoKey, type KeyObject } from 'jose';

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

export type SetAlgorithm = 'RS256' | 'ES256';

export interface SetSigner {
  alg: SetAlgorithm | 'HS256';
  kid: string;
  key: CryptoKey | KeyObject | Uint8Array;
  /** the public JWK served at /.well-known/jwks.json (absent for HS256 test keys) */
  publicJwk?: JWK;
}

export async function loadSigner(pem: string, alg: SetAlgorithm): Promise<SetSigner> {
  const key = await importPKCS8(pem, alg, { extractable: true });
  const jwk = await exportJWK(key);
  // Public part only, whatever the key type.
  const pub: JWK = alg === 'RS256' ? { kty: jwk.kty, n: jwk.n, e: jwk.e } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(pub);
  return { alg, kid, key, publicJwk: { ...pub, kid, alg, use: 'sig' } };
}

export interface SessionRevokedInput {
  issuer: string;
  audience: string | string[];
  /** the incident (or manual revocation) that caused it: the same for every SET of one cause */
  txn: string;
  /** our session hash (the raw id is never known to us) */
  session: string;
  user?: string;
  tenant?: string;
  initiating: 'policy' | 'admin';
  reasonAdmin: string;
  reasonUser?: string;
  /** when the revocation was decided, epoch seconds */
  eventTimestamp: number;
  iat?: number;
  jti?: string;
}

export function sessionRevokedPayload(input: SessionRevokedInput): Record<string, unknown> {
  if (input.reasonAdmin.trim() === '') throw new Error('reason_admin must not be empty (CAEP interoperability profile)');
  const subId: Record<string, unknown> = { format: 'complex', session: { format: 'opaque', id: input.session } };
  if (input.user !== undefined) subId.user = input.user.includes('@') ? { format: 'email', email: input.user } : { format: 'opaque', id: input.user };
  if (input.tenant !== undefined) subId.tenant = { format: 'opaque', id: input.tenant };
  const event: Record<string, unknown> = { initiating_entity: input.initiating, reason_admin: { en: input.reasonAdmin } };
  if (input.reasonUser) event.reason_user = { en: input.reasonUser };
  event.event_timestamp = input.eventTimestamp;
  return {
    iss: input.issuer,
    jti: input.jti ?? randomUUID(),
    iat: input.iat ?? Math.floor(Date.now() / 1000),
    aud: input.audience,
    txn: input.txn,
    sub_id: subId,
    events: { [SESSION_REVOKED]: event },
  };
}

/** Signs exactly the bytes of the payload given (the test vector needs byte-exact serialisation). */
export async function signSet(payload: Record<string, unknown> | string, signer: SetSigner): Promise<string> {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ typ: 'secevent+jwt', alg: signer.alg, kid: signer.kid }).sign(signer.key);
}

export function jwks(signers: readonly SetSigner[]): { keys: JWK[] } {
  return { keys: signers.flatMap((s) => (s.publicJwk ? [s.publicJwk] : [])) };
}
