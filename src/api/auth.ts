// Bearer tokens from the environment, each with a name (recorded as "who" on responder actions) and a role:
//   read     list and read incidents, sessions, revocations, metrics
//   ingest   post events (SIEM forwarders and log shippers need nothing else)
//   respond  read, plus revoke sessions and change incident status
//   admin    everything (rules, exceptions, dead letters)
// RG_API_TOKENS entries are `name:role:secret`, or a bare secret (an admin token named token-N).
// Comparison is in constant time: both sides are hashed to a fixed length first, and every token is compared.
import { createHash, timingSafeEqual } from 'node:crypto';

export const ROLES = ['read', 'ingest', 'respond', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiToken {
  name: string;
  role: Role;
  secret: string;
}

export interface Identity {
  name: string;
  role: Role;
}

const GRANTS: Record<Role, ReadonlySet<Role>> = {
  read: new Set(['read']),
  ingest: new Set(['ingest']),
  respond: new Set(['read', 'respond']),
  admin: new Set(['read', 'ingest', 'respond', 'admin']),
};

export function allows(role: Role, needed: Role): boolean {
  return GRANTS[role].has(needed);
}

export class TokenConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

export function parseApiTokens(entries: readonly string[]): ApiToken[] {
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const m = /^([A-Za-z0-9_.-]{1,64}):([a-z]+):(.+)$/.exec(entry);
    const token: ApiToken = m ? { name: m[1]!, role: m[2] as Role, secret: m[3]! } : { name: `token-${i + 1}`, role: 'admin', secret: entry };
    if (!(ROLES as readonly string[]).includes(token.role)) throw new TokenConfigError(`RG_API_TOKENS entry ${i + 1}: role must be one of ${ROLES.join(', ')}`);
    if (token.secret.length < 16) throw new TokenConfigError(`RG_API_TOKENS entry ${i + 1} (${token.name}): the secret must be at least 16 characters`);
    if (seen.has(token.name)) throw new TokenConfigError(`RG_API_TOKENS: the name "${token.name}" is used twice`);
    seen.add(token.name);
    return token;
  });
}

export class TokenVerifier {
  readonly #tokens: { digest: Buffer; identity: Identity }[];

  constructor(tokens: readonly (ApiToken | string)[]) {
    const parsed = tokens.map((t, i) => (typeof t === 'string' ? parseApiTokens([t]).map((p) => ({ ...p, name: `token-${i + 1}` }))[0]! : t));
    this.#tokens = parsed.map((t) => ({ digest: createHash('sha256').update(t.secret).digest(), identity: { name: t.name, role: t.role } }));
  }

  identify(header: string | undefined): Identity | undefined {
    if (!header) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const presented = createHash('sha256').update(m[1]!).digest();
    let found: Identity | undefined;
    // Compare against every token, without stopping early.
    for (const t of this.#tokens) if (timingSafeEqual(presented, t.digest)) found ??= t.identity;
    return found;
  }

  verify(header: string | undefined): boolean {
    return this.identify(header) !== undefined;
  }
}
