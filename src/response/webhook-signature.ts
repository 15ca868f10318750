// Standard Webhooks v1 (symmetric): signature = base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
// sent as "v1,<sig>"; several signatures, space-separated, during a secret rotation. Secrets are shown to
// users as "whsec_<base64 key>". Receivers compare in constant time and bound the timestamp.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class WebhookSecretError extends Error {
  readonly code = 'WEBHOOK_SECRET_INVALID';
}

export class WebhookVerificationError extends Error {
  readonly code = 'WEBHOOK_VERIFICATION_FAILED';
}

const PREFIX = 'whsec_';

/** Decodes a whsec_ secret to its key bytes; the spec asks for 24 to 64 random bytes. */
export function decodeSecret(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new WebhookSecretError('a webhook secret is whsec_ followed by base64');
  const key = Buffer.from(b64, 'base64');
  if (key.length < 16 || key.length > 64) throw new WebhookSecretError(`a webhook secret must decode to 16..64 bytes, got ${key.length}`);
  return key;
}

export function sign(key: Buffer, id: string, timestamp: number, body: string | Buffer): string {
  if (id.includes('.') || !Number.isInteger(timestamp)) throw new WebhookVerificationError('webhook id must not contain "." and timestamp must be an integer');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export interface SignedHeaders extends Record<string, string> {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for one delivery attempt, signed with every current secret (rotation: old and new). */
export function signedHeaders(keys: readonly Buffer[], id: string, timestamp: number, body: string | Buffer): SignedHeaders {
  if (keys.length === 0) throw new WebhookSecretError('no webhook secret');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': keys.map((k) => sign(k, id, timestamp, body)).join(' '),
  };
}

/** Receiver side (used in tests and offered to integrators): throws unless one signature matches. */
export function verify(keys: readonly Buffer[], headers: Readonly<Partial<Record<string, string>>>, body: string | Buffer, nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = 300): void {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d+$/.test(ts)) throw new WebhookVerificationError('webhook-timestamp is not an integer');
  const t = Number(ts);
  if (nowSeconds - t > toleranceSeconds) throw new WebhookVerificationError('message timestamp too old');
  if (t > nowSeconds + toleranceSeconds) throw new WebhookVerificationError('message timestamp too new');
  const expected = keys.map((k) => Buffer.from(sign(k, id, t, body).slice(3), 'base64'));
  for (const candidate of sigs.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const got = Buffer.from(value, 'base64');
    for (const e of expected) if (got.length === e.length && timingSafeEqual(got, e)) return;
  }
  throw new WebhookVerificationError('no matching signature');
}
