// The response file (RG_RESPONSE_FILE, YAML or JSON): revocation policy, webhook endpoints and CAEP
// receivers. Secrets (webhook secrets, receiver bearer tokens, the SET signing key) are named by environment
// variable, never written in the file.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseYamlWithPositions, type FileError } from '../rules/yaml.js';
import { policySchema } from './policy.js';
import { decodeSecret } from './webhook-signature.js';

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'the NAME of an environment variable');
const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(50).default(10),
  base_delay_ms: z.number().int().min(1).default(5000),
  max_delay_ms: z.number().int().min(1).default(3_600_000),
}).default({ attempts: 10, base_delay_ms: 5000, max_delay_ms: 3_600_000 });

const url = z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL');

export const responseFileSchema = z.strictObject({
  /** `iss` of our SETs, and where receivers find /.well-known/jwks.json */
  issuer: z.string().url().default('http://127.0.0.1:7420/'),
  policy: policySchema.default(policySchema.parse({})),
  webhooks: z.array(z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    url,
    /** newest first; several during a secret rotation (every one signs each delivery) */
    secrets_env: z.array(envName).min(1).max(4),
    timeout_ms: z.number().int().min(100).max(60_000).default(15_000),
    retry: retrySchema,
  })).default([]),
  caep: z.array(z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    /** the receiver's RFC 8935 push endpoint */
    url,
    audience: z.string().min(1),
    authorization_env: envName.optional(),
    timeout_ms: z.number().int().min(100).max(60_000).default(15_000),
    retry: retrySchema,
  })).default([]),
  signing: z.strictObject({ key_env: envName, alg: z.enum(['RS256', 'ES256']).default('RS256') }).optional(),
});
export type ResponseFile = z.output<typeof responseFileSchema>;

export interface RetrySettings {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface WebhookTarget {
  kind: 'webhook';
  name: string;
  url: string;
  keys: Buffer[];
  timeoutMs: number;
  retry: RetrySettings;
}

export interface CaepTarget {
  kind: 'caep';
  name: string;
  url: string;
  audience: string;
  authorization?: string;
  timeoutMs: number;
  retry: RetrySettings;
}

export type Target = WebhookTarget | CaepTarget;

export interface ResponseConfig {
  issuer: string;
  policy: ResponseFile['policy'];
  targets: Target[];
  signing?: { pem: string; alg: 'RS256' | 'ES256' };
  killSwitch: boolean;
}

export class ResponseConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string, readonly errors: FileError[] = []) {
    super(message);
  }
}

const retryOf = (r: z.output<typeof retrySchema>): RetrySettings => ({ attempts: r.attempts, baseDelayMs: r.base_delay_ms, maxDelayMs: r.max_delay_ms });

export function resolveResponseConfig(file: ResponseFile, env: NodeJS.ProcessEnv, path = 'response file'): ResponseConfig {
  const need = (name: string, what: string): string => {
    const v = env[name];
    if (v === undefined || v === '') throw new ResponseConfigError(`${path}: ${what} names ${name}, which is not set`);
    return v;
  };
  const targets: Target[] = [];
  for (const w of file.webhooks) {
    const keys = w.secrets_env.map((n) => {
      try {
        return decodeSecret(need(n, `webhook "${w.name}"`));
      } catch (err) {
        if (err instanceof ResponseConfigError) throw err;
        throw new ResponseConfigError(`${path}: ${n} (webhook "${w.name}"): ${(err as Error).message}`);
      }
    });
    targets.push({ kind: 'webhook', name: w.name, url: w.url, keys, timeoutMs: w.timeout_ms, retry: retryOf(w.retry) });
  }
  for (const c of file.caep) {
    const t: CaepTarget = { kind: 'caep', name: c.name, url: c.url, audience: c.audience, timeoutMs: c.timeout_ms, retry: retryOf(c.retry) };
    if (c.authorization_env) t.authorization = need(c.authorization_env, `CAEP receiver "${c.name}"`);
    targets.push(t);
  }
  const names = targets.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ResponseConfigError(`${path}: target name "${dup}" is used twice`);
  if (file.caep.length > 0 && !file.signing) throw new ResponseConfigError(`${path}: CAEP receivers need signing: { key_env: ..., alg: RS256 }`);
  const out: ResponseConfig = { issuer: file.issuer, policy: file.policy, targets, killSwitch: env.RG_REVOCATION_KILL_SWITCH === '1' || env.RG_REVOCATION_KILL_SWITCH === 'true' };
  if (file.signing) out.signing = { pem: need(file.signing.key_env, 'signing').replace(/\\n/g, '\n'), alg: file.signing.alg };
  return out;
}

export async function loadResponseConfig(env: NodeJS.ProcessEnv): Promise<ResponseConfig> {
  const path = env.RG_RESPONSE_FILE;
  if (!path) return resolveResponseConfig(responseFileSchema.parse({}), env);
  const parsed = parseYamlWithPositions(await readFile(path, 'utf8'), path, responseFileSchema);
  if (!parsed.value) {
    throw new ResponseConfigError(`invalid response file:\n  ${parsed.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`).join('\n  ')}`, parsed.errors);
  }
  return resolveResponseConfig(parsed.value, env, path);
}
